#include "output/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

namespace ward::output {
namespace {

constexpr char kSegmentMagic[4] = {'W', 'S', 'P', 'L'};
constexpr uint32_t kSegmentVersion = 1;
constexpr uint64_t kSegmentHeaderBytes = 16;
constexpr uint32_t kRecordMagic = 0x43455257;  // "WREC" little-endian
constexpr size_t kFrameHeaderBytes = 12;
constexpr uint8_t kBodyVersion = 1;
constexpr size_t kWriteBufferBytes = 256 * 1024;
constexpr size_t kReadWindowBytes = 1024 * 1024;
constexpr const char* kAckFile = "ack";
constexpr const char* kLockFile = "lock";

std::string errno_text(int err) { return std::strerror(err); }

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void set_u32(char* at, uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t get_u32(const char* at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(at[i])) << (8 * i);
  return v;
}
uint64_t get_u64(const char* at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(at[i])) << (8 * i);
  return v;
}

// The checksum covers the length field too, so a damaged length is caught.
uint32_t frame_crc(const char* frame_header, const char* body, size_t body_length) {
  const uLong over_length = crc32(0L, reinterpret_cast<const Bytef*>(frame_header + 4), 4);
  return static_cast<uint32_t>(
      crc32(over_length, reinterpret_cast<const Bytef*>(body), static_cast<uInt>(body_length)));
}

size_t body_bytes(const Record& r) {
  return 1 + 4 + 8 + 4 + 4 + r.id.size() + 2 + r.event_name.size() + 4 + r.path.size() + 4 + r.payload.size();
}

// A cursor over a body; every read is bounds-checked.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : body_(body) {}
  bool u8(uint8_t& v) { return fixed(1, [&](const char* p) { v = static_cast<uint8_t>(*p); }); }
  bool u16(uint16_t& v) {
    return fixed(2, [&](const char* p) {
      v = static_cast<uint16_t>(static_cast<unsigned char>(p[0]) | (static_cast<unsigned char>(p[1]) << 8));
    });
  }
  bool u32(uint32_t& v) { return fixed(4, [&](const char* p) { v = get_u32(p); }); }
  bool u64(uint64_t& v) { return fixed(8, [&](const char* p) { v = get_u64(p); }); }
  bool bytes(size_t n, std::string& out) {
    if (body_.size() - pos_ < n) return false;
    out.assign(body_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool at_end() const { return pos_ == body_.size(); }

 private:
  template <typename F>
  bool fixed(size_t n, F&& f) {
    if (body_.size() - pos_ < n) return false;
    f(body_.data() + pos_);
    pos_ += n;
    return true;
  }
  std::string_view body_;
  size_t pos_ = 0;
};

bool decode_body(std::string_view body, Record& r) {
  BodyReader in(body);
  uint8_t version = 0;
  uint32_t event_type = 0, id_len = 0, path_len = 0, payload_len = 0;
  uint64_t time_ns = 0;
  uint32_t pid = 0;
  uint16_t name_len = 0;
  if (!in.u8(version) || version != kBodyVersion) return false;
  if (!in.u32(event_type) || !in.u64(time_ns) || !in.u32(pid)) return false;
  if (!in.u32(id_len) || !in.bytes(id_len, r.id)) return false;
  if (!in.u16(name_len) || !in.bytes(name_len, r.event_name)) return false;
  if (!in.u32(path_len) || !in.bytes(path_len, r.path)) return false;
  if (!in.u32(payload_len) || !in.bytes(payload_len, r.payload)) return false;
  r.event_type = event_type;
  r.time_ns = time_ns;
  r.pid = static_cast<int32_t>(pid);
  return in.at_end();
}

// Where the next record header could start at or after `from`, or npos.
size_t find_record_magic(std::string_view data, size_t from) {
  char magic[4];
  set_u32(magic, kRecordMagic);
  return data.find(std::string_view(magic, 4), from);
}

Status pread_exact(int fd, uint64_t offset, size_t length, std::string& out, const std::string& path) {
  out.resize(length);
  size_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::error("spool: reading " + path + ": " + errno_text(errno));
    if (n == 0) {
      out.resize(done);  // shorter than the index says: the reader treats the rest as a torn tail
      return Status::ok();
    }
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Status write_all(int fd, const char* data, size_t length, const std::string& path) {
  size_t done = 0;
  while (done < length) {
    const ssize_t n = ::write(fd, data + done, length - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::error("spool: writing " + path + ": " + errno_text(errno));
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

// "00000000000000000042.seg" → 42.
std::optional<uint64_t> parse_segment_name(const std::string& name) {
  if (name.size() != 24 || !name.ends_with(".seg")) return std::nullopt;
  uint64_t seq = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    seq = seq * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return seq;
}

}  // namespace

Result<SpoolFullPolicy> parse_spool_full_policy(std::string_view name) {
  if (name == "drop_oldest") return SpoolFullPolicy::kDropOldest;
  if (name == "block_notify") return SpoolFullPolicy::kBlockNotify;
  return Status::error("unknown spool full policy \"" + std::string(name) + "\" (drop_oldest, block_notify)");
}

std::string_view spool_full_policy_name(SpoolFullPolicy policy) {
  return policy == SpoolFullPolicy::kDropOldest ? "drop_oldest" : "block_notify";
}

Spool::Spool(SpoolOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<Spool>> Spool::open(SpoolOptions options) {
  if (options.directory.empty()) return Status::error("spool: no directory given");
  if (options.max_bytes < 64 * 1024) return Status::error("spool: max_bytes must be at least 64 KiB");
  options.segment_bytes = std::clamp<uint64_t>(options.segment_bytes, 4096, options.max_bytes / 4);
  std::unique_ptr<Spool> spool(new Spool(std::move(options)));
  std::lock_guard lock(spool->mu_);
  if (auto s = spool->open_locked(); !s) return s;
  return spool;
}

std::string Spool::segment_path(uint64_t seq) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(seq));
  return options_.directory + "/" + name;
}

Status Spool::open_locked() {
  const std::string& dir = options_.directory;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::error("spool: cannot create directory " + dir + ": " + ec.message());
  if (!std::filesystem::is_directory(dir, ec)) return Status::error("spool: " + dir + " is not a directory");

  const std::string lock_path = dir + "/" + kLockFile;
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return Status::error("spool: directory " + dir + " is not writable: " + errno_text(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status::error("spool: " + dir + " is in use by another process (" + errno_text(errno) + ")");
  }

  // Where the previous run stopped acknowledging.
  std::optional<SpoolPosition> saved_ack;
  if (std::ifstream ack_in(dir + "/" + kAckFile); ack_in) {
    std::string tag;
    int version = 0;
    SpoolPosition p;
    if (ack_in >> tag >> version >> p.segment >> p.offset && tag == "ward-spool-ack" && version == 1) saved_ack = p;
  }

  std::vector<uint64_t> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (auto seq = parse_segment_name(entry.path().filename().string())) found.push_back(*seq);
  }
  if (ec) return Status::error("spool: cannot list " + dir + ": " + ec.message());
  std::sort(found.begin(), found.end());

  std::string data;
  for (uint64_t seq : found) {
    const std::string path = segment_path(seq);
    if (saved_ack && seq < saved_ack->segment) {
      ::unlink(path.c_str());  // acknowledged before the previous run stopped
      continue;
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::error("spool: cannot open " + path + ": " + errno_text(errno));
    struct stat st {};
    ::fstat(fd, &st);
    Status s = pread_exact(fd, 0, static_cast<size_t>(st.st_size), data, path);
    ::close(fd);
    if (!s) return s;
    if (data.size() < kSegmentHeaderBytes || std::memcmp(data.data(), kSegmentMagic, 4) != 0 ||
        get_u32(data.data() + 4) != kSegmentVersion || get_u64(data.data() + 8) != seq) {
      // Not one of ours, or its header is damaged: keep it for inspection, out of the way.
      std::filesystem::rename(path, path + ".corrupt", ec);
      ++stats_.corrupt_records;
      continue;
    }
    // Count the records (for drop accounting) and those before the saved ack
    // position; the reader verifies checksums and counts bad records later.
    Segment segment;
    segment.bytes = data.size();
    const uint64_t acked_before =
        saved_ack && saved_ack->segment == seq ? saved_ack->offset : kSegmentHeaderBytes;
    size_t pos = kSegmentHeaderBytes;
    while (data.size() - pos >= kFrameHeaderBytes) {
      const uint32_t length = get_u32(data.data() + pos + 4);
      if (get_u32(data.data() + pos) != kRecordMagic || length > kMaxRecordBytes ||
          data.size() - pos - kFrameHeaderBytes < length) {
        const size_t next = find_record_magic(data, pos + 1);
        if (next == std::string::npos) break;
        pos = next;
        continue;
      }
      pos += kFrameHeaderBytes + length;
      ++segment.records;
      if (pos <= acked_before) ++segment.acked_records;
    }
    segments_[seq] = segment;
  }

  if (saved_ack && segments_.contains(saved_ack->segment)) {
    ack_ = *saved_ack;
    ack_.offset = std::clamp<uint64_t>(ack_.offset, kSegmentHeaderBytes, segments_[ack_.segment].bytes);
  } else if (!segments_.empty()) {
    ack_ = {segments_.begin()->first, kSegmentHeaderBytes};
  }

  active_seq_ = found.empty() ? 0 : found.back();
  if (auto s = start_segment_locked(); !s) return s;
  if (segments_.size() == 1) ack_ = {active_seq_, kSegmentHeaderBytes};
  normalize_locked(ack_);
  read_ = ack_;
  read_high_ = ack_;
  return Status::ok();
}

Status Spool::start_segment_locked() {
  if (active_fd_ >= 0) {
    if (auto s = write_buffer_locked(); !s) return s;
    if (options_.fsync_on_flush) ::fdatasync(active_fd_);
    ::close(active_fd_);
    active_fd_ = -1;
    segments_[active_seq_].sealed = true;
  }
  const uint64_t seq = active_seq_ + 1;
  const std::string path = segment_path(seq);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error("spool: cannot create " + path + ": " + errno_text(errno));
  std::string header(kSegmentMagic, 4);
  put_u32(header, kSegmentVersion);
  put_u64(header, seq);
  if (auto s = write_all(fd, header.data(), header.size(), path); !s) {
    ::close(fd);
    ::unlink(path.c_str());
    return s;
  }
  active_fd_ = fd;
  active_seq_ = seq;
  Segment segment;
  segment.bytes = kSegmentHeaderBytes;
  segment.sealed = false;
  segments_[seq] = segment;
  return Status::ok();
}

Status Spool::write_buffer_locked() {
  if (buffer_.empty() || active_fd_ < 0) return Status::ok();
  const std::string path = segment_path(active_seq_);
  const off_t before = ::lseek(active_fd_, 0, SEEK_END);
  if (auto s = write_all(active_fd_, buffer_.data(), buffer_.size(), path); !s) {
    // Never leave half a record behind: cut the file back; the records stay
    // buffered (and counted against the bound) for the next attempt.
    if (before >= 0 && ::ftruncate(active_fd_, before) != 0) {
      return Status::error(s.message() + "; and truncating it back failed: " + errno_text(errno));
    }
    return s;
  }
  buffer_.clear();
  return Status::ok();
}

uint64_t Spool::total_bytes_locked() const {
  uint64_t total = 0;
  for (const auto& [seq, segment] : segments_) total += segment.bytes;
  return total;
}

bool Spool::in_doubt_locked(uint64_t segment) const {
  return ack_ < read_high_ && segment >= ack_.segment && segment <= read_high_.segment;
}

void Spool::drop_segment_locked(std::map<uint64_t, Segment>::iterator it) {
  const uint64_t seq = it->first;
  const uint64_t lost = it->second.records - std::min(it->second.records, it->second.acked_records);
  stats_.dropped += lost;
  ::unlink(segment_path(seq).c_str());
  if (read_fd_ >= 0 && read_fd_seq_ == seq) {
    ::close(read_fd_);
    read_fd_ = -1;
  }
  segments_.erase(it);
  normalize_locked(ack_);
  normalize_locked(read_);
  if (read_ < ack_) read_ = ack_;
  if (read_high_ < ack_) read_high_ = ack_;
}

Status Spool::make_room_locked(uint64_t needed) {
  while (total_bytes_locked() + needed > options_.max_bytes) {
    if (options_.full_policy == SpoolFullPolicy::kBlockNotify) {
      ++stats_.dropped;
      return Status::error("spool full (" + std::to_string(options_.max_bytes) +
                           " bytes): record refused (policy block_notify); stop NOTIFY output until it drains");
    }
    auto victim = segments_.end();
    for (auto it = segments_.begin(); it != segments_.end(); ++it) {
      if (it->first == active_seq_) break;
      if (!in_doubt_locked(it->first)) {
        victim = it;
        break;
      }
    }
    if (victim == segments_.end()) {
      // Everything older is in flight: the new record is the one that goes.
      ++stats_.dropped;
      return Status::error("spool full and every older record is awaiting acknowledgement: record dropped");
    }
    drop_segment_locked(victim);
    persist_ack_locked();
  }
  return Status::ok();
}

Status Spool::append(const Record& r, AppendOutcome* outcome) {
  AppendOutcome ignored;
  AppendOutcome& result = outcome != nullptr ? *outcome : ignored;
  result = AppendOutcome::kFailed;
  const size_t body = body_bytes(r);
  const size_t frame = kFrameHeaderBytes + body;
  if (r.event_name.size() > 0xffff || frame > kMaxRecordBytes || frame > options_.max_bytes / 4) {
    return Status::error("spool: record " + r.id + " is too large (" + std::to_string(frame) + " bytes)");
  }
  std::lock_guard lock(mu_);
  Segment* active = &segments_[active_seq_];
  if (active->records > 0 && active->bytes + frame > options_.segment_bytes) {
    if (auto s = start_segment_locked(); !s) return s;
  }
  if (auto s = make_room_locked(frame); !s) {
    // kDropOldest drops the new record only when nothing older may go; that
    // is a drop, counted, not a failure of the caller's.
    if (options_.full_policy == SpoolFullPolicy::kDropOldest) {
      result = AppendOutcome::kDropped;
      return Status::ok();
    }
    result = AppendOutcome::kRefused;
    return s;
  }
  active = &segments_[active_seq_];
  result = AppendOutcome::kAppended;

  const size_t start = buffer_.size();
  buffer_.reserve(start + frame);
  put_u32(buffer_, kRecordMagic);
  put_u32(buffer_, static_cast<uint32_t>(body));
  put_u32(buffer_, 0);  // the checksum, once the body is in
  buffer_.push_back(static_cast<char>(kBodyVersion));
  put_u32(buffer_, r.event_type);
  put_u64(buffer_, r.time_ns);
  put_u32(buffer_, static_cast<uint32_t>(r.pid));
  put_u32(buffer_, static_cast<uint32_t>(r.id.size()));
  buffer_.append(r.id);
  put_u16(buffer_, static_cast<uint16_t>(r.event_name.size()));
  buffer_.append(r.event_name);
  put_u32(buffer_, static_cast<uint32_t>(r.path.size()));
  buffer_.append(r.path);
  put_u32(buffer_, static_cast<uint32_t>(r.payload.size()));
  buffer_.append(r.payload);
  char* header = buffer_.data() + start;
  set_u32(header + 8, frame_crc(header, header + kFrameHeaderBytes, body));

  active->bytes += frame;
  ++active->records;
  ++stats_.appended;
  if (buffer_.size() >= kWriteBufferBytes) {
    // The record is buffered (and counted against the bound) even if this
    // write fails; flush() reports the failure to the caller.
    if (auto s = write_buffer_locked(); !s) last_error_ = s.message();
  }
  return Status::ok();
}

Status Spool::flush() {
  std::lock_guard lock(mu_);
  if (auto s = write_buffer_locked(); !s) return s;
  if (options_.fsync_on_flush && active_fd_ >= 0 && ::fdatasync(active_fd_) != 0) {
    return Status::error("spool: fdatasync " + segment_path(active_seq_) + ": " + errno_text(errno));
  }
  return Status::ok();
}

void Spool::normalize_locked(SpoolPosition& p) const {
  for (;;) {
    auto it = segments_.lower_bound(p.segment);
    if (it == segments_.end()) {
      p = {active_seq_, kSegmentHeaderBytes};
      return;
    }
    if (it->first != p.segment) {
      p = {it->first, kSegmentHeaderBytes};
      continue;
    }
    p.offset = std::max(p.offset, kSegmentHeaderBytes);
    if (it->second.sealed && p.offset >= it->second.bytes && std::next(it) != segments_.end()) {
      p = {std::next(it)->first, kSegmentHeaderBytes};
      continue;
    }
    return;
  }
}

Status Spool::read_segment_bytes_locked(uint64_t seq, uint64_t offset, size_t length, std::string& out) {
  const std::string path = segment_path(seq);
  if (read_fd_ < 0 || read_fd_seq_ != seq) {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (read_fd_ < 0) return Status::error("spool: cannot open " + path + ": " + errno_text(errno));
    read_fd_seq_ = seq;
  }
  return pread_exact(read_fd_, offset, length, out, path);
}

Status Spool::read(size_t max_records, std::vector<SpooledRecord>& out) {
  std::lock_guard lock(mu_);
  size_t frame_needed = 0;  // a record larger than one window: read it whole
  while (out.size() < max_records) {
    normalize_locked(read_);
    auto it = segments_.find(read_.segment);
    if (it == segments_.end()) break;
    const Segment& segment = it->second;
    if (!segment.sealed && !buffer_.empty()) {  // the reader has caught up with the buffer
      if (auto s = write_buffer_locked(); !s) return s;
    }
    if (read_.offset >= segment.bytes) {
      if (!segment.sealed) break;  // caught up with the writer
      if (std::next(it) == segments_.end()) break;
      read_ = {std::next(it)->first, kSegmentHeaderBytes};
      continue;
    }
    const uint64_t available = segment.bytes - read_.offset;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(available, std::max(kReadWindowBytes, frame_needed)));
    if (auto s = read_segment_bytes_locked(read_.segment, read_.offset, want, scratch_); !s) return s;
    const std::string_view window(scratch_);
    const bool window_reaches_end = window.size() == available;
    const bool file_short = window.size() < want;  // the file is shorter than we recorded
    frame_needed = 0;

    size_t pos = 0;
    bool reload = false;
    auto first_time = [&](size_t at) { return SpoolPosition{read_.segment, read_.offset + at} >= read_high_; };
    auto skip_to_next_magic = [&](size_t from) {
      const size_t next = find_record_magic(window, from);
      if (next != std::string_view::npos) {
        pos = next;
      } else if (window_reaches_end || file_short) {
        pos = window.size();
      } else {
        pos = std::max(from, window.size() - 3);  // the magic may straddle the window's end
        reload = true;
      }
    };
    while (!reload && pos < window.size() && out.size() < max_records) {
      const size_t left = window.size() - pos;
      if (left < kFrameHeaderBytes) {
        if (!window_reaches_end && !file_short) {
          reload = true;
          break;
        }
        if (first_time(pos)) ++stats_.torn_tails;
        pos = window.size();
        break;
      }
      const char* header = window.data() + pos;
      const uint32_t length = get_u32(header + 4);
      if (get_u32(header) != kRecordMagic || length > kMaxRecordBytes) {
        if (first_time(pos)) ++stats_.corrupt_records;
        skip_to_next_magic(pos + 1);
        continue;
      }
      if (left - kFrameHeaderBytes < length) {
        if (!window_reaches_end && !file_short && length + kFrameHeaderBytes <= available - pos) {
          frame_needed = kFrameHeaderBytes + length;  // a big record: read it in one window
          reload = true;
          break;
        }
        // Runs past the end: a torn tail if nothing follows, else a bad length.
        if (find_record_magic(window, pos + 1) == std::string_view::npos) {
          if (first_time(pos)) ++stats_.torn_tails;
          pos = window.size();
        } else {
          if (first_time(pos)) ++stats_.corrupt_records;
          skip_to_next_magic(pos + 1);
        }
        continue;
      }
      const std::string_view body = window.substr(pos + kFrameHeaderBytes, length);
      const uint32_t crc = frame_crc(header, body.data(), length);
      const size_t next = pos + kFrameHeaderBytes + length;
      SpooledRecord record;
      if (crc != get_u32(header + 8) || !decode_body(body, record.record)) {
        if (first_time(pos)) ++stats_.corrupt_records;
        // Trust the length only if a record header (or the end) follows it.
        const bool length_plausible =
            next == window.size() || (window.size() - next >= 4 && get_u32(window.data() + next) == kRecordMagic);
        if (length_plausible) {
          pos = next;
        } else {
          skip_to_next_magic(pos + 1);
        }
        continue;
      }
      record.end = {read_.segment, read_.offset + next};
      out.push_back(std::move(record));
      pos = next;
    }
    read_.offset += pos;
    if (read_high_ < read_) read_high_ = read_;
    if (file_short && pos >= window.size()) {
      // The file ended early (truncated behind our back): nothing more is coming from it.
      if (it->second.sealed) {
        it->second.bytes = read_.offset;
      } else {
        break;
      }
    }
    if (!reload && pos == 0) break;  // no progress possible
  }
  return Status::ok();
}

void Spool::rewind() {
  std::lock_guard lock(mu_);
  read_ = ack_;
}

Status Spool::acknowledge(SpoolPosition end, uint64_t records) {
  std::lock_guard lock(mu_);
  if (end <= ack_) return Status::ok();
  stats_.acknowledged += records;
  for (auto it = segments_.begin(); it != segments_.end() && it->first < end.segment;) {
    // Wholly before `end`: delivered (what was left of it counts towards `records`).
    const uint64_t left = it->second.records - std::min(it->second.records, it->second.acked_records);
    records -= std::min(records, left);
    if (read_fd_ >= 0 && read_fd_seq_ == it->first) {
      ::close(read_fd_);
      read_fd_ = -1;
    }
    ::unlink(segment_path(it->first).c_str());
    it = segments_.erase(it);
  }
  auto head = segments_.find(end.segment);
  if (head != segments_.end()) {
    head->second.acked_records = std::min(head->second.records, head->second.acked_records + records);
    if (head->second.sealed && end.offset >= head->second.bytes) {
      ::unlink(segment_path(head->first).c_str());
      if (read_fd_ >= 0 && read_fd_seq_ == head->first) {
        ::close(read_fd_);
        read_fd_ = -1;
      }
      segments_.erase(head);
    }
  }
  ack_ = end;
  normalize_locked(ack_);
  if (read_ < ack_) read_ = ack_;
  if (read_high_ < ack_) read_high_ = ack_;
  // At most every 100 ms (and on close): after a crash that much is sent
  // again, which JetStream's de-duplication absorbs.
  const auto now = std::chrono::steady_clock::now();
  if (now - ack_persisted_ < std::chrono::milliseconds(100)) return Status::ok();
  ack_persisted_ = now;
  return persist_ack_locked();
}

Status Spool::persist_ack_locked() {
  // A rename makes it atomic. Not fsynced: after a power loss a few
  // acknowledged records are sent again, and JetStream de-duplicates them by id.
  const std::string tmp = options_.directory + "/" + kAckFile + ".tmp";
  const std::string final_path = options_.directory + "/" + kAckFile;
  const std::string line = "ward-spool-ack 1 " + std::to_string(ack_.segment) + " " + std::to_string(ack_.offset) + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error("spool: cannot write " + tmp + ": " + errno_text(errno));
  Status s = write_all(fd, line.data(), line.size(), tmp);
  ::close(fd);
  if (!s) return s;
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    return Status::error("spool: cannot rename " + tmp + ": " + errno_text(errno));
  }
  return Status::ok();
}

bool Spool::empty() const {
  std::lock_guard lock(mu_);
  for (const auto& [seq, segment] : segments_) {
    if (segment.records > segment.acked_records) return false;
  }
  return true;
}

bool Spool::has_unread() const {
  std::lock_guard lock(mu_);
  auto it = segments_.find(read_.segment);
  if (it == segments_.end()) return false;
  return read_.offset < it->second.bytes || std::next(it) != segments_.end();
}

SpoolStats Spool::stats() const {
  std::lock_guard lock(mu_);
  SpoolStats s = stats_;
  s.last_error = last_error_;
  s.bytes = total_bytes_locked();
  s.segments = segments_.size();
  s.records = 0;
  for (const auto& [seq, segment] : segments_) s.records += segment.records - std::min(segment.records, segment.acked_records);
  return s;
}

Spool::~Spool() {
  std::lock_guard lock(mu_);
  write_buffer_locked();
  if (active_fd_ >= 0) {
    if (options_.fsync_on_flush) ::fdatasync(active_fd_);
    ::close(active_fd_);
    // An empty active segment is only clutter for the next run.
    if (segments_[active_seq_].records == 0) {
      ::unlink(segment_path(active_seq_).c_str());
    }
  }
  persist_ack_locked();
  if (read_fd_ >= 0) ::close(read_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace ward::output
