// A rotating log file: records as lines in `path`; when the next record would
// make it larger than max_file_bytes, the files shift by rename (path.N-2 ->
// path.N-1, ..., path -> path.1) and a new `path` starts. At most keep_files
// files exist: path, path.1 ... path.(keep_files-1).
//
// What is kept and what is not:
//  - A record is never split: it goes whole into one file, and no file grows
//    past max_file_bytes.
//  - Rotation deletes the oldest file (path.(keep_files-1)) with its records:
//    that is the retention asked for; rotations() counts it.
//  - A record longer than max_file_bytes (with its newline) fits no file: it
//    is refused and counted as dropped.
//  - When the file cannot be written (disk full, I/O error) the records stay
//    buffered, up to the room left in the current file, and are written by a
//    later write() or flush(); a record that finds no room then is refused
//    with an error (counted) and not written. Every refusal is a Status the
//    caller sees; nothing goes silently.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "output/writer.h"
#include "ward/status.h"

namespace ward::output {

struct FileWriterOptions {
  std::string path{};
  uint64_t max_file_bytes = 64ull * 1024 * 1024;
  unsigned keep_files = 5;               // the current file included
  std::size_t buffer_bytes = 64 * 1024;  // write(2) once this much is buffered
  bool sync_on_flush = true;             // fdatasync(2) in flush()
  mode_t mode = 0640;                    // for new files: events name users' files and commands
};

class RotatingFileWriter final : public Writer {
 public:
  // Opens (or appends to) options.path. Fails with the path and the reason
  // when the file cannot be opened or the options make no sense.
  static Result<std::unique_ptr<RotatingFileWriter>> open(FileWriterOptions options);

  ~RotatingFileWriter() override;  // flushes what it can, closes
  RotatingFileWriter(const RotatingFileWriter&) = delete;
  RotatingFileWriter& operator=(const RotatingFileWriter&) = delete;

  std::string_view name() const override { return "file"; }
  Status write(const Record& record) override;
  Status flush() override;
  WriterCounters counters() const override;
  uint64_t rotations() const;

 private:
  explicit RotatingFileWriter(FileWriterOptions options);
  Status open_current();
  Status drain();
  Status rotate();
  std::string rotated_path(unsigned index) const;

  FileWriterOptions options_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  uint64_t file_bytes_ = 0;  // in the current file on disk
  std::string buffer_;       // whole records for the current file
  WriterCounters counters_;
  uint64_t rotations_ = 0;
};

}  // namespace ward::output
