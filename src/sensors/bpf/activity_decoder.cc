#include "sensors/bpf/activity_decoder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <array>
#include <cstring>
#include <vector>

#include "sensors/bpf/record_decoder.h"
#include "ward_event_wire.h"

namespace ward::sensors::bpf {
namespace {

static_assert(sizeof(ward_ev_head) % 8 == 0 && offsetof(ward_fs_rec, data) % 8 == 0,
              "activity records must stay 8-byte aligned");
static_assert(sizeof(ward_mute_key) == 4 + WARD_MUTE_KEY_MAX, "LPM key layout");
static_assert(sizeof(ward_net_rule) == 48, "network rule layout changed: update both sides");

struct TypeRow {
  uint32_t record;
  EventType type;
};

constexpr std::array kTypeRows = {
    TypeRow{WARD_EV_OPEN, EventType::NotifyOpen},
    TypeRow{WARD_EV_CLOSE, EventType::NotifyClose},
    TypeRow{WARD_EV_WRITE, EventType::NotifyWrite},
    TypeRow{WARD_EV_CREATE, EventType::NotifyCreate},
    TypeRow{WARD_EV_UNLINK, EventType::NotifyUnlink},
    TypeRow{WARD_EV_RENAME, EventType::NotifyRename},
    TypeRow{WARD_EV_LINK, EventType::NotifyLink},
    TypeRow{WARD_EV_TRUNCATE, EventType::NotifyTruncate},
    TypeRow{WARD_EV_SETMODE, EventType::NotifySetMode},
    TypeRow{WARD_EV_SETOWNER, EventType::NotifySetOwner},
    TypeRow{WARD_EV_UTIMES, EventType::NotifyUtimes},
    TypeRow{WARD_EV_SETEXTATTR, EventType::NotifySetExtattr},
    TypeRow{WARD_EV_DELETEEXTATTR, EventType::NotifyDeleteExtattr},
    TypeRow{WARD_EV_MMAP, EventType::NotifyMmap},
    TypeRow{WARD_EV_MPROTECT, EventType::NotifyMprotect},
    TypeRow{WARD_EV_SIGNAL, EventType::NotifySignal},
    TypeRow{WARD_EV_TRACE, EventType::NotifyTrace},
    TypeRow{WARD_EV_SETUID, EventType::NotifySetuid},
    TypeRow{WARD_EV_SETGID, EventType::NotifySetgid},
    TypeRow{WARD_EV_SETEUID, EventType::NotifySeteuid},
    TypeRow{WARD_EV_SETEGID, EventType::NotifySetegid},
    TypeRow{WARD_EV_SETREUID, EventType::NotifySetreuid},
    TypeRow{WARD_EV_SETREGID, EventType::NotifySetregid},
    TypeRow{WARD_EV_CHDIR, EventType::NotifyChdir},
    TypeRow{WARD_EV_CHROOT, EventType::NotifyChroot},
    TypeRow{WARD_EV_PROC_CHECK, EventType::NotifyProcCheck},
    TypeRow{WARD_EV_KEXTLOAD, EventType::NotifyKextload},
    TypeRow{WARD_EV_MOUNT, EventType::NotifyMount},
    TypeRow{WARD_EV_UNMOUNT, EventType::NotifyUnmount},
    TypeRow{WARD_EV_SETTIME, EventType::NotifySettime},
    TypeRow{WARD_EV_BPF, EventType::NotifyBpf},
    TypeRow{WARD_EV_MEMFD_CREATE, EventType::NotifyMemfdCreate},
    TypeRow{WARD_EV_UIPC_CONNECT, EventType::NotifyUipcConnect},
    TypeRow{WARD_EV_UIPC_BIND, EventType::NotifyUipcBind},
    TypeRow{WARD_EV_CONNECT, EventType::NotifyConnect},
    TypeRow{WARD_EV_BIND, EventType::NotifyBind},
    TypeRow{WARD_EV_ACCEPT, EventType::NotifyAccept},
    TypeRow{WARD_EV_NET_DENIED, EventType::NotifyAuthResult},
};

template <typename T>
bool read_struct(std::span<const uint8_t> buf, T* out) {
  if (buf.size() < sizeof(T)) return false;
  std::memcpy(out, buf.data(), sizeof(T));
  return true;
}

// A piece of the data area; nullopt when it lies outside what arrived.
std::optional<std::string_view> piece_of(std::span<const uint8_t> data, const ward_piece& p) {
  if (p.off > data.size() || p.len > data.size() - p.off) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(data.data()) + p.off, p.len);
}

// The fixed part of a file-shaped record and its data area.
struct FsView {
  ward_fs_rec fixed;  // data[] not copied
  std::span<const uint8_t> data;
  std::string_view base[2];
  std::string_view rel[2];
};

std::optional<FsView> view_fs(std::span<const uint8_t> rec) {
  constexpr std::size_t kFixed = offsetof(ward_fs_rec, data);
  if (rec.size() < kFixed) return std::nullopt;
  FsView v;
  std::memcpy(&v.fixed, rec.data(), kFixed);
  v.data = rec.subspan(kFixed);
  for (int i = 0; i < 2; ++i) {
    auto b = piece_of(v.data, v.fixed.path[i].base);
    auto r = piece_of(v.data, v.fixed.path[i].rel);
    if (!b || !r) return std::nullopt;
    v.base[i] = *b;
    v.rel[i] = *r;
  }
  return v;
}

File file_of_slot(const FsView& v, int i) {
  const ward_ev_path& p = v.fixed.path[i];
  File f;
  if (p.flags & WARD_EVP_ABSTRACT) {
    f.path = "@" + std::string(v.rel[i]);
  } else {
    f.path = resolve_path(v.base[i], v.rel[i]);
  }
  f.path_truncated = (p.flags & (WARD_EVP_TRUNCATED | WARD_EVP_FAULTED)) != 0;
  if (p.flags & WARD_EVP_HAS_STAT) f.stat = decode_wire_file(p.stat);
  return f;
}

std::string literal_of(const FsView& v, int i) { return std::string(v.rel[i]); }

// open(2) flags -> ES fflag (BSD values).
int32_t fflag_of_open_flags(uint64_t flags) {
  int32_t f = 0;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      f = kFflagRead;
      break;
    case O_WRONLY:
      f = kFflagWrite;
      break;
    default:
      f = kFflagRead | kFflagWrite;
  }
  if (flags & O_NONBLOCK) f |= kFflagNonblock;
  if (flags & O_APPEND) f |= kFflagAppend;
  if (flags & O_CREAT) f |= kFflagCreate;
  if (flags & O_TRUNC) f |= kFflagTruncate;
  if (flags & O_EXCL) f |= kFflagExclusive;
  return f;
}

