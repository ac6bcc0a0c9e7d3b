// Open Cybersecurity Schema Framework events, one JSON object per line.
// exec and fork are Process Activity: Launch (launch_type Exec / Fork), exit is
// Terminate, open is File System Activity: Open; an AUTH decision
// (auth_result) takes the class of the event it decided, with the
// security_control profile's action and disposition. Every other payload goes
// through one generic writer: class and activity from ocsf_activity() (file
// events: File System Activity; signal, ptrace, set*id: Process Activity;
// connect, accept, bind: Network Activity; mmap: Module, mprotect: Memory,
// kextload: Kernel Extension, bpf: Kernel Activity), its file, target process
// and endpoints from facts_of() (payload_facts.h), the rest of its fields under
// unmapped.<key>. A payload nobody has mapped is a Base Event (class 0,
// activity Other) with all its fields under unmapped.<key>, so it serializes
// before anyone maps it. Unknown values are left out, never written as null.

#include <sys/sysmacros.h>

#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "output/json_writer.h"
#include "output/mapping_helpers.h"
#include "output/payload_facts.h"
#include "output/serializer.h"

namespace ward::output {
namespace {

using mapping::entity_id;

struct OcsfClass {
  uint32_t class_uid;
  std::string_view class_name;
  uint32_t category_uid;
  std::string_view category_name;
};

inline constexpr OcsfClass kFileSystemActivity{1001, "File System Activity", 1, "System Activity"};
inline constexpr OcsfClass kKernelExtensionActivity{1002, "Kernel Extension Activity", 1, "System Activity"};
inline constexpr OcsfClass kKernelActivity{1003, "Kernel Activity", 1, "System Activity"};
inline constexpr OcsfClass kMemoryActivity{1004, "Memory Activity", 1, "System Activity"};
inline constexpr OcsfClass kModuleActivity{1005, "Module Activity", 1, "System Activity"};
inline constexpr OcsfClass kProcessActivity{1007, "Process Activity", 1, "System Activity"};
inline constexpr OcsfClass kNetworkActivity{4001, "Network Activity", 4, "Network Activity"};
inline constexpr OcsfClass kBaseEvent{0, "Base Event", 0, "Uncategorized"};

enum class LaunchType : uint8_t { None = 0, Fork = 2, Exec = 3 };

struct OcsfActivity {
  OcsfClass cls;
  uint32_t activity_id;
  std::string_view activity_name;  // for 99 (Other): what the activity is
  LaunchType launch = LaunchType::None;
};

inline constexpr uint32_t kOtherActivity = 99;
inline constexpr OcsfActivity kOther{kBaseEvent, kOtherActivity, "Other"};

// The class and activity of each payload. A payload nobody has mapped is a
// Base Event, activity Other.
OcsfActivity ocsf_activity(const ExecEvent&) { return {kProcessActivity, 1, "Launch", LaunchType::Exec}; }
OcsfActivity ocsf_activity(const ForkEvent&) { return {kProcessActivity, 1, "Launch", LaunchType::Fork}; }
OcsfActivity ocsf_activity(const ExitEvent&) { return {kProcessActivity, 2, "Terminate"}; }
OcsfActivity ocsf_activity(const OpenEvent&) { return {kFileSystemActivity, 14, "Open"}; }
OcsfActivity ocsf_activity(const CloseEvent&) { return {kFileSystemActivity, kOtherActivity, "Close"}; }
OcsfActivity ocsf_activity(const WriteEvent&) { return {kFileSystemActivity, 3, "Update"}; }
OcsfActivity ocsf_activity(const CreateEvent&) { return {kFileSystemActivity, 1, "Create"}; }
OcsfActivity ocsf_activity(const LinkEvent&) { return {kFileSystemActivity, 1, "Create"}; }
OcsfActivity ocsf_activity(const MemfdCreateEvent&) { return {kFileSystemActivity, 1, "Create"}; }
OcsfActivity ocsf_activity(const UnlinkEvent&) { return {kFileSystemActivity, 4, "Delete"}; }
OcsfActivity ocsf_activity(const RenameEvent&) { return {kFileSystemActivity, 5, "Rename"}; }
OcsfActivity ocsf_activity(const TruncateEvent&) { return {kFileSystemActivity, 3, "Update"}; }
OcsfActivity ocsf_activity(const SetModeEvent&) { return {kFileSystemActivity, 7, "Set Security"}; }
OcsfActivity ocsf_activity(const SetOwnerEvent&) { return {kFileSystemActivity, 7, "Set Security"}; }
OcsfActivity ocsf_activity(const UtimesEvent&) { return {kFileSystemActivity, 6, "Set Attributes"}; }
OcsfActivity ocsf_activity(const SetExtattrEvent&) { return {kFileSystemActivity, 6, "Set Attributes"}; }
OcsfActivity ocsf_activity(const DeleteExtattrEvent&) { return {kFileSystemActivity, 6, "Set Attributes"}; }
OcsfActivity ocsf_activity(const MountEvent&) { return {kFileSystemActivity, 12, "Mount"}; }
OcsfActivity ocsf_activity(const UnmountEvent&) { return {kFileSystemActivity, 13, "Unmount"}; }
OcsfActivity ocsf_activity(const KextloadEvent&) { return {kKernelExtensionActivity, 1, "Load"}; }
OcsfActivity ocsf_activity(const BpfEvent&) { return {kKernelActivity, 4, "Invoke"}; }  // the bpf(2) call
OcsfActivity ocsf_activity(const MprotectEvent&) { return {kMemoryActivity, 2, "Modify Page"}; }
OcsfActivity ocsf_activity(const MmapEvent&) { return {kModuleActivity, 1, "Load"}; }  // PROT_EXEC of a file
OcsfActivity ocsf_activity(const SignalEvent& e) {
  // The signals whose default is to end the process are termination requests.
  switch (e.sig) {
    case 1:   // SIGHUP
    case 2:   // SIGINT
    case 3:   // SIGQUIT
    case 6:   // SIGABRT
    case 9:   // SIGKILL
    case 15:  // SIGTERM
      return {kProcessActivity, 2, "Terminate"};
    default:
      return {kProcessActivity, kOtherActivity, "Signal"};
  }
}
OcsfActivity ocsf_activity(const TraceEvent&) { return {kProcessActivity, 3, "Open"}; }
OcsfActivity ocsf_activity(const ProcCheckEvent& e) {
  // Writing another process's memory is injecting; reading it is opening it.
  if (e.type == kProcCheckVmWrite) return {kProcessActivity, 4, "Inject"};
  return {kProcessActivity, 3, "Open"};
}
OcsfActivity ocsf_activity(const SetuidEvent&) { return {kProcessActivity, 5, "Set User ID"}; }
OcsfActivity ocsf_activity(const SeteuidEvent&) { return {kProcessActivity, 5, "Set User ID"}; }
OcsfActivity ocsf_activity(const SetreuidEvent&) { return {kProcessActivity, 5, "Set User ID"}; }
OcsfActivity ocsf_activity(const SetgidEvent&) { return {kProcessActivity, kOtherActivity, "Set Group ID"}; }
OcsfActivity ocsf_activity(const SetegidEvent&) { return {kProcessActivity, kOtherActivity, "Set Group ID"}; }
OcsfActivity ocsf_activity(const SetregidEvent&) {
  return {kProcessActivity, kOtherActivity, "Set Group ID"};
}
OcsfActivity ocsf_activity(const ChdirEvent&) {
  return {kProcessActivity, kOtherActivity, "Change Directory"};
}
OcsfActivity ocsf_activity(const ChrootEvent&) { return {kProcessActivity, kOtherActivity, "Change Root"}; }
OcsfActivity ocsf_activity(const ConnectEvent& e) {
  if (e.result == -111) return {kNetworkActivity, 5, "Refuse"};  // -ECONNREFUSED
  if (e.result < 0 && e.result != kInProgress) return {kNetworkActivity, 4, "Fail"};
  return {kNetworkActivity, 1, "Open"};
}
OcsfActivity ocsf_activity(const AcceptEvent&) { return {kNetworkActivity, 1, "Open"}; }
OcsfActivity ocsf_activity(const BindEvent&) { return {kNetworkActivity, kOtherActivity, "Bind"}; }
OcsfActivity ocsf_activity(const UipcConnectEvent& e) {
  if (e.result < 0) return {kNetworkActivity, 4, "Fail"};
  return {kNetworkActivity, 1, "Open"};
}
OcsfActivity ocsf_activity(const UipcBindEvent&) { return {kNetworkActivity, kOtherActivity, "Bind"}; }
OcsfActivity ocsf_activity(const SettimeEvent&) { return {kBaseEvent, kOtherActivity, "Set Time"}; }
template <typename Payload>
OcsfActivity ocsf_activity(const Payload&) {
  return kOther;
}

// The activity of an event type's payload (a default one), by table row:
// what an auth_result's decided event maps to.
template <std::size_t... I>
std::array<OcsfActivity, sizeof...(I)> activities_by_payload_index(std::index_sequence<I...>) {
  return {ocsf_activity(std::variant_alternative_t<I, Event>{})...};
}

OcsfActivity activity_of_event_type(uint32_t es_number) {
  static const auto kByPayload =
      activities_by_payload_index(std::make_index_sequence<std::variant_size_v<Event>>());
  const EventTypeInfo* info = event_info(static_cast<EventType>(es_number));
  return info ? kByPayload[info->payload_index] : kOther;
}

enum class OcsfStatus : uint8_t { Unknown = 0, Success = 1, Failure = 2 };

std::string_view status_name(OcsfStatus s) {
  switch (s) {
    case OcsfStatus::Success:
      return "Success";
    case OcsfStatus::Failure:
      return "Failure";
    default:
      return "Unknown";
  }
}

// OCSF file type_id.
std::pair<int, std::string_view> ocsf_file_type(uint32_t mode) {
  switch (mapping::file_kind(mode)) {
    case mapping::FileKind::Regular:
      return {1, "Regular File"};
    case mapping::FileKind::Directory:
      return {2, "Folder"};
    case mapping::FileKind::CharDevice:
      return {3, "Character Device"};
    case mapping::FileKind::BlockDevice:
      return {4, "Block Device"};
    case mapping::FileKind::Socket:
      return {5, "Local Socket"};
    case mapping::FileKind::Fifo:
      return {6, "Named Pipe"};
    case mapping::FileKind::Symlink:
      return {7, "Symbolic Link"};
    default:
      return {0, "Unknown"};
  }
}

void write_string_if(JsonWriter& w, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  w.key(key);
  w.value(value);
}

void write_number_string(JsonWriter& w, std::string_view key, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  w.key(key);
  w.value(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

void write_ms(JsonWriter& w, std::string_view key, uint64_t ns) {
  w.key(key);
  w.value(mapping::ns_to_ms(ns));
}

void write_string_array(JsonWriter& w, std::string_view key, const std::vector<std::string>& values) {
  w.key(key);
  w.begin_array();
  for (const auto& v : values) w.value(std::string_view(v));
  w.end_array();
}

std::string join_command_line(const std::vector<std::string>& args) {
  std::string line;
  for (const auto& a : args) {
    if (!line.empty()) line += ' ';
    line += a;
  }
  return line;
}

// What the event header says, beyond the class and activity.
struct Header {
  OcsfStatus status = OcsfStatus::Success;
  uint32_t severity_id = 1;  // Informational
  bool security_control = false;
};

struct ProcessDetails {
  const std::vector<std::string>* args = nullptr;
  std::optional<int64_t> thread_id;
  std::optional<uint64_t> terminated_ns;
  const Process* known_parent = nullptr;  // fork: the parent in full
};

class OcsfJson final : public Serializer {
 public:
  OcsfJson(HostInfo host, WallClock clock) : host_(std::move(host)), clock_(clock) {}

  void serialize(const Message& m, std::string& out) const override {
    JsonWriter w(out);
    w.begin_object();
    if (m.event)
      std::visit([&](const auto& payload) { write_payload(w, m, payload); }, *m.event);
    else
      write_without_payload(w, m);
    w.end_object();
  }

  void serialize_drop(const DropReport& d, std::string& out) const override {
    JsonWriter w(out);
    w.begin_object();
    uint64_t now = clock_();
    write_class(w, kOther);
    write_ms(w, "time", now);
    w.key("severity_id");
    w.value(3u);  // Medium: events were lost
    w.key("severity");
    w.value("Medium");
    std::string_view name = d.event_type ? event_name(*d.event_type) : std::string_view{};
    std::string message = std::to_string(d.count) +
                          (name.empty() ? " events" : " " + std::string(name) + " events") + " lost at " +
                          d.source;
    w.key("message");
    w.value(std::string_view(message));
    w.key("count");
    w.value(d.count);
    write_metadata(w, "drop", std::nullopt, now, false);
    write_device(w);
    w.key("unmapped");
    w.begin_object();
    w.key("drop");
    w.begin_object();
    w.key("source");
    w.value(std::string_view(d.source));
    if (d.event_type) {
      w.key("event_type");
      w.value(static_cast<uint32_t>(*d.event_type));
      w.key("event_code");
      w.value(name);
    }
    w.key("count");
    w.value(d.count);
    w.end_object();
    w.end_object();
    w.end_object();
  }

 private:
  // exec: the image that called execve launched the new image (same pid).
  void write_payload(JsonWriter& w, const Message& m, const ExecEvent& e) const {
    const auto activity = ocsf_activity(e);
    write_header(w, m, activity, {request_status(m)});
    write_actor(w, m);
    const Process* image = e.target ? e.target.get() : m.process.get();
    ProcessDetails details;
    details.args = &e.args;
    if (image) write_process(w, "process", *image, details);
    write_launch_type(w, activity.launch);
    begin_unmapped(w, m, image, m.process.get());
    w.key("exec");
    w.begin_object();
    w.key("args_truncated");
    w.value(e.args_truncated);
    if (e.env) {
      write_string_array(w, "env", *e.env);
      w.key("env_truncated");
      w.value(e.env_truncated);
    }
    write_string_if(w, "cwd", e.cwd.path);
    if (e.script) write_string_if(w, "script", e.script->path);
    w.end_object();
    w.end_object();
  }

  void write_payload(JsonWriter& w, const Message& m, const ForkEvent& e) const {
    const auto activity = ocsf_activity(e);
    write_header(w, m, activity, {request_status(m)});
    write_actor(w, m);
    const Process* child = e.child ? e.child.get() : m.process.get();
    ProcessDetails details;
    details.known_parent = e.child ? m.process.get() : nullptr;
    if (child) write_process(w, "process", *child, details);
    write_launch_type(w, activity.launch);
    begin_unmapped(w, m, child, m.process.get());
    w.end_object();
  }

  // exit is reflexive: actor.process and process are the exiting process.
  void write_payload(JsonWriter& w, const Message& m, const ExitEvent& e) const {
    write_header(w, m, ocsf_activity(e), {request_status(m)});
    write_actor(w, m);
    auto status = mapping::decode_wait_status(e.stat);
    if (m.process) {
      ProcessDetails details;
      details.terminated_ns = m.time_ns;
      write_process(w, "process", *m.process, details);
    }
    if (status.exit_code) {
      w.key("exit_code");
      w.value(static_cast<int64_t>(*status.exit_code));
    }
    begin_unmapped(w, m, m.process.get(), nullptr);
    w.key("exit");
    w.begin_object();
    w.key("stat");
    w.value(e.stat);
    if (status.signal) {
      w.key("signal");
      w.value(static_cast<int64_t>(*status.signal));
      w.key("core_dumped");
      w.value(status.core_dumped);
    }
    w.end_object();
    w.end_object();
  }

  void write_payload(JsonWriter& w, const Message& m, const OpenEvent& e) const {
    write_header(w, m, ocsf_activity(e), {request_status(m)});
    write_actor(w, m);
    write_file(w, "file", e.file, nullptr);
    w.key("access_mask");  // platform-native: Ward's fflag (FREAD 1 | FWRITE 2)
    w.value(e.fflag);
    begin_unmapped(w, m, nullptr, m.process.get());
    if (e.file.stat) {
      const FileStat& s = *e.file.stat;
      w.key("file");
      w.begin_object();
      write_stat_extras(w, s);
      w.end_object();
    }
    w.end_object();
  }

  // An AUTH decision: the class and activity of the event decided, with the
  // security_control profile saying what was done.
  void write_payload(JsonWriter& w, const Message& m, const AuthResultEvent& e) const {
    bool allowed = e.result == "allow";
    OcsfActivity decided = activity_of_event_type(e.auth_event_type);
    write_header(w, m, decided, {allowed ? OcsfStatus::Success : OcsfStatus::Failure, 1, true});
    w.key("action_id");
    w.value(allowed ? 1u : 2u);
    w.key("action");
    w.value(allowed ? "Allowed" : "Denied");
    w.key("disposition_id");
    w.value(allowed ? 1u : 2u);
    w.key("disposition");
    w.value(allowed ? "Allowed" : "Blocked");
    std::string message = e.result + " " + e.target;
    if (!e.rule.empty()) message += " (rule " + e.rule + ")";
    w.key("message");
    w.value(std::string_view(message));
    write_actor(w, m);
    if (decided.cls.class_uid == kProcessActivity.class_uid) {
      // An exec keeps its pid; the target file is what was decided about.
      w.key("process");
      w.begin_object();
      if (m.process) {
        w.key("pid");
        w.value(static_cast<int64_t>(m.process->audit_token.pid));
      }
      write_path_file(w, e.target);
      w.end_object();
      write_launch_type(w, decided.launch);
    } else if (decided.cls.class_uid == kFileSystemActivity.class_uid) {
      write_path_file(w, e.target);
    }
    begin_unmapped(w, m, nullptr, m.process.get());
    w.key("auth_result");
    w.begin_object();
    w.key("event_type");
    w.value(e.auth_event_type);
    w.key("event_code");
    w.value(event_name(static_cast<EventType>(e.auth_event_type)));
    write_string_if(w, "target", e.target);
    w.key("decided_by");
    w.value(std::string_view(e.decided_by));
    w.key("cached");
    w.value(e.cached);
    w.key("would_deny");
    w.value(e.would_deny);
    write_string_if(w, "rule", e.rule);
    w.key("latency_ns");
    w.value(e.latency_ns);
    w.end_object();
    w.end_object();
  }

  // Every other payload: its class and activity from ocsf_activity(), its
  // facts (payload_facts.h) in the class's attributes, the rest under
  // unmapped.<key>.
  template <typename Payload>
  void write_payload(JsonWriter& w, const Message& m, const Payload& payload) const {
    PayloadFacts facts = facts_of(payload);
    OcsfActivity activity = ocsf_activity(payload);
    write_header(w, m, activity, {status_of(m, facts)});
    write_actor(w, m);
    const Process* acted_on = nullptr;
    switch (activity.cls.class_uid) {
      case kProcessActivity.class_uid:
      case kMemoryActivity.class_uid:
        // The process acted on; reflexive (the actor) when the payload names none.
        acted_on = facts.target ? facts.target : m.process.get();
        if (acted_on) write_process(w, "process", *acted_on, {});
        break;
      case kFileSystemActivity.class_uid:
        if (facts.previous) {  // rename: file is the old name, file_result the new one
          write_file(w, "file", *facts.previous, nullptr);
          if (facts.file) write_file(w, "file_result", *facts.file, nullptr);
        } else {
          write_fact_file(w, "file", facts);
        }
        break;
      case kModuleActivity.class_uid:
        w.key("module");
        w.begin_object();
        write_fact_file(w, "file", facts);
        w.end_object();
        break;
      case kKernelExtensionActivity.class_uid:
        w.key("driver");
        w.begin_object();
        write_fact_file(w, "file", facts);
        w.end_object();
        break;
      case kKernelActivity.class_uid:
        w.key("kernel");  // the kernel resource used: the system call
        w.begin_object();
        w.key("name");
        w.value(Payload::kKey);
        w.key("type_id");
        w.value(2u);
        w.key("type");
        w.value("System Call");
        w.end_object();
        break;
      case kNetworkActivity.class_uid:
        write_network(w, facts);
        break;
      default:
        break;
    }
    begin_unmapped(w, m, acted_on && acted_on != m.process.get() ? acted_on : nullptr, m.process.get());
    if (has_leftovers(payload, facts)) {
      w.key(Payload::kKey);
      write_leftovers(w, payload, facts, [&](const Process& p) {
        w.begin_object();
        w.key("pid");
        w.value(static_cast<int64_t>(p.audit_token.pid));
        w.key("uid");
        w.value(std::string_view(entity_id(host_, p.audit_token)));
        w.end_object();
      });
    }
    w.end_object();
  }

  static OcsfStatus status_of(const Message& m, const PayloadFacts& facts) {
    if (m.action_type == ActionType::Auth) return OcsfStatus::Unknown;
    if (!facts.result || *facts.result >= 0) return OcsfStatus::Success;
    return *facts.result == kInProgress ? OcsfStatus::Unknown : OcsfStatus::Failure;
  }

  // The facts' file: in full, by path, or by name only.
  static void write_fact_file(JsonWriter& w, std::string_view key, const PayloadFacts& facts) {
    if (facts.file) {
      write_file(w, key, *facts.file, nullptr);
    } else if (!facts.path.empty()) {
      w.key(key);
      w.begin_object();
      write_path_parts(w, facts.path);
      w.end_object();
    } else if (!facts.name.empty()) {
      w.key(key);
      w.begin_object();
      w.key("name");
      w.value(std::string_view(facts.name));
      w.end_object();
    }
  }

  static void write_endpoint(JsonWriter& w, std::string_view key, const SocketAddress& a) {
    w.key(key);
    w.begin_object();
    write_string_if(w, "ip", a.address);
    w.key("port");
    w.value(a.port);
    w.end_object();
  }

  // src_endpoint opened the connection: the remote end for accept. A bind has
  // only the local end, where others connect to: dst_endpoint.
  static void write_network(JsonWriter& w, const PayloadFacts& facts) {
    if (!facts.local && !facts.remote) {
      // A Unix-domain socket: its path names the endpoint.
      std::string_view path = facts.file ? std::string_view(facts.file->path) : std::string_view(facts.path);
      if (path.empty()) return;
      w.key("dst_endpoint");
      w.begin_object();
      w.key("name");
      w.value(path);
      w.end_object();
      return;
    }
    const SocketAddress* src = facts.inbound ? facts.remote : facts.local;
    const SocketAddress* dst = facts.inbound ? facts.local : facts.remote;
    if (!dst) std::swap(src, dst);
    if (src) write_endpoint(w, "src_endpoint", *src);
    if (dst) write_endpoint(w, "dst_endpoint", *dst);
    w.key("connection_info");
    w.begin_object();
    if (facts.protocol != 0) {
      w.key("protocol_num");
      w.value(static_cast<int64_t>(facts.protocol));
      std::string_view name = facts.protocol == 6 ? "tcp" : facts.protocol == 17 ? "udp" : "";
      write_string_if(w, "protocol_name", name);
    }
    if (dst->family == 2 || dst->family == 10) {
      w.key("protocol_ver_id");
      w.value(dst->family == 2 ? 4u : 6u);
      w.key("protocol_ver");
      w.value(dst->family == 2 ? "Internet Protocol version 4 (IPv4)" : "Internet Protocol version 6 (IPv6)");
    }
    if (facts.remote) {
      w.key("direction_id");
      w.value(facts.inbound ? 1u : 2u);
      w.key("direction");
      w.value(facts.inbound ? "Inbound" : "Outbound");
    }
    w.end_object();
  }

  // A message without a payload (none is sent today): a Base Event.
  void write_without_payload(JsonWriter& w, const Message& m) const {
    write_header(w, m, kOther, {request_status(m)});
    write_actor(w, m);
    begin_unmapped(w, m, nullptr, m.process.get());
    w.end_object();
  }

  static OcsfStatus request_status(const Message& m) {
    // An AUTH request is not decided yet; its auth_result event says how it ended.
    return m.action_type == ActionType::Auth ? OcsfStatus::Unknown : OcsfStatus::Success;
  }

  static void write_class(JsonWriter& w, const OcsfActivity& a) {
    w.key("class_uid");
    w.value(a.cls.class_uid);
    w.key("class_name");
    w.value(a.cls.class_name);
    w.key("category_uid");
    w.value(a.cls.category_uid);
    w.key("category_name");
    w.value(a.cls.category_name);
    w.key("activity_id");
    w.value(a.activity_id);
    w.key("activity_name");
    w.value(a.activity_name);
    w.key("type_uid");
    w.value(static_cast<uint64_t>(a.cls.class_uid) * 100 + a.activity_id);
    w.key("type_name");
    w.value(std::string(a.cls.class_name) + ": " + std::string(a.activity_name));
  }

  void write_header(JsonWriter& w, const Message& m, const OcsfActivity& a, const Header& h) const {
    write_class(w, a);
    write_ms(w, "time", m.time_ns);
    w.key("severity_id");
    w.value(h.severity_id);
    w.key("severity");
    w.value("Informational");
    w.key("status_id");
    w.value(static_cast<uint32_t>(h.status));
    w.key("status");
    w.value(status_name(h.status));
    write_metadata(w, event_name(m.event_type), m.global_seq_num, m.time_ns, h.security_control);
    write_device(w);
  }

  void write_metadata(JsonWriter& w, std::string_view event_code, std::optional<uint64_t> sequence,
                      uint64_t time_ns, bool security_control) const {
    w.key("metadata");
    w.begin_object();
    w.key("version");
    w.value(kOcsfVersion);
    w.key("product");
    w.begin_object();
    w.key("name");
    w.value("Ward");
    w.key("vendor_name");
    w.value("Ward");
    w.end_object();
    w.key("event_code");
    w.value(event_code);
    if (sequence) {
      w.key("sequence");
      w.value(*sequence);
    }
    // `time` is in ms; the source's own time keeps the nanoseconds.
    w.key("original_time");
    w.value(format_rfc3339_ns(time_ns));
    if (security_control) {
      w.key("profiles");
      w.begin_array();
      w.value("security_control");
      w.end_array();
    }
    w.end_object();
  }

  void write_device(JsonWriter& w) const {
    w.key("device");
    w.begin_object();
    write_string_if(w, "hostname", host_.hostname);
    write_string_if(w, "uid", host_.id);
    w.key("type_id");
    w.value(0u);
    w.key("type");
    w.value("Unknown");
    w.key("os");
    w.begin_object();
    w.key("name");
    w.value(host_.os_name.empty() ? std::string_view("Linux") : std::string_view(host_.os_name));
    w.key("type_id");
    w.value(200u);
    w.key("type");
    w.value("Linux");
    write_string_if(w, "version", host_.os_version);
    w.end_object();
    w.end_object();
  }

  void write_actor(JsonWriter& w, const Message& m) const {
    if (!m.process) return;
    w.key("actor");
    w.begin_object();
    ProcessDetails details;
    details.thread_id = m.thread_id;
    write_process(w, "process", *m.process, details);
    w.end_object();
  }

  static void write_launch_type(JsonWriter& w, LaunchType t) {
    if (t == LaunchType::None) return;
    w.key("launch_type_id");
    w.value(static_cast<uint32_t>(t));
    w.key("launch_type");
    w.value(t == LaunchType::Exec ? "Exec" : "Fork");
  }

  static void write_user(JsonWriter& w, uid_t uid) {
    w.key("user");
    w.begin_object();
    write_number_string(w, "uid", uid);
    w.end_object();
  }

  void write_process(JsonWriter& w, std::string_view key, const Process& p, const ProcessDetails& d) const {
    w.key(key);
    w.begin_object();
    w.key("pid");
    w.value(static_cast<int64_t>(p.audit_token.pid));
    w.key("uid");
    w.value(std::string_view(entity_id(host_, p.audit_token)));
    write_string_if(w, "name", p.comm);
    if (d.args) {
      w.key("cmd_line");
      w.value(std::string_view(join_command_line(*d.args)));
    }
    if (!p.executable.path.empty()) write_file(w, "file", p.executable, p.sha256 ? &*p.sha256 : nullptr);
    write_user(w, p.audit_token.euid);
    if (p.audit_token.asid != mapping::kUnsetId || p.tty) {
      w.key("session");
      w.begin_object();
      if (p.audit_token.asid != mapping::kUnsetId) write_number_string(w, "uid", p.audit_token.asid);
      if (p.tty) {
        w.key("terminal");
        w.value(std::string_view(*p.tty));
      }
      w.end_object();
    }
    if (p.start_time.ns != 0) write_ms(w, "created_time", p.start_time.ns);
    if (d.terminated_ns) write_ms(w, "terminated_time", *d.terminated_ns);
    if (d.thread_id) {
      w.key("tid");
      w.value(*d.thread_id);
    }
    write_parent(w, p, d.known_parent);
    if (!p.ancestors.empty()) {
      w.key("lineage");  // executable paths, nearest parent first
      w.begin_array();
      for (const auto& a : p.ancestors) w.value(std::string_view(a.path));
      w.end_array();
    }
    w.end_object();
  }

  void write_parent(JsonWriter& w, const Process& child, const Process* known_parent) const {
    if (known_parent) {
      write_process(w, "parent_process", *known_parent, {});
      return;
    }
    w.key("parent_process");
    w.begin_object();
    if (child.parent_audit_token) {
      const AuditToken& t = *child.parent_audit_token;
      w.key("pid");
      w.value(static_cast<int64_t>(t.pid));
      w.key("uid");
      w.value(std::string_view(entity_id(host_, t)));
      if (!child.ancestors.empty() && child.ancestors.front().audit_token == t)
        write_path_file(w, child.ancestors.front().path);
      write_user(w, t.euid);
    } else {
      w.key("pid");
      w.value(static_cast<int64_t>(child.ppid));
    }
    w.end_object();
  }

  static void write_path_parts(JsonWriter& w, std::string_view path) {
    std::string_view name = mapping::base_name(path);
    w.key("name");  // required by OCSF
    w.value(name);
    w.key("path");
    w.value(path);
    write_string_if(w, "parent_folder", mapping::dir_name(path));
    write_string_if(w, "ext", mapping::extension(path));
  }

  static void write_path_file(JsonWriter& w, std::string_view path) {
    if (path.empty()) return;
    w.key("file");
    w.begin_object();
    write_path_parts(w, path);
    w.end_object();
  }

  static void write_file(JsonWriter& w, std::string_view key, const File& f, const std::string* sha256) {
    w.key(key);
    w.begin_object();
    write_path_parts(w, f.path);
    if (f.stat) {
      const FileStat& s = *f.stat;
      auto [type_id, type] = ocsf_file_type(s.mode);
      w.key("type_id");
      w.value(static_cast<int64_t>(type_id));
      w.key("type");
      w.value(type);
      w.key("size");
      w.value(s.size);
      write_ms(w, "modified_time", mapping::timespec_ns(s.mtime));
      w.key("owner");
      w.begin_object();
      write_number_string(w, "uid", s.uid);
      w.end_object();
    }
    if (sha256) {
      w.key("hashes");
      w.begin_array();
      w.begin_object();
      w.key("algorithm_id");
      w.value(3u);
      w.key("algorithm");
      w.value("SHA-256");
      w.key("value");
      w.value(std::string_view(*sha256));
      w.end_object();
      w.end_array();
    }
    w.end_object();
  }

  // What a FileStat has that the OCSF file object does not.
  static void write_stat_extras(JsonWriter& w, const FileStat& s) {
    w.key("device");
    w.value(std::to_string(major(s.dev)) + ":" + std::to_string(minor(s.dev)));
    w.key("inode");
    w.value(s.ino);
    w.key("mode");
    w.value(mapping::octal_permissions(s.mode));
    w.key("gid");
    w.value(s.gid);
    w.key("ctime");
    w.value(format_rfc3339_ns(mapping::timespec_ns(s.ctime)));
  }

  // Ward's identity details of a process OCSF has no attribute for.
  static void write_process_extras(JsonWriter& w, std::string_view key, const Process& p) {
    w.key(key);
    w.begin_object();
    w.key("pidversion");
    w.value(p.audit_token.pidversion);
    w.key("ruid");
    w.value(p.audit_token.ruid);
    w.key("rgid");
    w.value(p.audit_token.rgid);
    w.key("egid");
    w.value(p.audit_token.egid);
    if (p.audit_token.auid != mapping::kUnsetId) {
      w.key("auid");
      w.value(p.audit_token.auid);
    }
    w.key("original_ppid");
    w.value(static_cast<int64_t>(p.original_ppid));
    w.key("group_id");
    w.value(static_cast<int64_t>(p.group_id));
    w.key("session_id");
    w.value(static_cast<int64_t>(p.session_id));
    w.key("is_platform_binary");
    w.value(p.is_platform_binary);
    if (p.package) {
      w.key("package");
      w.value(std::string_view(*p.package));
    }
    w.key("executable_truncated");
    w.value(p.executable.path_truncated);
    if (p.executable.stat) {
      w.key("executable");
      w.begin_object();
      write_stat_extras(w, *p.executable.stat);
      w.end_object();
    }
    w.end_object();
  }

  // Opens unmapped{} with what every event has; the caller adds its payload's
  // part and closes it.
  void begin_unmapped(JsonWriter& w, const Message& m, const Process* process, const Process* actor) const {
    w.key("unmapped");
    w.begin_object();
    w.key("action_type");
    w.value(m.action_type == ActionType::Auth ? "auth" : "notify");
    w.key("event_type");
    w.value(static_cast<uint32_t>(m.event_type));
    w.key("seq_num");
    w.value(m.seq_num);
    w.key("mono_time_ns");
    w.value(m.mono_time_ns);
    if (m.action_type == ActionType::Auth) {
      w.key("deadline_ns");
      w.value(m.deadline_ns);
    }
    if (actor) write_process_extras(w, "actor_process", *actor);
    if (process) write_process_extras(w, "process", *process);
  }

  HostInfo host_;
  WallClock clock_;
};

}  // namespace

std::unique_ptr<Serializer> make_ocsf_serializer(HostInfo host, WallClock clock) {
  return std::make_unique<OcsfJson>(std::move(host), clock);
}

}  // namespace ward::output
