// Writers (sinks) take serialized records and put them somewhere: stdout, a
// rotating file, syslog, the SQLite store, NATS JetStream. A writer never
// knows the event types; a serializer never knows its writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ward/status.h"

namespace ward::output {

// One serialized event and what a sink may index it by, without parsing it.
struct Record {
  std::string id;          // stable across re-sends: JetStream's Nats-Msg-Id
  uint32_t event_type = 0; // ES number
  std::string event_name;  // "exec"
  uint64_t time_ns = 0;    // realtime
  int32_t pid = 0;
  std::string path;        // the event's main path (target executable, file), may be empty
  std::string payload;     // the serialized event, one line, no newline
};

struct WriterCounters {
  uint64_t written = 0;
  uint64_t errors = 0;
  uint64_t dropped = 0;  // refused by a bound (spool full, …) and counted
};

class Writer {
 public:
  virtual ~Writer() = default;
  virtual std::string_view name() const = 0;
  // Accepts one record. An error is counted and reported, never thrown.
  virtual Status write(const Record& record) = 0;
  // Makes accepted records durable / visible (fsync, network flush, commit).
  virtual Status flush() = 0;
  virtual WriterCounters counters() const = 0;
};

}  // namespace ward::output