// utimensat's special nanosecond values.
constexpr int64_t kUtimeNow = (1l << 30) - 1;
constexpr int64_t kUtimeOmit = (1l << 30) - 2;

std::optional<Timespec> requested_time(int64_t sec, int64_t nsec, bool given, uint64_t now_ns) {
  if (given && nsec == kUtimeOmit) return std::nullopt;
  if (!given || nsec == kUtimeNow)
    return Timespec{static_cast<int64_t>(now_ns / 1'000'000'000),
                    static_cast<uint32_t>(now_ns % 1'000'000'000)};
  return Timespec{sec, static_cast<uint32_t>(nsec)};
}

uint32_t id_arg(uint64_t v) { return static_cast<uint32_t>(v); }
int32_t result_of(int64_t r) { return static_cast<int32_t>(r); }

std::string module_identifier(std::string_view path) {
  std::string_view name = name_of(path);
  if (auto dot = name.find(".ko"); dot != std::string_view::npos) name = name.substr(0, dot);
  return std::string(name);
}

RawNotify base_notify(const ward_ev_head& h, EventType type) {
  RawNotify n;
  n.type = type;
  n.boot_ns = h.hdr.boot_ns;
  n.tid = static_cast<pid_t>(h.hdr.tid);
  n.proc = decode_wire_proc(h.proc);
  return n;
}

std::optional<RawEvent> decode_fs(std::span<const uint8_t> rec, EventType type,
                                  const ActivityDecodeContext& ctx) {
  auto view = view_fs(rec);
  if (!view) return std::nullopt;
  const FsView& v = *view;
  const ward_ev_head& h = v.fixed.h;
  const __u64* a = h.arg;
  RawNotify n = base_notify(h, type);
  uint64_t now_ns = static_cast<uint64_t>(static_cast<int64_t>(h.hdr.boot_ns) + ctx.boot_to_realtime_ns);
  auto path0 = [&] {
    File f = file_of_slot(v, 0);
    n.targets.push_back(f.path);
    return f;
  };

  switch (type) {
    case EventType::NotifyOpen:
      n.payload = OpenEvent{path0(), fflag_of_open_flags(a[0])};
      break;
    case EventType::NotifyClose:
      n.payload = CloseEvent{a[0] != 0, path0()};
      break;
    case EventType::NotifyWrite:
      n.payload = WriteEvent{path0()};
      break;
    case EventType::NotifyCreate: {
      CreateEvent e;
      e.destination = path0();
      e.mode = static_cast<uint32_t>(a[0]);
      if (h.syscall_nr == SYS_symlink || h.syscall_nr == SYS_symlinkat) e.symlink_target = literal_of(v, 1);
      n.payload = std::move(e);
      break;
    }
    case EventType::NotifyUnlink: {
      UnlinkEvent e;
      e.target = path0();
      e.parent_dir.path = std::string(parent_of(e.target.path));
      e.parent_dir.path_truncated = e.target.path_truncated;
      e.is_directory = a[0] != 0;
      n.payload = std::move(e);
      break;
    }
    case EventType::NotifyRename: {
      RenameEvent e;
      e.source = path0();
      e.destination = file_of_slot(v, 1);
      n.targets.push_back(e.destination.path);
      e.flags = static_cast<uint32_t>(a[0]);
      e.destination_type = (e.flags & 2 /* RENAME_EXCHANGE */)    ? kDestinationExistingFile
                           : (e.flags & 1 /* RENAME_NOREPLACE */) ? kDestinationNewPath
                                                                  : kDestinationUnknown;
      n.payload = std::move(e);
      break;
    }
    case EventType::NotifyLink: {
      LinkEvent e;
      e.source = path0();
      File dest = file_of_slot(v, 1);
      n.targets.push_back(dest.path);
      e.target_dir.path = std::string(parent_of(dest.path));
      e.target_dir.path_truncated = dest.path_truncated;
      e.target_filename = std::string(name_of(dest.path));
      n.payload = std::move(e);
      break;
    }
    case EventType::NotifyTruncate:
      n.payload = TruncateEvent{path0(), static_cast<int64_t>(a[0])};
      break;
    case EventType::NotifySetMode:
      n.payload = SetModeEvent{static_cast<uint32_t>(a[0] & 07777), path0()};
      break;
    case EventType::NotifySetOwner:
      n.payload = SetOwnerEvent{id_arg(a[0]), id_arg(a[1]), path0()};
      break;
    case EventType::NotifyUtimes: {
      bool given = (h.flags & 1) != 0;
      UtimesEvent e;
      e.target = path0();
      e.atime = requested_time(static_cast<int64_t>(a[0]), static_cast<int64_t>(a[1]), given, now_ns);
      e.mtime = requested_time(static_cast<int64_t>(a[2]), static_cast<int64_t>(a[3]), given, now_ns);
      n.payload = std::move(e);
      break;
    }
    case EventType::NotifySetExtattr:
      n.payload = SetExtattrEvent{path0(), literal_of(v, 1)};
      break;
    case EventType::NotifyDeleteExtattr:
      n.payload = DeleteExtattrEvent{path0(), literal_of(v, 1)};
      break;
    case EventType::NotifyMmap: {
      MmapEvent e;
      e.protection = static_cast<int32_t>(a[0]);
      e.flags = static_cast<int32_t>(a[1]);
      e.file_pos = a[2];
      // What the open mode would allow a mapping of this file.
      uint64_t fmode = a[3];
      e.max_protection = 4 /* PROT_EXEC */ | ((fmode & 1) ? 1 : 0) | (((fmode & 2) && (e.flags & 1)) ? 2 : 0);
      e.source = path0();
      n.payload = std::move(e);
      break;
    }
    case EventType::NotifyMprotect:
      n.payload = MprotectEvent{static_cast<int32_t>(a[0]), a[1], a[2]};
      break;
    case EventType::NotifySetuid:
      n.payload = SetuidEvent{id_arg(a[0]), result_of(h.result)};
      break;
    case EventType::NotifySetgid:
      n.payload = SetgidEvent{id_arg(a[0]), result_of(h.result)};
      break;
    case EventType::NotifySeteuid:
      n.payload = SeteuidEvent{id_arg(a[1]), result_of(h.result)};
      break;
    case EventType::NotifySetegid:
      n.payload = SetegidEvent{id_arg(a[1]), result_of(h.result)};
      break;
    case EventType::NotifySetreuid:
      n.payload = SetreuidEvent{id_arg(a[0]), id_arg(a[1]), id_arg(a[2]), result_of(h.result)};
      break;
    case EventType::NotifySetregid:
      n.payload = SetregidEvent{id_arg(a[0]), id_arg(a[1]), id_arg(a[2]), result_of(h.result)};
      break;
    case EventType::NotifyChdir:
      n.payload = ChdirEvent{path0()};
      break;
    case EventType::NotifyChroot:
      n.payload = ChrootEvent{path0()};
      break;
    case EventType::NotifyKextload: {
      KextloadEvent e;
      if (h.flags & 1) {
        e.file = path0();
        e.identifier = module_identifier(e.file->path);
      }
      e.result = result_of(h.result);
      n.payload = std::move(e);
      break;
    }
    case EventType::NotifyMount: {
      MountEvent e;
      e.mountpoint = path0();
      if (h.syscall_nr == SYS_move_mount) {
        e.source = file_of_slot(v, 1).path;
      } else {
        e.source = literal_of(v, 1);
        e.fstype = std::string(v.base[1]);
      }
      e.flags = a[0];
      e.result = result_of(h.result);
      n.payload = std::move(e);
      break;
    }
    case EventType::NotifyUnmount:
      n.payload = UnmountEvent{path0(), static_cast<uint32_t>(a[0]), result_of(h.result)};
      break;
    case EventType::NotifySettime: {
      SettimeEvent e;
      e.clock_id = static_cast<int32_t>(a[0]);
      if (h.flags & 1) e.new_time = Timespec{static_cast<int64_t>(a[1]), static_cast<uint32_t>(a[2])};
      e.is_offset = a[3] != 0;
      e.result = result_of(h.result);
      n.payload = std::move(e);
      break;
    }
    case EventType::NotifyBpf:
      n.payload = BpfEvent{static_cast<uint32_t>(a[0]), static_cast<uint32_t>(a[1]), literal_of(v, 0),
                           result_of(h.result)};
      break;
    case EventType::NotifyMemfdCreate:
      n.payload = MemfdCreateEvent{literal_of(v, 0), static_cast<uint32_t>(a[0]), result_of(h.result)};
      break;
    case EventType::NotifyUipcConnect:
      n.payload = UipcConnectEvent{path0(), AF_UNIX, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]),
                                   result_of(h.result)};
      break;
    case EventType::NotifyUipcBind: {
      File sock = path0();
      UipcBindEvent e;
      e.dir.path = std::string(parent_of(sock.path));
      e.dir.path_truncated = sock.path_truncated;
      e.filename = std::string(name_of(sock.path));
      if (v.fixed.path[0].flags & WARD_EVP_ABSTRACT) {
        e.dir.path.clear();
        e.filename = sock.path;
      }
      e.mode = static_cast<uint32_t>(a[2]);
      e.result = result_of(h.result);
      n.payload = std::move(e);
      break;
    }
    default:
      return std::nullopt;
  }
  return n;
}

std::optional<RawEvent> decode_task(std::span<const uint8_t> rec, EventType type) {
  ward_task_rec r;
  if (!read_struct(rec, &r)) return std::nullopt;
  RawNotify n = base_notify(r.h, type);
  if (r.target_found) n.target_process = decode_wire_proc(r.target);
  const __u64* a = r.h.arg;
  switch (type) {
    case EventType::NotifySignal:
      n.payload = SignalEvent{static_cast<int32_t>(a[0]), nullptr, static_cast<int32_t>(a[1])};
      break;
    case EventType::NotifyTrace:
      n.payload = TraceEvent{nullptr, static_cast<int64_t>(a[0]), result_of(r.h.result)};
      break;
    case EventType::NotifyProcCheck:
      n.payload = ProcCheckEvent{nullptr, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), r.h.result};
      break;
    default:
      return std::nullopt;
  }
  // Without the target's facts (it was gone) the hub can still name it by pid.
  if (!n.target_process) {
    RawProc gone;
    gone.tgid = static_cast<pid_t>(type == EventType::NotifySignal  ? a[3]
                                   : type == EventType::NotifyTrace ? a[1]
                                                                    : a[2]);
    if (gone.tgid > 0) n.target_process = gone;
  }
  return n;
}

