#include "output/stdout_writer.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace ward::output {
namespace {

std::string errno_text(int err) { return std::generic_category().message(err); }

}  // namespace

StdoutWriter::StdoutWriter(StdoutWriterOptions options) : options_(options) {
  buffer_.reserve(options_.flush_bytes + 4096);
}

StdoutWriter::~StdoutWriter() {
  std::lock_guard lock(mutex_);
  (void)drain(true);
}

Status StdoutWriter::write(const Record& record) {
  std::lock_guard lock(mutex_);
  if (record.payload.find('\n') != std::string::npos) {
    ++counters_.errors;
    return Status::error("stdout: record " + record.id + " contains a newline; records are single lines");
  }
  std::size_t line = record.payload.size() + 1;
  if (buffer_.size() + line > options_.max_buffer_bytes) {
    (void)drain(false);
    if (buffer_.size() + line > options_.max_buffer_bytes) {
      ++counters_.dropped;
      return Status::error("stdout: output is not taking bytes (" + std::to_string(buffer_.size()) +
                           " bytes waiting); record dropped");
    }
  }
  buffer_ += record.payload;
  buffer_ += '\n';
  if (buffer_.size() >= options_.flush_bytes) return drain(false);
  return Status::ok();
}

Status StdoutWriter::flush() {
  std::lock_guard lock(mutex_);
  return drain(true);
}

WriterCounters StdoutWriter::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

Status StdoutWriter::drain(bool wait) {
  std::size_t done = 0;
  Status status;
  while (done < buffer_.size()) {
    ssize_t n = ::write(options_.fd, buffer_.data() + done, buffer_.size() - done);
    if (n > 0) {
      // Each record ends with the only newline it has: count whole lines out.
      counters_.written +=
          static_cast<uint64_t>(std::count(buffer_.begin() + static_cast<std::ptrdiff_t>(done),
                                           buffer_.begin() + static_cast<std::ptrdiff_t>(done) + n, '\n'));
      done += static_cast<std::size_t>(n);
      continue;
    }
    int err = n < 0 ? errno : EIO;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (!wait) break;  // the bytes stay; the next write or flush tries again
      pollfd p{options_.fd, POLLOUT, 0};
      if (::poll(&p, 1, options_.flush_timeout_ms) > 0) continue;
      status = Status::error("stdout: output did not take " + std::to_string(buffer_.size() - done) +
                             " bytes within " + std::to_string(options_.flush_timeout_ms) + " ms; kept");
      break;
    }
    ++counters_.errors;
    status = Status::error("stdout: write failed: " + errno_text(err) + "; " +
                           std::to_string(buffer_.size() - done) + " bytes kept");
    break;
  }
  buffer_.erase(0, done);
  return status;
}

}  // namespace ward::output
