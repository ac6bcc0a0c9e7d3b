// ward::Process — the ES es_process_t of Linux.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ward/fields.h"

namespace ward {

// Who a process is. pid + pidversion names one program image: pidversion
// changes on every exec and differs for a reused pid, so two programs are
// never confused. (ES: audit_token_t.)
struct AuditToken {
  pid_t pid = 0;
  uint32_t pidversion = 0;
  uid_t ruid = 0;
  uid_t euid = 0;
  gid_t rgid = 0;
  gid_t egid = 0;
  uint32_t auid = 0xffffffff;  // loginuid; 4294967295 = unset
  uint32_t asid = 0xffffffff;  // audit session id

  bool operator==(const AuditToken&) const = default;

  static constexpr auto fields() {
    return std::make_tuple(field("pid", &AuditToken::pid), field("pidversion", &AuditToken::pidversion),
                           field("ruid", &AuditToken::ruid), field("euid", &AuditToken::euid),
                           field("rgid", &AuditToken::rgid), field("egid", &AuditToken::egid),
                           field("auid", &AuditToken::auid), field("asid", &AuditToken::asid));
  }
};

// A file time as the kernel keeps it.
struct Timespec {
  int64_t sec = 0;
  uint32_t nsec = 0;
  bool operator==(const Timespec&) const = default;
};

// A wall-clock instant, ns since the Unix epoch; serialized as RFC 3339.
struct WallTime {
  uint64_t ns = 0;
  bool operator==(const WallTime&) const = default;
};

// Identity of a file as the kernel saw it: what the hash cache keys on.
struct FileStat {
  uint64_t dev = 0;  // user-space encoding (makedev), as stat(2) reports it
  uint64_t ino = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t size = 0;
  Timespec mtime;
  Timespec ctime;
  bool operator==(const FileStat&) const = default;

  static constexpr auto fields() {
    return std::make_tuple(field("st_dev", &FileStat::dev), field("st_ino", &FileStat::ino),
                           field("st_mode", &FileStat::mode), field("st_uid", &FileStat::uid),
                           field("st_gid", &FileStat::gid), field("st_size", &FileStat::size),
                           field("st_mtime", &FileStat::mtime), field("st_ctime", &FileStat::ctime));
  }
};

// A file named by an event. (ES: es_file_t.)
struct File {
  std::string path;
  bool path_truncated = false;
  std::optional<FileStat> stat;

  static constexpr auto fields() {
    return std::make_tuple(field("path", &File::path), field("path_truncated", &File::path_truncated),
                           field("stat", &File::stat));
  }
};

// One step of a process's ancestry, nearest parent first.
struct Ancestor {
  AuditToken audit_token;
  std::string path;

  static constexpr auto fields() {
    return std::make_tuple(field("audit_token", &Ancestor::audit_token), field("path", &Ancestor::path));
  }
};

struct Process {
  AuditToken audit_token;
  pid_t ppid = 0;
  pid_t original_ppid = 0;  // the parent at fork; ppid changes on reparenting
  pid_t group_id = 0;       // process group
  pid_t session_id = 0;
  std::optional<AuditToken> parent_audit_token;
  File executable;
  std::optional<std::string> tty;  // controlling terminal, e.g. "/dev/pts/0"
  WallTime start_time;
  std::string comm;
  // Ward's stand-in for code signing: the dpkg package that owns the
  // executable, and whether the file still matches what dpkg recorded.
  bool is_platform_binary = false;
  std::optional<std::string> package;
  std::optional<std::string> sha256;  // lowercase hex
  std::vector<Ancestor> ancestors;    // filled on exec targets; nearest first

  static constexpr auto fields() {
    return std::make_tuple(
        field("audit_token", &Process::audit_token), field("ppid", &Process::ppid),
        field("original_ppid", &Process::original_ppid), field("group_id", &Process::group_id),
        field("session_id", &Process::session_id), field("parent_audit_token", &Process::parent_audit_token),
        field("executable", &Process::executable), field("tty", &Process::tty),
        field("start_time", &Process::start_time), field("comm", &Process::comm),
        field("is_platform_binary", &Process::is_platform_binary), field("package", &Process::package),
        field("sha256", &Process::sha256), field("ancestors", &Process::ancestors));
  }
};

using ProcessPtr = std::shared_ptr<const Process>;

}  // namespace ward
