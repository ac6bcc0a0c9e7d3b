// Writes records to standard output (or any fd), one line each, buffered:
// bytes go out when the buffer fills and on flush(). Records are appended to
// the buffer whole, so a line is never interleaved with another.
//
// A process that writes to a pipe should ignore SIGPIPE (ward log does); a
// closed reader then shows up as counted EPIPE errors instead of a signal.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <mutex>
#include <string>

#include "output/writer.h"

namespace ward::output {

struct StdoutWriterOptions {
  int fd = STDOUT_FILENO;
  std::size_t flush_bytes = 64 * 1024;  // write(2) once this much is buffered
  // While the output cannot take bytes (a blocked or broken pipe) records
  // wait in the buffer up to this size; beyond it they are refused and
  // counted as dropped.
  std::size_t max_buffer_bytes = 8 * 1024 * 1024;
  int flush_timeout_ms = 1000;  // how long flush() waits for a non-blocking fd
};

class StdoutWriter final : public Writer {
 public:
  explicit StdoutWriter(StdoutWriterOptions options = {});
  ~StdoutWriter() override;  // flushes what it can
  StdoutWriter(const StdoutWriter&) = delete;
  StdoutWriter& operator=(const StdoutWriter&) = delete;

  std::string_view name() const override { return "stdout"; }
  Status write(const Record& record) override;
  Status flush() override;
  WriterCounters counters() const override;

 private:
  // Writes out as much of the buffer as the fd takes; what it does not take
  // stays. wait: poll a non-blocking fd up to flush_timeout_ms.
  Status drain(bool wait);

  StdoutWriterOptions options_;
  mutable std::mutex mutex_;
  std::string buffer_;
  WriterCounters counters_;
};

}  // namespace ward::output
