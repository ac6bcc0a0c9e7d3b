#include "sensors/bpf/record_decoder.h"

#include <sys/sysmacros.h>

#include <cstring>

#include "ward_wire.h"

namespace ward::sensors::bpf {
namespace {

// Reads a POD struct from an unaligned buffer.
template <typename T>
bool read_struct(std::span<const uint8_t> buf, T* out) {
  if (buf.size() < sizeof(T)) return false;
  std::memcpy(out, buf.data(), sizeof(T));
  return true;
}

std::string fixed_string(const char* s, std::size_t cap) { return std::string(s, strnlen(s, cap)); }

RawProc decode_proc(const ward_proc& p) {
  RawProc r;
  r.tgid = static_cast<pid_t>(p.tgid);
  r.ppid = static_cast<pid_t>(p.ppid);
  r.pgid = static_cast<pid_t>(p.pgid);
  r.sid = static_cast<pid_t>(p.sid);
  r.ruid = p.ruid;
  r.euid = p.euid;
  r.suid = p.suid;
  r.rgid = p.rgid;
  r.egid = p.egid;
  r.sgid = p.sgid;
  r.auid = p.auid;
  r.sessionid = p.sessionid;
  r.start_boot_ns = p.start_boot_ns;
  r.comm = fixed_string(p.comm, sizeof(p.comm));
  if (p.tty_major != 0 || p.tty_minor != 0) {
    std::string name = fixed_string(p.tty_name, sizeof(p.tty_name));
    // devpts names its ttys "ptsN"; the device node is /dev/pts/N.
    if (name.rfind("pts", 0) == 0 && name.size() > 3)
      r.tty = "/dev/pts/" + name.substr(3);
    else if (!name.empty())
      r.tty = "/dev/" + name;
    else
      r.tty = "/dev/char/" + std::to_string(p.tty_major) + ":" + std::to_string(p.tty_minor);
  }
  return r;
}

FileStat decode_file(const ward_file& f) {
  FileStat s;
  s.dev = kernel_dev_to_user(f.dev);
  s.ino = f.ino;
  s.mode = f.mode;
  s.uid = f.uid;
  s.gid = f.gid;
  s.size = static_cast<int64_t>(f.size);
  s.mtime = {f.mtime_sec, f.mtime_nsec};
  s.ctime = {f.ctime_sec, f.ctime_nsec};
  return s;
}

// A piece must lie inside the record's data area as it arrived.
std::optional<std::span<const char>> piece(std::span<const uint8_t> data, const ward_piece& p) {
  if (p.off > data.size() || p.len > data.size() - p.off) return std::nullopt;
  return std::span(reinterpret_cast<const char*>(data.data()) + p.off, p.len);
}

std::optional<RawEvent> decode_exec(std::span<const uint8_t> rec) {
  constexpr std::size_t kFixed = offsetof(ward_exec_rec, data);
  if (rec.size() < kFixed) return std::nullopt;
  ward_exec_rec head;  // only the fixed part is copied
  std::memcpy(&head, rec.data(), kFixed);
  auto data = rec.subspan(kFixed);

  auto exe = piece(data, head.exe_path);
  auto cwd = piece(data, head.cwd);
  auto filename = piece(data, head.filename);
  auto interp = piece(data, head.interp);
  auto args = piece(data, head.args);
  auto env = piece(data, head.env);
  if (!exe || !cwd || !filename || !interp || !args || !env) return std::nullopt;

  RawExec e;
  e.boot_ns = head.hdr.boot_ns;
  e.tid = static_cast<pid_t>(head.hdr.tid);
  e.proc = decode_proc(head.proc);
  e.exe_stat = decode_file(head.exe);
  e.exe_path = join_leaf_first_path(*exe);
  e.exe_path_truncated = (head.flags & WARD_F_EXE_PATH_TRUNCATED) != 0;
  e.cwd = join_leaf_first_path(*cwd);
  e.cwd_truncated = (head.flags & WARD_F_CWD_TRUNCATED) != 0;
  e.filename.assign(filename->data(), filename->size());
  e.interp.assign(interp->data(), interp->size());
  bool cut = false;
  e.args = split_nul_block(*args, &cut);
  e.args_truncated = (head.flags & WARD_F_ARGS_TRUNCATED) != 0 || cut;
  if (head.flags & WARD_F_ENV_CAPTURED) {
    bool env_cut = false;
    e.env = split_nul_block(*env, &env_cut);
    e.env_truncated = (head.flags & WARD_F_ENV_TRUNCATED) != 0 || env_cut;
  }
  return e;
}

}  // namespace

uint64_t kernel_dev_to_user(uint32_t kdev) { return makedev(kdev >> 20, kdev & 0xfffff); }

RawProc decode_wire_proc(const ward_proc& proc) { return decode_proc(proc); }
FileStat decode_wire_file(const ward_file& file) { return decode_file(file); }

std::string join_leaf_first_path(std::span<const char> block) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < block.size(); ++i) {
    if (block[i] == '\0') {
      if (i > start) parts.emplace_back(block.data() + start, i - start);
      start = i + 1;
    }
  }
  if (start < block.size()) parts.emplace_back(block.data() + start, block.size() - start);
  if (parts.empty()) return "/";
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    // The root of a mount names itself "/"; it is not a component.
    if (*it == "/") continue;
    path += '/';
    path += *it;
  }
  return path.empty() ? "/" : path;
}

std::vector<std::string> split_nul_block(std::span<const char> block, bool* last_unterminated) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < block.size(); ++i) {
    if (block[i] == '\0') {
      out.emplace_back(block.data() + start, i - start);
      start = i + 1;
    }
  }
  bool cut = start < block.size();
  if (cut) out.emplace_back(block.data() + start, block.size() - start);
  if (last_unterminated) *last_unterminated = cut;
  return out;
}

std::optional<RawEvent> decode_record(std::span<const uint8_t> record) {
  ward_rec_header hdr;
  if (!read_struct(record, &hdr)) return std::nullopt;
  if (hdr.version != WARD_WIRE_VERSION || hdr.size > record.size() || hdr.size < sizeof(hdr))
    return std::nullopt;
  record = record.first(hdr.size);
  switch (hdr.type) {
    case WARD_REC_EXEC:
      return decode_exec(record);
    case WARD_REC_FORK: {
      ward_fork_rec r;
      if (!read_struct(record, &r)) return std::nullopt;
      RawFork f;
      f.boot_ns = r.hdr.boot_ns;
      f.tid = static_cast<pid_t>(r.hdr.tid);
      f.child = decode_proc(r.child);
      f.parent_tgid = static_cast<pid_t>(r.parent_tgid);
      f.parent_start_boot_ns = r.parent_start_boot_ns;
      return f;
    }
    case WARD_REC_EXIT: {
      ward_exit_rec r;
      if (!read_struct(record, &r)) return std::nullopt;
      RawExit x;
      x.boot_ns = r.hdr.boot_ns;
      x.tid = static_cast<pid_t>(r.hdr.tid);
      x.proc = decode_proc(r.proc);
      x.status = r.status;
      return x;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace ward::sensors::bpf
