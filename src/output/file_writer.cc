#include "output/file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>

namespace ward::output {
namespace {

std::string errno_text(int err) { return std::generic_category().message(err); }

}  // namespace

Result<std::unique_ptr<RotatingFileWriter>> RotatingFileWriter::open(FileWriterOptions options) {
  if (options.path.empty()) return Status::error("file writer: no path given");
  if (options.max_file_bytes == 0)
    return Status::error("file writer " + options.path + ": max_file_bytes is 0");
  if (options.keep_files == 0) return Status::error("file writer " + options.path + ": keep_files is 0");
  std::unique_ptr<RotatingFileWriter> writer(new RotatingFileWriter(std::move(options)));
  if (Status s = writer->open_current(); !s) return s;
  return writer;
}

RotatingFileWriter::RotatingFileWriter(FileWriterOptions options) : options_(std::move(options)) {}

RotatingFileWriter::~RotatingFileWriter() {
  std::lock_guard lock(mutex_);
  (void)drain();
  if (fd_ >= 0) ::close(fd_);
}

std::string RotatingFileWriter::rotated_path(unsigned index) const {
  return index == 0 ? options_.path : options_.path + "." + std::to_string(index);
}

Status RotatingFileWriter::open_current() {
  // Read-write only to look at the last byte below; writes always append.
  int fd = ::open(options_.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, options_.mode);
  if (fd < 0) return Status::error("cannot open " + options_.path + ": " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::error("cannot stat " + options_.path + ": " + errno_text(err));
  }
  file_bytes_ = static_cast<uint64_t>(st.st_size);
  // A file left with a partial last line (a crash mid-write) gets a newline
  // first, so the next record starts a line of its own.
  if (file_bytes_ > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n' && ::write(fd, "\n", 1) == 1)
      ++file_bytes_;
  }
  fd_ = fd;
  return Status::ok();
}

Status RotatingFileWriter::write(const Record& record) {
  std::lock_guard lock(mutex_);
  if (record.payload.find('\n') != std::string::npos) {
    ++counters_.errors;
    return Status::error(options_.path + ": record " + record.id +
                         " contains a newline; records are single lines");
  }
  uint64_t line = record.payload.size() + 1;
  if (line > options_.max_file_bytes) {
    ++counters_.dropped;
    return Status::error(options_.path + ": record of " + std::to_string(line) +
                         " bytes is larger than max_file_bytes " + std::to_string(options_.max_file_bytes) +
                         "; dropped");
  }
  if (fd_ < 0) {
    if (Status s = open_current(); !s) {
      ++counters_.errors;
      return Status::error(s.message() + "; record not written");
    }
  }
  if (file_bytes_ + buffer_.size() + line > options_.max_file_bytes) {
    // The record starts the next file: everything before it goes into this one.
    if (Status s = drain(); !s) return Status::error(s.message() + "; record not written");
    if (Status s = rotate(); !s) {
      ++counters_.errors;
      return Status::error(s.message() + "; record not written");
    }
  }
  buffer_ += record.payload;
  buffer_ += '\n';
  if (buffer_.size() >= options_.buffer_bytes) return drain();
  return Status::ok();
}

Status RotatingFileWriter::drain() {
  if (buffer_.empty()) return Status::ok();
  if (fd_ < 0) {
    ++counters_.errors;
    return Status::error(options_.path + ": not open; " + std::to_string(buffer_.size()) + " bytes kept");
  }
  std::size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    int err = n < 0 ? errno : EIO;
    if (err == EINTR) continue;
    // Keep the file at a record boundary: cut a partly written record off
    // again, and keep it (whole) in the buffer for the next attempt.
    std::size_t whole = buffer_.rfind('\n', done == 0 ? 0 : done - 1);
    whole = (done == 0 || whole == std::string::npos) ? 0 : whole + 1;
    if (whole != done) (void)::ftruncate(fd_, static_cast<off_t>(file_bytes_ + whole));
    counters_.written += static_cast<uint64_t>(
        std::count(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(whole), '\n'));
    file_bytes_ += whole;
    buffer_.erase(0, whole);
    ++counters_.errors;
    return Status::error("write to " + options_.path + " failed: " + errno_text(err) + "; " +
                         std::to_string(buffer_.size()) + " bytes kept");
  }
  counters_.written += static_cast<uint64_t>(std::count(buffer_.begin(), buffer_.end(), '\n'));
  file_bytes_ += buffer_.size();
  buffer_.clear();
  return Status::ok();
}

Status RotatingFileWriter::rotate() {
  ::close(fd_);
  fd_ = -1;
  if (options_.keep_files == 1) {
    if (::unlink(options_.path.c_str()) != 0 && errno != ENOENT)
      return Status::error("cannot remove " + options_.path + " to rotate it: " + errno_text(errno));
  }
  // path.(N-2) -> path.(N-1) (replacing the oldest), ..., path -> path.1.
  for (unsigned i = options_.keep_files - 1; i >= 1; --i) {
    std::string from = rotated_path(i - 1);
    std::string to = rotated_path(i);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
      return Status::error("cannot rotate " + from + " to " + to + ": " + errno_text(errno));
  }
  ++rotations_;
  return open_current();
}

Status RotatingFileWriter::flush() {
  std::lock_guard lock(mutex_);
  if (fd_ < 0) {
    if (Status s = open_current(); !s) {
      ++counters_.errors;
      return Status::error(s.message() + "; " + std::to_string(buffer_.size()) + " bytes kept");
    }
  }
  if (Status s = drain(); !s) return s;
  if (options_.sync_on_flush && ::fdatasync(fd_) != 0) {
    ++counters_.errors;
    return Status::error("fdatasync " + options_.path + ": " + errno_text(errno));
  }
  return Status::ok();
}

WriterCounters RotatingFileWriter::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

uint64_t RotatingFileWriter::rotations() const {
  std::lock_guard lock(mutex_);
  return rotations_;
}

}  // namespace ward::output
