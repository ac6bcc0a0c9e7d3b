// What a payload is about, in the terms ECS and OCSF share: the file, the
// process acted on, the network endpoints, the syscall's result. The ECS and
// OCSF serializers write these with their own field names, and the payload's
// remaining fields (its "leftovers") under ward.<key> / unmapped.<key>.
//
// facts_of() has an overload per payload that has such facts; any other
// payload (one added to ward::Event later) takes the template: no facts, every
// field a leftover. So a new payload serializes sensibly before it is mapped.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "output/field_json.h"
#include "output/json_writer.h"
#include "ward/events.h"

namespace ward::output {

struct PayloadFacts {
  const File* file = nullptr;       // the file the event is about
  const File* previous = nullptr;   // rename: the file's name before (also a leftover)
  std::string path{};               // or only its path (link, uipc_bind: directory + name)
  std::string name{};               // or only a name (memfd_create: "memfd:NAME")
  const Process* target = nullptr;  // the process acted on (signal, trace, proc_check)
  const SocketAddress* local = nullptr;
  const SocketAddress* remote = nullptr;
  int32_t protocol = 0;                        // IPPROTO_*
  bool inbound = false;                        // accept: the remote end connected to us
  std::optional<int64_t> result{};             // 0 or more: done; -errno: failed
  std::array<std::string_view, 3> consumed{};  // fields written as facts, not repeated as leftovers

