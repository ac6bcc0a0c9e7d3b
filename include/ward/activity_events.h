// Payloads of the file, process, system and network NOTIFY events (the
// "event breadth" of EVENTS.md). Field names follow Apple's es_event_*_t where
// Apple has the event; Linux-only facts are added after them. Included by
// ward/events.h, which lists these structs in ward::Event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ward/fields.h"
#include "ward/process.h"

namespace ward {

// open(2) flags as ES reports them in fflag (BSD fcntl.h values), beyond
// kFflagRead / kFflagWrite (ward/events.h).
inline constexpr int32_t kFflagNonblock = 0x4;
inline constexpr int32_t kFflagAppend = 0x8;
inline constexpr int32_t kFflagCreate = 0x200;
inline constexpr int32_t kFflagTruncate = 0x400;
inline constexpr int32_t kFflagExclusive = 0x800;

// es_destination_type_t, plus a value for when Linux cannot tell (a plain
// rename(2) does not say whether it replaced a file).
inline constexpr int32_t kDestinationExistingFile = 0;
inline constexpr int32_t kDestinationNewPath = 1;
inline constexpr int32_t kDestinationUnknown = 2;

struct CloseEvent {
  static constexpr std::string_view kKey = "close";
  bool modified = false;  // written through this open file since it was opened
  File target;
  static constexpr auto fields() {
    return std::make_tuple(field("modified", &CloseEvent::modified), field("target", &CloseEvent::target));
  }
};

// The first write through an open file (later writes through it are not
// reported again until it is reopened).
struct WriteEvent {
  static constexpr std::string_view kKey = "write";
  File target;
  static constexpr auto fields() { return std::make_tuple(field("target", &WriteEvent::target)); }
};

// A new file, directory, symlink, node or fifo.
struct CreateEvent {
  static constexpr std::string_view kKey = "create";
  int32_t destination_type = kDestinationNewPath;
  File destination;
  uint32_t mode = 0;                          // st_mode bits: type and permissions
  std::optional<std::string> symlink_target;  // symlink(2): what the link points to
  static constexpr auto fields() {
    return std::make_tuple(field("destination_type", &CreateEvent::destination_type),
                           field("destination", &CreateEvent::destination), field("mode", &CreateEvent::mode),
                           field("symlink_target", &CreateEvent::symlink_target));
  }
};

struct UnlinkEvent {
  static constexpr std::string_view kKey = "unlink";
  File target;
  File parent_dir;
  bool is_directory = false;  // rmdir(2) / AT_REMOVEDIR
  static constexpr auto fields() {
    return std::make_tuple(field("target", &UnlinkEvent::target),
                           field("parent_dir", &UnlinkEvent::parent_dir),
                           field("is_directory", &UnlinkEvent::is_directory));
  }
};

struct RenameEvent {
  static constexpr std::string_view kKey = "rename";
  File source;
  int32_t destination_type = kDestinationUnknown;
  File destination;
  uint32_t flags = 0;  // renameat2(2) flags: RENAME_NOREPLACE 1, RENAME_EXCHANGE 2, RENAME_WHITEOUT 4
  static constexpr auto fields() {
    return std::make_tuple(
        field("source", &RenameEvent::source), field("destination_type", &RenameEvent::destination_type),
        field("destination", &RenameEvent::destination), field("flags", &RenameEvent::flags));
  }
};

struct LinkEvent {
  static constexpr std::string_view kKey = "link";
  File source;
  File target_dir;
  std::string target_filename;
  static constexpr auto fields() {
    return std::make_tuple(field("source", &LinkEvent::source), field("target_dir", &LinkEvent::target_dir),
                           field("target_filename", &LinkEvent::target_filename));
  }
};

struct TruncateEvent {
  static constexpr std::string_view kKey = "truncate";
  File target;
  int64_t length = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("target", &TruncateEvent::target), field("length", &TruncateEvent::length));
  }
};

struct SetModeEvent {
  static constexpr std::string_view kKey = "setmode";
  uint32_t mode = 0;  // the permission bits requested
  File target;
  static constexpr auto fields() {
    return std::make_tuple(field("mode", &SetModeEvent::mode), field("target", &SetModeEvent::target));
  }
};

