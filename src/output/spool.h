// A bounded, crash-safe FIFO of Records on disk: the NATS writer appends every
// record here first and removes it once JetStream has acknowledged it, so a
// record survives an unreachable server and a restart of the agent.
//
// On disk, a directory:
//   lock                     flock'd by the one process that owns the spool
//   ack                      "ward-spool-ack 1 <segment> <offset>": where the
//                            unacknowledged records start (rewritten by rename)
//   <20-digit seq>.seg       append-only segment files, oldest = lowest seq
// A segment is a 16-byte header ("WSPL", u32 version 1, u64 seq) and then
// records, each:
//   u32 magic 0x43455257 ("WREC") | u32 body length | u32 CRC-32 of
//   (length bytes + body) | body
// and a body is: u8 version 1, u32 event_type, u64 time_ns, i32 pid, then
// id (u32 length + bytes), event_name (u16 + bytes), path (u32 + bytes),
// payload (u32 + bytes). All integers little-endian.
//
// A record whose checksum does not match is skipped and counted
// (corrupt_records); reading resumes at the next record header, so one bad
// record costs only itself. A segment is never appended to after a restart (a
// torn tail from a crash stays a torn tail; a new segment is started).
//
// The bound (max_bytes, all segment files together) and what happens when an
// append would pass it:
//   kDropOldest   whole segments are deleted, oldest first, and their records
//                 counted in dropped. Segments that hold records sent but not
//                 yet acknowledged are never dropped (their delivery is in
//                 doubt); if nothing else can go, the new record is dropped.
//   kBlockNotify  the new record is refused with an error (and counted in
//                 dropped) so the caller can stop NOTIFY output while AUTH
//                 goes on; append never waits for space.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "output/writer.h"
#include "ward/status.h"

namespace ward::output {

enum class SpoolFullPolicy { kDropOldest, kBlockNotify };

// "drop_oldest" / "block_notify" (the config names).
Result<SpoolFullPolicy> parse_spool_full_policy(std::string_view name);
std::string_view spool_full_policy_name(SpoolFullPolicy policy);

struct SpoolOptions {
  std::string directory;
  uint64_t max_bytes = 256ull << 20;
  uint64_t segment_bytes = 16ull << 20;  // capped at max_bytes / 4
  SpoolFullPolicy full_policy = SpoolFullPolicy::kDropOldest;
  bool fsync_on_flush = true;  // flush() also survives a power loss
};

struct SpoolPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const SpoolPosition&) const = default;
};

struct SpooledRecord {
  Record record;
  SpoolPosition end;  // acknowledge(end, …) removes this record and all before it
};

struct SpoolStats {
  uint64_t records = 0;  // appended, not acknowledged, not dropped
  uint64_t bytes = 0;    // all segment files, including the write buffer
  uint64_t segments = 0;
  uint64_t appended = 0;         // since open
  uint64_t acknowledged = 0;     // since open
  uint64_t dropped = 0;          // policy drops and refusals, since open
  uint64_t corrupt_records = 0;  // checksum or framing errors met while reading
  uint64_t torn_tails = 0;       // incomplete last records (a crash while appending)
  std::string last_error;        // the last write failure, if any
};

class Spool {
 public:
  static constexpr uint64_t kMaxRecordBytes = 16ull << 20;

  static Result<std::unique_ptr<Spool>> open(SpoolOptions options);
  ~Spool();  // writes the buffer and the ack position
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  enum class AppendOutcome { kAppended, kDropped, kRefused, kFailed };
  // Appends one record at the tail (buffered; flush() writes it out). kDropped
  // (drop_oldest, nothing older could go) returns OK; kRefused (block_notify)
  // and kFailed (I/O, too large) return the error.
  Status append(const Record& record, AppendOutcome* outcome = nullptr);
  // Writes the buffer to the segment file (and fdatasyncs it if configured).
  Status flush();

  // The reader side (one consumer). read() hands out up to max_records from
  // the read position on and advances it; rewind() goes back to the oldest
  // unacknowledged record, to send again what may not have arrived.
  Status read(size_t max_records, std::vector<SpooledRecord>& out);
  void rewind();
  // Everything before `end` was delivered: `records` of them.
  Status acknowledge(SpoolPosition end, uint64_t records);

  bool empty() const;  // nothing unacknowledged
  bool has_unread() const;
  SpoolStats stats() const;
  const SpoolOptions& options() const { return options_; }

 private:
  struct Segment {
    uint64_t bytes = 0;    // in the file (plus the write buffer for the active one)
    uint64_t records = 0;  // framed records in it
    uint64_t acked_records = 0;
    bool sealed = true;  // complete: not being appended to
  };

  explicit Spool(SpoolOptions options);
  Status open_locked();
  Status start_segment_locked();
  Status write_buffer_locked();
  Status make_room_locked(uint64_t needed);
  bool in_doubt_locked(uint64_t segment) const;
  void drop_segment_locked(std::map<uint64_t, Segment>::iterator it);
  Status persist_ack_locked();
  std::string segment_path(uint64_t seq) const;
  uint64_t total_bytes_locked() const;
  Status read_segment_bytes_locked(uint64_t seq, uint64_t offset, size_t length, std::string& out);
  void normalize_locked(SpoolPosition& position) const;

  SpoolOptions options_;
  mutable std::mutex mu_;
  int lock_fd_ = -1;
  int active_fd_ = -1;
  uint64_t active_seq_ = 0;
  std::string buffer_;  // appended records not yet in the active file
  std::map<uint64_t, Segment> segments_;
  SpoolPosition read_;
  SpoolPosition ack_;
  SpoolPosition read_high_;  // the furthest read since open: [ack_, read_high_) is in doubt
  SpoolStats stats_;
  std::string scratch_;
  std::string last_error_;
  std::chrono::steady_clock::time_point ack_persisted_{};
  int read_fd_ = -1;
  uint64_t read_fd_seq_ = 0;
};

}  // namespace ward::output
