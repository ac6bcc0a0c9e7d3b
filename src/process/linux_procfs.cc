// ProcFs over a mounted proc filesystem. See linux_procfs.h for what read()
// returns when a process vanishes mid-read.
#include "process/linux_procfs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace ward::process {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";
constexpr uint64_t kNsPerSecond = 1'000'000'000;
// Arguments beyond this are not read: the BPF sensor caps them far lower, and
// a hostile process must not make every /proc read allocate without bound.
constexpr size_t kMaxCmdlineBytes = 1 << 20;
constexpr size_t kMaxSmallFileBytes = 64 << 10;
constexpr size_t kMaxLinkBytes = 64 << 10;

constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The whole of `s` as a number, or nullopt.
template <typename Int>
std::optional<Int> parse_int(std::string_view s) {
  Int value{};
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec != std::errc() || ptr != end || s.empty()) return std::nullopt;
  return value;
}

// Splits at runs of spaces.
std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// "Uid:\t1000\t1000\t1000\t1000" -> the first three ids.
bool parse_id_triple(std::string_view rest, uint32_t& real, uint32_t& effective, uint32_t& saved) {
  auto fields = split_fields(rest);
  if (fields.size() < 3) return false;
  auto r = parse_int<uint32_t>(fields[0]);
  auto e = parse_int<uint32_t>(fields[1]);
  auto s = parse_int<uint32_t>(fields[2]);
  if (!r || !e || !s) return false;
  real = *r;
  effective = *e;
  saved = *s;
  return true;
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

std::optional<std::string> read_file_at(int dir_fd, const char* name, size_t max_bytes) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return std::nullopt;
  std::string out;
  char chunk[4096];
  while (out.size() < max_bytes) {
    ssize_t n = ::read(fd.get(), chunk, std::min(sizeof(chunk), max_bytes - out.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;  // ESRCH: the process went away under us
    }
    if (n == 0) break;
    out.append(chunk, static_cast<size_t>(n));
  }
  return out;
}

std::optional<std::string> read_file(const std::string& path, size_t max_bytes) {
  return read_file_at(AT_FDCWD, path.c_str(), max_bytes);
}

std::optional<std::string> readlink_at(int dir_fd, const char* name) {
  std::string buffer(256, '\0');
  while (true) {
    ssize_t n = ::readlinkat(dir_fd, name, buffer.data(), buffer.size());
    if (n < 0) return std::nullopt;
    // readlink truncates silently: a full buffer may mean a longer target.
    if (static_cast<size_t>(n) < buffer.size()) {
      buffer.resize(static_cast<size_t>(n));
      return buffer;
    }
    if (buffer.size() >= kMaxLinkBytes) return buffer;
    buffer.resize(buffer.size() * 2);
  }
}

FileStat to_file_stat(const struct stat& st) {
  FileStat out;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.mode = st.st_mode;
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  out.size = st.st_size;
  out.mtime = {st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec)};
  out.ctime = {st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec)};
  return out;
}

bool ends_with_deleted(std::string_view path) {
  return path.size() >= kDeletedSuffix.size() &&
         path.substr(path.size() - kDeletedSuffix.size()) == kDeletedSuffix;
}

// The kernel's " (deleted)" marker is indistinguishable from a file really
// named "x (deleted)"; the link count tells them apart. `st` is the stat of the
// link target, nullptr when it could not be taken (then trust the marker).
void strip_deleted_if_unlinked(std::string& path, const struct stat* st) {
  if (!ends_with_deleted(path)) return;
  if (st == nullptr || st->st_nlink == 0) strip_deleted_suffix(path);
}

class LinuxProcFs final : public ProcFs {
 public:
  LinuxProcFs(std::string proc_root, std::string sys_root)
      : proc_root_(std::move(proc_root)), sys_root_(std::move(sys_root)) {
    long tck = ::sysconf(_SC_CLK_TCK);
    ticks_per_second_ = tck > 0 ? static_cast<uint64_t>(tck) : 100;
  }

  std::vector<pid_t> list_pids() override {
    std::vector<pid_t> pids;
    std::error_code error;
    // A process exiting mid-listing is no error; stop only if the directory
    // itself cannot be read on.
    for (std::filesystem::directory_iterator it(proc_root_, error), end; !error && it != end;
         it.increment(error)) {
      auto pid = parse_int<pid_t>(it->path().filename().native());
      if (pid && *pid > 0) pids.push_back(*pid);
    }
    std::sort(pids.begin(), pids.end());
    return pids;
  }

