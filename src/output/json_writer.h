// A streaming JSON writer for the output hot path: appends to a string, no
// DOM, no allocation per value. (nlohmann-json parses config and tests; a DOM
// per event costs ~10x more than this on the path every event takes.)
//
// Strings are emitted as valid UTF-8 whatever their bytes: control characters
// are escaped, and each byte that is not part of a valid UTF-8 sequence
// becomes U+FFFD, so every line parses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ward::output {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view k);

  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(bool b);
  void value(int64_t v);
  void value(uint64_t v);
  void value(int32_t v) { value(static_cast<int64_t>(v)); }
  void value(uint32_t v) { value(static_cast<uint64_t>(v)); }
  void null();
  // Already-serialized JSON (trusted input only).
  void raw(std::string_view json);

 private:
  void open(char c);
  void close(char c);
  void separate();

  std::string& out_;
  std::vector<bool> first_;  // per open container: no element yet
  bool after_key_ = false;
};

// Appends `s` as a JSON string literal (with quotes).
void append_json_string(std::string& out, std::string_view s);

// RFC 3339 UTC with nanoseconds: 2026-12-01T22:05:44.123456789Z
std::string format_rfc3339_ns(uint64_t ns_since_epoch);

}  // namespace ward::output