// 4294967295 (-1) = left unchanged, as chown(2) takes it.
struct SetOwnerEvent {
  static constexpr std::string_view kKey = "setowner";
  uint32_t uid = 0xffffffff;
  uint32_t gid = 0xffffffff;
  File target;
  static constexpr auto fields() {
    return std::make_tuple(field("uid", &SetOwnerEvent::uid), field("gid", &SetOwnerEvent::gid),
                           field("target", &SetOwnerEvent::target));
  }
};

// Times as requested; null = left unchanged (UTIME_OMIT); "now" requests carry
// the event's time.
struct UtimesEvent {
  static constexpr std::string_view kKey = "utimes";
  File target;
  std::optional<Timespec> atime;
  std::optional<Timespec> mtime;
  static constexpr auto fields() {
    return std::make_tuple(field("target", &UtimesEvent::target), field("atime", &UtimesEvent::atime),
                           field("mtime", &UtimesEvent::mtime));
  }
};

struct SetExtattrEvent {
  static constexpr std::string_view kKey = "setextattr";
  File target;
  std::string extattr;
  static constexpr auto fields() {
    return std::make_tuple(field("target", &SetExtattrEvent::target),
                           field("extattr", &SetExtattrEvent::extattr));
  }
};

struct DeleteExtattrEvent {
  static constexpr std::string_view kKey = "deleteextattr";
  File target;
  std::string extattr;
  static constexpr auto fields() {
    return std::make_tuple(field("target", &DeleteExtattrEvent::target),
                           field("extattr", &DeleteExtattrEvent::extattr));
  }
};

// An executable mapping of a file (PROT_EXEC). Linux keeps no separate
// maximum protection; max_protection repeats what the open mode allows.
struct MmapEvent {
  static constexpr std::string_view kKey = "mmap";
  int32_t protection = 0;  // PROT_READ 1 | PROT_WRITE 2 | PROT_EXEC 4
  int32_t max_protection = 0;
  int32_t flags = 0;  // MAP_* as passed
  uint64_t file_pos = 0;
  File source;
  static constexpr auto fields() {
    return std::make_tuple(field("protection", &MmapEvent::protection),
                           field("max_protection", &MmapEvent::max_protection),
                           field("flags", &MmapEvent::flags), field("file_pos", &MmapEvent::file_pos),
                           field("source", &MmapEvent::source));
  }
};

// An mprotect(2) that adds PROT_EXEC.
struct MprotectEvent {
  static constexpr std::string_view kKey = "mprotect";
  int32_t protection = 0;
  uint64_t address = 0;
  uint64_t size = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("protection", &MprotectEvent::protection),
                           field("address", &MprotectEvent::address), field("size", &MprotectEvent::size));
  }
};

// A signal one process sent to another (kill, tgkill, sigqueue, pidfd).
struct SignalEvent {
  static constexpr std::string_view kKey = "signal";
  int32_t sig = 0;
  ProcessPtr target;
  int32_t result = 0;  // the kernel's trace result: 0 delivered, 1 ignored, 2 already pending, ...
  static constexpr auto fields() {
    return std::make_tuple(field("sig", &SignalEvent::sig), field("target", &SignalEvent::target),
                           field("result", &SignalEvent::result));
  }
};

// ptrace(2) attach, seize, traceme or a write into the tracee.
struct TraceEvent {
  static constexpr std::string_view kKey = "trace";
  ProcessPtr target;
  int64_t request = 0;  // PTRACE_* request
  int32_t result = 0;   // 0 or -errno
  static constexpr auto fields() {
    return std::make_tuple(field("target", &TraceEvent::target), field("request", &TraceEvent::request),
                           field("result", &TraceEvent::result));
  }
};

