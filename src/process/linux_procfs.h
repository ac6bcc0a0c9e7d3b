// The real ProcFs, and the pure parsers it is built from (exposed so unit
// tests can feed them fixture text).
//
// What read(pid) returns when a process vanishes or a file is unreadable:
//   - `stat` and `status` are required: without them there is no parent,
//     process group or credentials, and zero-filled credentials would claim
//     root. Either one missing or unparsable -> nullopt ("gone").
//   - `loginuid` / `sessionid` missing (kernel without audit) -> 4294967295.
//   - `exe`, `cwd` unreadable (zombie, kernel thread, permission) -> empty
//     string, exe_stat nullopt; `cmdline` unreadable -> no args.
// All files are read relative to one open /proc/PID directory, so a pid that
// is reused mid-read yields errors rather than a mix of two processes.
// The comm comes from `stat` (the same bytes as the `comm` file). The object
// is thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "process/proc_fs.h"

namespace ward::process {

// The fields of /proc/PID/stat Ward uses.
struct ProcStatFields {
  pid_t pid = 0;
  std::string comm;  // between the first '(' and the last ')'
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  uint32_t tty_nr = 0;       // kernel encoding (new_encode_dev)
  uint64_t start_ticks = 0;  // clock ticks since boot
};
std::optional<ProcStatFields> parse_proc_stat(std::string_view text);

// The "Tgid:", "Uid:" and "Gid:" lines of /proc/PID/status (real, effective,
// saved; the fourth, filesystem, id is ignored).
struct ProcStatusIds {
  pid_t tgid = 0;
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;
};
// nullopt unless both Uid: and Gid: lines carry at least three ids. Tgid is 0
// when its line is absent.
std::optional<ProcStatusIds> parse_proc_status(std::string_view text);

// /proc/PID/cmdline: arguments separated by NUL. One trailing NUL ends the
// last argument and does not start an empty one; "" -> no arguments.
std::vector<std::string> split_cmdline(std::string_view text);

// A decimal number alone in a file, surrounding whitespace allowed
// (loginuid, sessionid).
std::optional<uint32_t> parse_u32_text(std::string_view text);

// readlink of /proc/PID/exe and cwd appends " (deleted)" once the file is
// unlinked. Returns true (and strips it) when the suffix is present.
bool strip_deleted_suffix(std::string& path);

struct TtyDevice {
  uint32_t major = 0;
  uint32_t minor = 0;
  bool operator==(const TtyDevice&) const = default;
};
// tty_nr as /proc/PID/stat prints it: major = bits 8..19, minor = bits 0..7
// and 20..31.
TtyDevice decode_tty_nr(uint32_t tty_nr);

// The device path of a controlling terminal, by number alone: "/dev/pts/N",
// "/dev/ttyN", "/dev/ttySN". nullopt for tty_nr 0 *and* for numbers that need
// /sys to name (see tty_name).
std::optional<std::string> well_known_tty_name(uint32_t tty_nr);

// The DEVNAME= value of a sysfs uevent file ("console" -> "/dev/console");
// nullopt when absent.
std::optional<std::string> devname_from_uevent(std::string_view uevent_text);

// Full resolution: well-known names, else `sys_root`/dev/char/MAJ:MIN/uevent's
// DEVNAME, else "/dev/char/MAJ:MIN". nullopt only for tty_nr 0.
std::optional<std::string> tty_name(uint32_t tty_nr, const std::string& sys_root);

// Clock ticks since boot -> ns, without overflow for any CLK_TCK.
uint64_t ticks_to_ns(uint64_t ticks, uint64_t ticks_per_second);

// make_linux_procfs(root) with /sys at `sys_root` (tests point both at
// fixtures).
std::unique_ptr<ProcFs> make_linux_procfs(std::string proc_root, std::string sys_root);

}  // namespace ward::process