  std::optional<ProcSnapshot> read(pid_t pid) override {
    if (pid <= 0) return std::nullopt;
    std::string dir_path = proc_root_ + "/" + std::to_string(pid);
    // Everything below is read through this one directory: it stays bound to
    // the process it was opened for, so a reused pid cannot mix in.
    UniqueFd dir(::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return std::nullopt;

    auto stat_text = read_file_at(dir.get(), "stat", kMaxSmallFileBytes);
    if (!stat_text) return std::nullopt;
    auto stat_fields = parse_proc_stat(*stat_text);
    if (!stat_fields) return std::nullopt;
    auto status_text = read_file_at(dir.get(), "status", kMaxSmallFileBytes);
    if (!status_text) return std::nullopt;
    auto ids = parse_proc_status(*status_text);
    if (!ids) return std::nullopt;

    ProcSnapshot snap;
    sensors::RawProc& proc = snap.proc;
    proc.tgid = ids->tgid > 0 ? ids->tgid : stat_fields->pid;
    proc.ppid = stat_fields->ppid;
    proc.pgid = stat_fields->pgrp;
    proc.sid = stat_fields->session;
    proc.ruid = ids->ruid;
    proc.euid = ids->euid;
    proc.suid = ids->suid;
    proc.rgid = ids->rgid;
    proc.egid = ids->egid;
    proc.sgid = ids->sgid;
    if (auto text = read_file_at(dir.get(), "loginuid", kMaxSmallFileBytes)) {
      proc.auid = parse_u32_text(*text).value_or(0xffffffff);
    }
    if (auto text = read_file_at(dir.get(), "sessionid", kMaxSmallFileBytes)) {
      proc.sessionid = parse_u32_text(*text).value_or(0xffffffff);
    }
    proc.start_boot_ns = ticks_to_ns(stat_fields->start_ticks, ticks_per_second_);
    proc.start_from_ticks = true;
    // stat's comm is the same 16 bytes as the comm file, so that file is not
    // read as well.
    proc.comm = std::move(stat_fields->comm);
    proc.tty = cached_tty_name(stat_fields->tty_nr);

    struct stat exe_st {};
    bool have_exe_stat = ::fstatat(dir.get(), "exe", &exe_st, 0) == 0;
    if (have_exe_stat) snap.exe_stat = to_file_stat(exe_st);
    snap.exe_path = readlink_at(dir.get(), "exe").value_or("");
    strip_deleted_if_unlinked(snap.exe_path, have_exe_stat ? &exe_st : nullptr);

    snap.cwd = readlink_at(dir.get(), "cwd").value_or("");
    if (ends_with_deleted(snap.cwd)) {
      struct stat cwd_st {};
      bool have_cwd_stat = ::fstatat(dir.get(), "cwd", &cwd_st, 0) == 0;
      strip_deleted_if_unlinked(snap.cwd, have_cwd_stat ? &cwd_st : nullptr);
    }

    if (auto cmdline = read_file_at(dir.get(), "cmdline", kMaxCmdlineBytes)) {
      snap.args = split_cmdline(*cmdline);
    }
    return snap;
  }

  uint64_t boot_time_ns_now() override {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * kNsPerSecond + static_cast<uint64_t>(ts.tv_nsec);
  }

 private:
  // Only names that need /sys are cached; the set of character devices is
  // small, so the cache needs no bound. read() may be called from more than
  // one thread (tree scan and sensor), hence the lock.
  std::optional<std::string> cached_tty_name(uint32_t tty_nr) {
    if (tty_nr == 0) return std::nullopt;
    if (auto name = well_known_tty_name(tty_nr)) return name;
    std::lock_guard lock(tty_cache_mutex_);
    auto it = tty_cache_.find(tty_nr);
    if (it != tty_cache_.end()) return it->second;
    auto name = tty_name(tty_nr, sys_root_);
    tty_cache_.emplace(tty_nr, name);
    return name;
  }

  std::string proc_root_;
  std::string sys_root_;
  uint64_t ticks_per_second_ = 100;
  std::mutex tty_cache_mutex_;
  std::unordered_map<uint32_t, std::optional<std::string>> tty_cache_;
};

}  // namespace

std::optional<ProcStatFields> parse_proc_stat(std::string_view text) {
  // comm may hold spaces, '(' and ')': it ends at the *last* ')'.
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;

  ProcStatFields out;
  auto pid = parse_int<pid_t>(trim(text.substr(0, open)));
  if (!pid) return std::nullopt;
  out.pid = *pid;
  out.comm = std::string(text.substr(open + 1, close - open - 1));

  // Fields after comm, numbered as in proc(5) minus 3: [0] state (3),
  // [1] ppid (4), [2] pgrp (5), [3] session (6), [4] tty_nr (7),
  // [19] starttime (22).
  auto fields = split_fields(text.substr(close + 1));
  if (fields.size() < 20 || fields[0].size() != 1) return std::nullopt;
  out.state = fields[0][0];
  auto ppid = parse_int<pid_t>(fields[1]);
  auto pgrp = parse_int<pid_t>(fields[2]);
  auto session = parse_int<pid_t>(fields[3]);
  // Printed as a signed int; minors above 2047 set the sign bit.
  auto tty_nr = parse_int<int64_t>(fields[4]);
  auto start = parse_int<uint64_t>(fields[19]);
  if (!ppid || !pgrp || !session || !tty_nr || !start) return std::nullopt;
  out.ppid = *ppid;
  out.pgrp = *pgrp;
  out.session = *session;
  out.tty_nr = static_cast<uint32_t>(*tty_nr);
  out.start_ticks = *start;
  return out;
}