// The set*id family: ids requested (4294967295 = unchanged) and the result
// (0 or -errno). glibc's seteuid/setegid arrive as setresuid/setresgid
// (-1, id, -1) and are reported as seteuid/setegid.
struct SetuidEvent {
  static constexpr std::string_view kKey = "setuid";
  uint32_t uid = 0;
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("uid", &SetuidEvent::uid), field("result", &SetuidEvent::result));
  }
};
struct SetgidEvent {
  static constexpr std::string_view kKey = "setgid";
  uint32_t gid = 0;
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("gid", &SetgidEvent::gid), field("result", &SetgidEvent::result));
  }
};
struct SeteuidEvent {
  static constexpr std::string_view kKey = "seteuid";
  uint32_t euid = 0;
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("euid", &SeteuidEvent::euid), field("result", &SeteuidEvent::result));
  }
};
struct SetegidEvent {
  static constexpr std::string_view kKey = "setegid";
  uint32_t egid = 0;
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("egid", &SetegidEvent::egid), field("result", &SetegidEvent::result));
  }
};
struct SetreuidEvent {
  static constexpr std::string_view kKey = "setreuid";
  uint32_t ruid = 0xffffffff;
  uint32_t euid = 0xffffffff;
  uint32_t suid = 0xffffffff;  // setresuid(2) only
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("ruid", &SetreuidEvent::ruid), field("euid", &SetreuidEvent::euid),
                           field("suid", &SetreuidEvent::suid), field("result", &SetreuidEvent::result));
  }
};
struct SetregidEvent {
  static constexpr std::string_view kKey = "setregid";
  uint32_t rgid = 0xffffffff;
  uint32_t egid = 0xffffffff;
  uint32_t sgid = 0xffffffff;  // setresgid(2) only
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("rgid", &SetregidEvent::rgid), field("egid", &SetregidEvent::egid),
                           field("sgid", &SetregidEvent::sgid), field("result", &SetregidEvent::result));
  }
};

struct ChdirEvent {
  static constexpr std::string_view kKey = "chdir";
  File target;
  static constexpr auto fields() { return std::make_tuple(field("target", &ChdirEvent::target)); }
};

struct ChrootEvent {
  static constexpr std::string_view kKey = "chroot";
  File target;
  static constexpr auto fields() { return std::make_tuple(field("target", &ChrootEvent::target)); }
};

// Access to another process's memory. type (Linux values): 1 process_vm_readv,
// 2 process_vm_writev, 3 open of /proc/PID/mem; flavor: the open's fflag for 3.
inline constexpr int32_t kProcCheckVmRead = 1;
inline constexpr int32_t kProcCheckVmWrite = 2;
inline constexpr int32_t kProcCheckMemOpen = 3;
struct ProcCheckEvent {
  static constexpr std::string_view kKey = "proc_check";
  ProcessPtr target;
  int32_t type = 0;
  int32_t flavor = 0;
  int64_t result = 0;  // bytes transferred, an fd, or -errno
  static constexpr auto fields() {
    return std::make_tuple(field("target", &ProcCheckEvent::target), field("type", &ProcCheckEvent::type),
                           field("flavor", &ProcCheckEvent::flavor),
                           field("result", &ProcCheckEvent::result));
  }
};

// A kernel module load attempt (init_module / finit_module), failed ones too.
struct KextloadEvent {
  static constexpr std::string_view kKey = "kextload";
  std::string identifier;    // module name as the file names it ("" for init_module)
  std::optional<File> file;  // finit_module's file
  int32_t result = 0;        // 0 or -errno
  static constexpr auto fields() {
    return std::make_tuple(field("identifier", &KextloadEvent::identifier),
                           field("file", &KextloadEvent::file), field("result", &KextloadEvent::result));
  }
};

struct MountEvent {
  static constexpr std::string_view kKey = "mount";
  std::string source;  // device, directory or a name such as "tmpfs"
  File mountpoint;
  std::string fstype;  // "" for a move or a bind
  uint64_t flags = 0;  // MS_* (mount) or MOVE_MOUNT_* (move_mount)
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("source", &MountEvent::source), field("mountpoint", &MountEvent::mountpoint),
                           field("fstype", &MountEvent::fstype), field("flags", &MountEvent::flags),
                           field("result", &MountEvent::result));
  }
};

struct UnmountEvent {
  static constexpr std::string_view kKey = "unmount";
  File mountpoint;
  uint32_t flags = 0;  // MNT_FORCE, MNT_DETACH, ...
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("mountpoint", &UnmountEvent::mountpoint),
                           field("flags", &UnmountEvent::flags), field("result", &UnmountEvent::result));
  }
};

// A change of a system clock: clock_settime, settimeofday, or an adjtimex /
// clock_adjtime that steps the clock (ADJ_SETOFFSET).
struct SettimeEvent {
  static constexpr std::string_view kKey = "settime";
  int32_t clock_id = 0;              // CLOCK_REALTIME 0, ...
  std::optional<Timespec> new_time;  // the time set, or the step (is_offset)
  bool is_offset = false;            // adjtimex ADJ_SETOFFSET: new_time is a signed step
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(
        field("clock_id", &SettimeEvent::clock_id), field("new_time", &SettimeEvent::new_time),
        field("is_offset", &SettimeEvent::is_offset), field("result", &SettimeEvent::result));
  }
};