SocketAddress address_of(const ward_sockaddr& s) {
  SocketAddress a;
  a.family = s.family;
  a.port = s.port;
  char text[INET6_ADDRSTRLEN] = {};
  if (s.family == AF_INET && inet_ntop(AF_INET, s.addr, text, sizeof(text)))
    a.address = text;
  else if (s.family == AF_INET6 && inet_ntop(AF_INET6, s.addr, text, sizeof(text)))
    a.address = text;
  return a;
}

std::string endpoint_url(uint32_t protocol, const SocketAddress& a) {
  std::string scheme = protocol == IPPROTO_UDP ? "udp" : protocol == IPPROTO_TCP ? "tcp" : "ip";
  std::string host = a.family == AF_INET6 ? "[" + a.address + "]" : a.address;
  return scheme + "://" + host + ":" + std::to_string(a.port);
}

std::optional<RawEvent> decode_net(std::span<const uint8_t> rec, EventType type) {
  ward_net_rec r;
  if (!read_struct(rec, &r)) return std::nullopt;
  RawNotify n = base_notify(r.h, type);
  auto proto = static_cast<int32_t>(r.protocol);
  auto stype = static_cast<int32_t>(r.sock_type);
  switch (type) {
    case EventType::NotifyConnect:
      n.payload =
          ConnectEvent{address_of(r.remote), address_of(r.local), proto, stype, result_of(r.h.result)};
      break;
    case EventType::NotifyBind:
      n.payload = BindEvent{address_of(r.local), proto, stype, result_of(r.h.result)};
      break;
    case EventType::NotifyAccept:
      n.payload = AcceptEvent{address_of(r.remote), address_of(r.local), proto, stype, result_of(r.h.result)};
      break;
    case EventType::NotifyAuthResult: {
      bool connect = r.direction == WARD_NET_CONNECT;
      AuthResultEvent e;
      e.auth_event_type = static_cast<uint32_t>(connect ? EventType::NotifyConnect : EventType::NotifyBind);
      e.target = endpoint_url(r.protocol, address_of(connect ? r.remote : r.local));
      e.result = "deny";
      e.decided_by = "kernel";
      e.rule = "#" + std::to_string(r.rule_id);  // NetworkRules names it
      n.payload = std::move(e);
      n.targets.push_back(std::get<AuthResultEvent>(n.payload).target);
      break;
    }
    default:
      return std::nullopt;
  }
  return n;
}

}  // namespace

