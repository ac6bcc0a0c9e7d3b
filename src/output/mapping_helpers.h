// Small pure helpers shared by the ECS and OCSF serializers: entity ids, path
// parts, tty device numbers, wait(2) statuses, file types.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "output/serializer.h"
#include "ward/process.h"

namespace ward::output::mapping {

// "<run_id>-<pid>-<pidversion>": names one program image for as long as the
// data is kept (see HostInfo::run_id).
inline std::string entity_id(const HostInfo& host, const AuditToken& token) {
  std::string id;
  id.reserve(host.run_id.size() + 24);
  if (!host.run_id.empty()) {
    id += host.run_id;
    id += '-';
  }
  id += std::to_string(token.pid);
  id += '-';
  id += std::to_string(token.pidversion);
  return id;
}

// "/usr/bin/echo" -> "echo"; a path without '/' is its own name.
inline std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "/usr/bin/echo" -> "/usr/bin", "/echo" -> "/", "echo" -> "".
inline std::string_view dir_name(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

// "file.tar.gz" -> "gz"; none for "Makefile" or ".bashrc".
inline std::string_view extension(std::string_view path) {
  auto name = base_name(path);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return {};
  return name.substr(dot + 1);
}

struct CharDevice {
  int64_t major = 0;
  int64_t minor = 0;
};

namespace detail {
inline std::optional<int64_t> parse_number(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}
}  // namespace detail

// The device numbers of a controlling terminal, from the name the sensor
// reports. Linux numbers these devices statically (admin-guide/devices.txt):
// devpts uses majors 136-143 with 256 minors each, virtual consoles are 4:N
// (N < 64), serial ports 4:(64+N); "/dev/char/M:m" carries them verbatim.
inline std::optional<CharDevice> tty_device(std::string_view tty) {
  auto after = [&](std::string_view prefix) -> std::optional<int64_t> {
    if (tty.substr(0, prefix.size()) != prefix) return std::nullopt;
    return detail::parse_number(tty.substr(prefix.size()));
  };
  if (auto n = after("/dev/pts/"); n && *n < 8 * 256) return CharDevice{136 + *n / 256, *n % 256};
  if (auto n = after("/dev/ttyS"); n && *n < 192) return CharDevice{4, 64 + *n};
  if (auto n = after("/dev/tty"); n && *n < 64) return CharDevice{4, *n};
  constexpr std::string_view kChar = "/dev/char/";
  if (tty.substr(0, kChar.size()) == kChar) {
    auto rest = tty.substr(kChar.size());
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto major = detail::parse_number(rest.substr(0, colon));
    auto minor = detail::parse_number(rest.substr(colon + 1));
    if (major && minor) return CharDevice{*major, *minor};
  }
  return std::nullopt;
}

// A wait(2) status taken apart.
struct WaitStatus {
  std::optional<int> exit_code;  // exited normally
  std::optional<int> signal;     // killed by this signal
  bool core_dumped = false;
};

inline WaitStatus decode_wait_status(int32_t stat) {
  WaitStatus s;
  if (WIFEXITED(stat)) {
    s.exit_code = WEXITSTATUS(stat);
  } else if (WIFSIGNALED(stat)) {
    s.signal = WTERMSIG(stat);
    s.core_dumped = WCOREDUMP(stat);
  }
  return s;
}

enum class FileKind { Regular, Directory, Symlink, CharDevice, BlockDevice, Fifo, Socket, Unknown };

inline FileKind file_kind(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return FileKind::Regular;
    case S_IFDIR:
      return FileKind::Directory;
    case S_IFLNK:
      return FileKind::Symlink;
    case S_IFCHR:
      return FileKind::CharDevice;
    case S_IFBLK:
      return FileKind::BlockDevice;
    case S_IFIFO:
      return FileKind::Fifo;
    case S_IFSOCK:
      return FileKind::Socket;
    default:
      return FileKind::Unknown;
  }
}

// The permission bits as an octal string, as ECS `file.mode` wants: "0640".
inline std::string octal_permissions(uint32_t mode) {
  char buf[8];
  buf[0] = '0';
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf), mode & 07777, 8);
  (void)ec;
  std::string s(buf, end);
  while (s.size() < 4) s.insert(1, "0");
  return s;
}

inline uint64_t timespec_ns(const Timespec& t) {
  return static_cast<uint64_t>(t.sec) * 1'000'000'000 + t.nsec;
}

inline int64_t ns_to_ms(uint64_t ns) { return static_cast<int64_t>(ns / 1'000'000); }

// The login uid and audit session as the kernel leaves them when unset.
inline constexpr uint32_t kUnsetId = 0xffffffff;

}  // namespace ward::output::mapping