// bpf(2) loading a program or creating a map.
struct BpfEvent {
  static constexpr std::string_view kKey = "bpf";
  uint32_t cmd = 0;    // BPF_MAP_CREATE 0, BPF_PROG_LOAD 5, BPF_BTF_LOAD 18, ...
  uint32_t type = 0;   // prog_type or map_type
  std::string name;    // prog_name / map_name
  int32_t result = 0;  // the new fd or -errno
  static constexpr auto fields() {
    return std::make_tuple(field("cmd", &BpfEvent::cmd), field("type", &BpfEvent::type),
                           field("name", &BpfEvent::name), field("result", &BpfEvent::result));
  }
};

struct MemfdCreateEvent {
  static constexpr std::string_view kKey = "memfd_create";
  std::string name;
  uint32_t flags = 0;  // MFD_*
  int32_t result = 0;  // the fd or -errno
  static constexpr auto fields() {
    return std::make_tuple(field("name", &MemfdCreateEvent::name), field("flags", &MemfdCreateEvent::flags),
                           field("result", &MemfdCreateEvent::result));
  }
};

// A Unix-domain socket connect / bind. Abstract names are shown as "@name".
struct UipcConnectEvent {
  static constexpr std::string_view kKey = "uipc_connect";
  File file;
  int32_t domain = 1;  // AF_UNIX
  int32_t type = 0;    // SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5
  int32_t protocol = 0;
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("file", &UipcConnectEvent::file), field("domain", &UipcConnectEvent::domain),
                           field("type", &UipcConnectEvent::type),
                           field("protocol", &UipcConnectEvent::protocol),
                           field("result", &UipcConnectEvent::result));
  }
};

struct UipcBindEvent {
  static constexpr std::string_view kKey = "uipc_bind";
  File dir;
  std::string filename;
  uint32_t mode = 0;
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("dir", &UipcBindEvent::dir), field("filename", &UipcBindEvent::filename),
                           field("mode", &UipcBindEvent::mode), field("result", &UipcBindEvent::result));
  }
};

// An IP endpoint. family: AF_INET 2, AF_INET6 10; address in its usual text form.
struct SocketAddress {
  int32_t family = 0;
  std::string address;
  uint32_t port = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("family", &SocketAddress::family), field("address", &SocketAddress::address),
                           field("port", &SocketAddress::port));
  }
};

// connect / bind / accept of an IP socket (Ward extension: ES has none).
// protocol: IPPROTO_TCP 6, IPPROTO_UDP 17, ...; type: SOCK_STREAM 1, SOCK_DGRAM 2.
struct ConnectEvent {
  static constexpr std::string_view kKey = "connect";
  SocketAddress remote;
  SocketAddress local;
  int32_t protocol = 0;
  int32_t type = 0;
  int32_t result = 0;  // 0, -EINPROGRESS (non-blocking), or -errno (-EPERM: denied by policy)
  static constexpr auto fields() {
    return std::make_tuple(field("remote", &ConnectEvent::remote), field("local", &ConnectEvent::local),
                           field("protocol", &ConnectEvent::protocol), field("type", &ConnectEvent::type),
                           field("result", &ConnectEvent::result));
  }
};

struct BindEvent {
  static constexpr std::string_view kKey = "bind";
  SocketAddress local;
  int32_t protocol = 0;
  int32_t type = 0;
  int32_t result = 0;
  static constexpr auto fields() {
    return std::make_tuple(field("local", &BindEvent::local), field("protocol", &BindEvent::protocol),
                           field("type", &BindEvent::type), field("result", &BindEvent::result));
  }
};

struct AcceptEvent {
  static constexpr std::string_view kKey = "accept";
  SocketAddress remote;
  SocketAddress local;
  int32_t protocol = 0;
  int32_t type = 0;
  int32_t fd = 0;  // the accepted connection
  static constexpr auto fields() {
    return std::make_tuple(field("remote", &AcceptEvent::remote), field("local", &AcceptEvent::local),
                           field("protocol", &AcceptEvent::protocol), field("type", &AcceptEvent::type),
                           field("fd", &AcceptEvent::fd));
  }
};

}  // namespace ward