std::optional<ProcStatusIds> parse_proc_status(std::string_view text) {
  ProcStatusIds out;
  bool have_uid = false;
  bool have_gid = false;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (line.starts_with("Uid:")) {
      have_uid = parse_id_triple(line.substr(4), out.ruid, out.euid, out.suid);
    } else if (line.starts_with("Gid:")) {
      have_gid = parse_id_triple(line.substr(4), out.rgid, out.egid, out.sgid);
    } else if (line.starts_with("Tgid:")) {
      out.tgid = parse_int<pid_t>(trim(line.substr(5))).value_or(0);
    }
  }
  if (!have_uid || !have_gid) return std::nullopt;
  return out;
}

std::vector<std::string> split_cmdline(std::string_view text) {
  std::vector<std::string> args;
  if (text.empty()) return args;
  if (text.back() == '\0') text.remove_suffix(1);
  while (true) {
    size_t nul = text.find('\0');
    args.emplace_back(text.substr(0, nul));
    if (nul == std::string_view::npos) break;
    text.remove_prefix(nul + 1);
  }
  return args;
}

std::optional<uint32_t> parse_u32_text(std::string_view text) { return parse_int<uint32_t>(trim(text)); }

bool strip_deleted_suffix(std::string& path) {
  if (!ends_with_deleted(path)) return false;
  path.resize(path.size() - kDeletedSuffix.size());
  return true;
}

TtyDevice decode_tty_nr(uint32_t tty_nr) {
  return {(tty_nr >> 8) & 0xfff, (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00)};
}

std::optional<std::string> well_known_tty_name(uint32_t tty_nr) {
  if (tty_nr == 0) return std::nullopt;
  // Device numbers from the kernel's devices.txt.
  constexpr uint32_t kPtsFirstMajor = 136;
  constexpr uint32_t kPtsLastMajor = 143;
  constexpr uint32_t kTtyMajor = 4;
  constexpr uint32_t kFirstSerialMinor = 64;
  TtyDevice dev = decode_tty_nr(tty_nr);
  if (dev.major >= kPtsFirstMajor && dev.major <= kPtsLastMajor) {
    return "/dev/pts/" + std::to_string((dev.major - kPtsFirstMajor) * 256 + dev.minor);
  }
  if (dev.major == kTtyMajor) {
    if (dev.minor < kFirstSerialMinor) return "/dev/tty" + std::to_string(dev.minor);
    return "/dev/ttyS" + std::to_string(dev.minor - kFirstSerialMinor);
  }
  return std::nullopt;
}

std::optional<std::string> devname_from_uevent(std::string_view uevent_text) {
  while (!uevent_text.empty()) {
    size_t eol = uevent_text.find('\n');
    std::string_view line = uevent_text.substr(0, eol);
    uevent_text = eol == std::string_view::npos ? std::string_view() : uevent_text.substr(eol + 1);
    if (!line.starts_with("DEVNAME=")) continue;
    std::string_view name = trim(line.substr(8));
    if (name.empty()) return std::nullopt;
    return "/dev/" + std::string(name);
  }
  return std::nullopt;
}

std::optional<std::string> tty_name(uint32_t tty_nr, const std::string& sys_root) {
  if (tty_nr == 0) return std::nullopt;
  if (auto name = well_known_tty_name(tty_nr)) return name;
  TtyDevice dev = decode_tty_nr(tty_nr);
  std::string numbers = std::to_string(dev.major) + ":" + std::to_string(dev.minor);
  if (auto uevent = read_file(sys_root + "/dev/char/" + numbers + "/uevent", kMaxSmallFileBytes)) {
    if (auto name = devname_from_uevent(*uevent)) return name;
  }
  return "/dev/char/" + numbers;
}

uint64_t ticks_to_ns(uint64_t ticks, uint64_t ticks_per_second) {
  if (ticks_per_second == 0) return 0;
  return (ticks / ticks_per_second) * kNsPerSecond +
         (ticks % ticks_per_second) * kNsPerSecond / ticks_per_second;
}

std::unique_ptr<ProcFs> make_linux_procfs(std::string proc_root, std::string sys_root) {
  return std::make_unique<LinuxProcFs>(std::move(proc_root), std::move(sys_root));
}

std::unique_ptr<ProcFs> make_linux_procfs(std::string root) {
  return make_linux_procfs(std::move(root), "/sys");
}

}  // namespace ward::process