std::optional<EventType> event_type_of_record(uint32_t record_type) {
  for (const auto& row : kTypeRows)
    if (row.record == record_type) return row.type;
  return std::nullopt;
}

std::optional<uint32_t> record_type_of_event(EventType type) {
  for (const auto& row : kTypeRows)
    if (row.type == type && row.record != WARD_EV_NET_DENIED) return row.record;
  return std::nullopt;
}

std::string resolve_path(std::string_view base, std::string_view rel) {
  std::string joined;
  if (rel.empty()) {
    joined = base;
  } else {
    joined = base;
    if (rel.front() != '/') joined += '/';
    joined += rel;
  }
  std::vector<std::string_view> parts;
  std::string_view rest(joined);
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto part = rest.substr(0, slash);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

std::string_view parent_of(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

std::string_view name_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::optional<RawEvent> decode_activity_record(std::span<const uint8_t> record,
                                               const ActivityDecodeContext& context) {
  ward_rec_header hdr;
  if (!read_struct(record, &hdr)) return std::nullopt;
  if (hdr.version != WARD_WIRE_VERSION || hdr.size > record.size() || hdr.size < sizeof(ward_ev_head))
    return std::nullopt;
  record = record.first(hdr.size);
  auto type = event_type_of_record(hdr.type);
  if (!type) return std::nullopt;
  switch (hdr.type) {
    case WARD_EV_SIGNAL:
    case WARD_EV_TRACE:
    case WARD_EV_PROC_CHECK:
      return decode_task(record, *type);
    case WARD_EV_CONNECT:
    case WARD_EV_BIND:
    case WARD_EV_ACCEPT:
    case WARD_EV_NET_DENIED:
      return decode_net(record, *type);
    default:
      return decode_fs(record, *type, context);
  }
}

}  // namespace ward::sensors::bpf