  bool has_file() const { return file || !path.empty() || !name.empty(); }
};

inline constexpr int64_t kInProgress = -115;  // -EINPROGRESS: a non-blocking connect under way

// ---- file events -------------------------------------------------------------

inline PayloadFacts facts_of(const OpenEvent& e) { return {.file = &e.file, .consumed = {"file"}}; }
inline PayloadFacts facts_of(const CloseEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }
inline PayloadFacts facts_of(const WriteEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }
inline PayloadFacts facts_of(const CreateEvent& e) {
  return {.file = &e.destination, .consumed = {"destination"}};
}
inline PayloadFacts facts_of(const UnlinkEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }
// The file as it is named now; the old name stays a leftover (source).
inline PayloadFacts facts_of(const RenameEvent& e) {
  return {.file = &e.destination, .previous = &e.source, .consumed = {"destination"}};
}
inline PayloadFacts facts_of(const LinkEvent& e) {
  std::string path = e.target_dir.path;
  if (path.empty() || path.back() != '/') path += '/';
  path += e.target_filename;
  return {.path = std::move(path)};
}
inline PayloadFacts facts_of(const TruncateEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }
inline PayloadFacts facts_of(const SetModeEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }
inline PayloadFacts facts_of(const SetOwnerEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }
inline PayloadFacts facts_of(const UtimesEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }
inline PayloadFacts facts_of(const SetExtattrEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }
inline PayloadFacts facts_of(const DeleteExtattrEvent& e) {
  return {.file = &e.target, .consumed = {"target"}};
}
inline PayloadFacts facts_of(const MmapEvent& e) { return {.file = &e.source, .consumed = {"source"}}; }
inline PayloadFacts facts_of(const ChrootEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }
inline PayloadFacts facts_of(const ChdirEvent& e) { return {.file = &e.target, .consumed = {"target"}}; }

// ---- process events ------------------------------------------------------------

inline PayloadFacts facts_of(const SignalEvent& e) {
  // result here is the signal's delivery state, not an errno: a leftover.
  return {.target = e.target.get(), .consumed = {"target"}};
}
inline PayloadFacts facts_of(const TraceEvent& e) {
  return {.target = e.target.get(), .result = e.result, .consumed = {"target"}};
}
inline PayloadFacts facts_of(const ProcCheckEvent& e) {
  return {.target = e.target.get(), .result = e.result, .consumed = {"target"}};
}
inline PayloadFacts facts_of(const SetuidEvent& e) { return {.result = e.result}; }
inline PayloadFacts facts_of(const SetgidEvent& e) { return {.result = e.result}; }
inline PayloadFacts facts_of(const SeteuidEvent& e) { return {.result = e.result}; }
inline PayloadFacts facts_of(const SetegidEvent& e) { return {.result = e.result}; }
inline PayloadFacts facts_of(const SetreuidEvent& e) { return {.result = e.result}; }
inline PayloadFacts facts_of(const SetregidEvent& e) { return {.result = e.result}; }

// ---- kernel, mount, system -------------------------------------------------------

inline PayloadFacts facts_of(const KextloadEvent& e) {
  return {.file = e.file ? &*e.file : nullptr, .result = e.result, .consumed = {"file"}};
}
inline PayloadFacts facts_of(const MountEvent& e) {
  return {.file = &e.mountpoint, .result = e.result, .consumed = {"mountpoint"}};
}
inline PayloadFacts facts_of(const UnmountEvent& e) {
  return {.file = &e.mountpoint, .result = e.result, .consumed = {"mountpoint"}};
}
// new_time is a time, or a signed step when is_offset: leftover_extras()
// writes it as the one or the other, so each field keeps one type.
inline PayloadFacts facts_of(const SettimeEvent& e) { return {.result = e.result, .consumed = {"new_time"}}; }
inline PayloadFacts facts_of(const BpfEvent& e) { return {.result = e.result}; }
inline PayloadFacts facts_of(const MemfdCreateEvent& e) {
  // How /proc/PID/fd names it.
  return {.name = "memfd:" + e.name, .result = e.result};
}
inline PayloadFacts facts_of(const MprotectEvent&) { return {}; }

// ---- network ------------------------------------------------------------------------

inline PayloadFacts facts_of(const UipcConnectEvent& e) {
  return {.file = &e.file, .result = e.result, .consumed = {"file"}};
}
inline PayloadFacts facts_of(const UipcBindEvent& e) {
  std::string path = e.dir.path;
  if (path.empty() || path.back() != '/') path += '/';
  path += e.filename;
  return {.path = std::move(path), .result = e.result};
}
inline PayloadFacts facts_of(const ConnectEvent& e) {
  return {.local = &e.local,
          .remote = &e.remote,
          .protocol = e.protocol,
          .result = e.result,
          .consumed = {"local", "remote", "protocol"}};
}
inline PayloadFacts facts_of(const BindEvent& e) {
  return {.local = &e.local, .protocol = e.protocol, .result = e.result, .consumed = {"local", "protocol"}};
}
inline PayloadFacts facts_of(const AcceptEvent& e) {
  return {.local = &e.local,
          .remote = &e.remote,
          .protocol = e.protocol,
          .inbound = true,
          .consumed = {"local", "remote", "protocol"}};
}

// Any other payload: nothing known, every field a leftover.
template <typename Payload>
PayloadFacts facts_of(const Payload&) {
  return {};
}

// Fields a payload's leftovers get beyond its own (written last in the
// leftovers object); most payloads have none.
inline void leftover_extras(JsonWriter& w, const SettimeEvent& e) {
  if (!e.new_time) return;
  if (e.is_offset) {
    w.key("offset_ns");
    w.value(e.new_time->sec * 1'000'000'000 + static_cast<int64_t>(e.new_time->nsec));
  } else {
    w.key("new_time");
    w.value(field_json::format_timespec(*e.new_time));
  }
}
template <typename Payload>
void leftover_extras(JsonWriter&, const Payload&) {}

// Writes the payload's fields the facts did not cover as one object. Files are
// reduced to their path (the facts carry the one that matters in full); a
// process is written by write_process, in the schema's own shape.
template <typename Payload, typename ProcessWriter>
void write_leftovers(JsonWriter& w, const Payload& payload, const PayloadFacts& facts,
                     ProcessWriter&& write_process) {
  w.begin_object();
  for_each_field(payload, [&](std::string_view name, const auto& member) {
    using Member = std::decay_t<decltype(member)>;
    for (auto consumed : facts.consumed)
      if (consumed == name) return;
    if (field_json::is_absent(member)) return;
    w.key(name);
    if constexpr (std::is_same_v<Member, File> || std::is_same_v<Member, std::optional<File>>) {
      const File& f = [&]() -> const File& {
        if constexpr (std::is_same_v<Member, File>)
          return member;
        else
          return *member;
      }();
      w.begin_object();
      w.key("path");
      w.value(std::string_view(f.path));
      w.end_object();
    } else if constexpr (std::is_same_v<Member, ProcessPtr>) {
      write_process(*member);
    } else {
      field_json::write_value(w, member);
    }
  });
  leftover_extras(w, payload);
  w.end_object();
}

// Whether the payload has fields left over at all (so an empty object is not
// written).
template <typename Payload>
bool has_leftovers(const Payload& payload, const PayloadFacts& facts) {
  bool any = false;
  for_each_field(payload, [&](std::string_view name, const auto& member) {
    for (auto consumed : facts.consumed)
      if (consumed == name) return;
    if (!field_json::is_absent(member)) any = true;
  });
  return any;
}

}  // namespace ward::output
