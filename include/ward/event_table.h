// The event-type table: every event type is declared here, once. The enum,
// the CLI's names, ES numbering and `ward log --list` all come from it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include "ward/events.h"

namespace ward {

enum class ActionType : uint8_t { Auth = 0, Notify = 1 };

// X(Enum, cli name, ES number, action, AUTH-capable, payload struct)
// ES numbers are Apple's es_event_type_t values where Apple has the event;
// Linux-only events take numbers from 1000 on.
#define WARD_EVENT_TYPES(X)                           \
  X(AuthExec, "auth_exec", 0, Auth, true, ExecEvent)  \
  X(AuthOpen, "auth_open", 1, Auth, true, OpenEvent)  \
  X(NotifyExec, "exec", 9, Notify, true, ExecEvent)   \
  X(NotifyFork, "fork", 11, Notify, false, ForkEvent) \
  X(NotifyExit, "exit", 15, Notify, false, ExitEvent) \
  X(NotifyAuthResult, "auth_result", 1000, Notify, false, AuthResultEvent)       \
  /* file (ward/activity_events.h) */                                            \
  X(NotifyOpen, "open", 10, Notify, true, OpenEvent)                              \
  X(NotifyClose, "close", 12, Notify, false, CloseEvent)                          \
  X(NotifyCreate, "create", 13, Notify, false, CreateEvent)                       \
  X(NotifyLink, "link", 19, Notify, false, LinkEvent)                             \
  X(NotifyMmap, "mmap", 20, Notify, false, MmapEvent)                             \
  X(NotifyMprotect, "mprotect", 21, Notify, false, MprotectEvent)                 \
  X(NotifyRename, "rename", 25, Notify, false, RenameEvent)                       \
  X(NotifySetExtattr, "setextattr", 27, Notify, false, SetExtattrEvent)           \
  X(NotifySetMode, "setmode", 29, Notify, false, SetModeEvent)                    \
  X(NotifySetOwner, "setowner", 30, Notify, false, SetOwnerEvent)                 \
  X(NotifyUnlink, "unlink", 32, Notify, false, UnlinkEvent)                       \
  X(NotifyWrite, "write", 33, Notify, false, WriteEvent)                          \
  X(NotifyTruncate, "truncate", 41, Notify, false, TruncateEvent)                 \
  X(NotifyUtimes, "utimes", 59, Notify, false, UtimesEvent)                       \
  X(NotifyDeleteExtattr, "deleteextattr", 70, Notify, false, DeleteExtattrEvent)  \
  /* process */                                                                  \
  X(NotifySignal, "signal", 31, Notify, false, SignalEvent)                       \
  X(NotifyChdir, "chdir", 51, Notify, false, ChdirEvent)                          \
  X(NotifyChroot, "chroot", 57, Notify, false, ChrootEvent)                       \
  X(NotifyProcCheck, "proc_check", 86, Notify, false, ProcCheckEvent)             \
  X(NotifyTrace, "trace", 96, Notify, false, TraceEvent)                          \
  X(NotifySetuid, "setuid", 103, Notify, false, SetuidEvent)                      \
  X(NotifySetgid, "setgid", 104, Notify, false, SetgidEvent)                      \
  X(NotifySeteuid, "seteuid", 105, Notify, false, SeteuidEvent)                   \
  X(NotifySetegid, "setegid", 106, Notify, false, SetegidEvent)                   \
  X(NotifySetreuid, "setreuid", 107, Notify, false, SetreuidEvent)                \
  X(NotifySetregid, "setregid", 108, Notify, false, SetregidEvent)                \
  /* kernel, mount, system */                                                    \
  X(NotifyKextload, "kextload", 17, Notify, false, KextloadEvent)                 \
  X(NotifyMount, "mount", 22, Notify, false, MountEvent)                          \
  X(NotifyUnmount, "unmount", 23, Notify, false, UnmountEvent)                    \
  X(NotifySettime, "settime", 75, Notify, false, SettimeEvent)                    \
  X(NotifyBpf, "bpf", 1004, Notify, false, BpfEvent)                              \
  X(NotifyMemfdCreate, "memfd_create", 1005, Notify, false, MemfdCreateEvent)     \
  /* network */                                                                  \
  X(NotifyUipcBind, "uipc_bind", 76, Notify, false, UipcBindEvent)                \
  X(NotifyUipcConnect, "uipc_connect", 78, Notify, false, UipcConnectEvent)       \
  X(NotifyConnect, "connect", 1001, Notify, true, ConnectEvent)                   \
  X(NotifyBind, "bind", 1002, Notify, true, BindEvent)                            \
  X(NotifyAccept, "accept", 1003, Notify, false, AcceptEvent)

enum class EventType : uint32_t {
#define WARD_X(e, name, num, action, auth, type) e = num,
  WARD_EVENT_TYPES(WARD_X)
#undef WARD_X
};

struct EventTypeInfo {
  EventType type;
  std::string_view name;
  uint32_t es_number;
  ActionType action;
  bool auth_capable;
  std::size_t payload_index;  // index of the payload struct in ward::Event
};

namespace detail {
template <typename T, typename V>
struct variant_index;
template <typename T, typename... Ts>
struct variant_index<T, std::variant<Ts...>> {
  static constexpr std::size_t value = [] {
    std::size_t i = 0;
    ((std::is_same_v<T, Ts> ? false : (++i, true)) && ...);
    return i;
  }();
};
}  // namespace detail

inline constexpr std::array kEventTypes = {
#define WARD_X(e, name, num, action, auth, type) \
  EventTypeInfo{EventType::e, name, num, ActionType::action, auth, detail::variant_index<type, Event>::value},
    WARD_EVENT_TYPES(WARD_X)
#undef WARD_X
};

// Version of the event schema (the table and the payload fields). Bump it when
// a field is added, renamed or changes meaning.
inline constexpr uint32_t kEventSchemaVersion = 1;

constexpr const EventTypeInfo* event_info(EventType t) {
  for (const auto& i : kEventTypes)
    if (i.type == t) return &i;
  return nullptr;
}

constexpr std::optional<EventType> event_type_from_name(std::string_view name) {
  for (const auto& i : kEventTypes)
    if (i.name == name) return i.type;
  return std::nullopt;
}

constexpr std::string_view event_name(EventType t) {
  const auto* i = event_info(t);
  return i ? i->name : std::string_view{"unknown"};
}

// Dense index 0..kEventTypes.size()-1, for per-type arrays such as seq_num.
constexpr std::size_t event_index(EventType t) {
  for (std::size_t n = 0; n < kEventTypes.size(); ++n)
    if (kEventTypes[n].type == t) return n;
  return kEventTypes.size();
}

static_assert(
    [] {
      for (const auto& i : kEventTypes)
        if (i.payload_index >= std::variant_size_v<Event>) return false;
      return true;
    }(),
    "every event type's payload must be an alternative of ward::Event");

}  // namespace ward
