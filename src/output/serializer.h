// Serializers turn a Message into bytes; they never know where the bytes go
// (writers do that) and never branch on an event type by hand where the
// event table can tell them.
#pragma once

#include <memory>
#include <string>

#include "ward/client.h"
#include "ward/message.h"

namespace ward::output {

class Serializer {
 public:
  virtual ~Serializer() = default;
  // Appends one record, without a trailing newline.
  virtual void serialize(const Message& message, std::string& out) const = 0;
  // Appends one record saying what was lost.
  virtual void serialize_drop(const DropReport& drop, std::string& out) const = 0;
};

// eslogger-style JSON: Apple's es_message_t field names.
std::unique_ptr<Serializer> make_eslogger_json_serializer();

inline constexpr uint32_t kEsloggerSchemaVersion = 1;

}  // namespace ward::output
