// Elastic Common Schema documents, nested JSON, one per line. exec, fork,
// exit, open and auth_result have their own writers; every other payload goes
// through one generic writer: its category and type from ecs_kind(), its file,
// target process and network endpoints from facts_of() (payload_facts.h), the
// rest of its fields under ward.<key>. A payload nobody has mapped yet gets no
// category, and all its fields under ward.<key>, so it still serializes.
// Everything ECS has no field for lives under `ward.*`. Unknown values are left
// out, never written as null. The field types used are listed in
// tests/fixtures/ecs_fields.json, which a unit test checks every document
// against.
#include <arpa/inet.h>
#include <sys/sysmacros.h>

#include <charconv>
#include <string>
#include <type_traits>

#include "output/json_writer.h"
#include "output/mapping_helpers.h"
#include "output/payload_facts.h"
#include "output/serializer.h"

namespace ward::output {
namespace {

using mapping::entity_id;

// What event{} says about a payload. ECS categorization values:
// https://www.elastic.co/guide/en/ecs/current/ecs-allowed-values-event-category.html
struct EventFacts {
  std::string_view category;  // empty: none fits (a payload without a mapping)
  std::string_view type;
  std::string_view outcome;
  std::optional<uint64_t> duration_ns;
};

// What the process{} of a document carries beyond the process itself.
struct ProcessDetails {
  const std::vector<std::string>* args = nullptr;
  const std::vector<std::string>* env = nullptr;
  std::string_view working_directory;
  std::string_view previous_executable;  // exec: the image that called execve
  std::optional<int64_t> thread_id;
  std::optional<uint64_t> end_ns;
  std::optional<int> exit_code;
  const Process* known_parent = nullptr;  // fork: the parent in full
};

void write_string_if(JsonWriter& w, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  w.key(key);
  w.value(value);
}

// ECS keeps user and group ids as keywords.
void write_id_object(JsonWriter& w, std::string_view key, uint32_t id) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), id);
  (void)ec;
  w.key(key);
  w.begin_object();
  w.key("id");
  w.value(std::string_view(buf, static_cast<std::size_t>(end - buf)));
  w.end_object();
}

void write_number_string(JsonWriter& w, std::string_view key, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  w.key(key);
  w.value(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

void write_time(JsonWriter& w, std::string_view key, uint64_t ns) {
  w.key(key);
  w.value(format_rfc3339_ns(ns));
}

void write_credentials(JsonWriter& w, const AuditToken& t) {
  write_id_object(w, "user", t.euid);
  write_id_object(w, "real_user", t.ruid);
  write_id_object(w, "group", t.egid);
  write_id_object(w, "real_group", t.rgid);
}

void write_string_array(JsonWriter& w, std::string_view key, const std::vector<std::string>& values) {
  w.key(key);
  w.begin_array();
  for (const auto& v : values) w.value(std::string_view(v));
  w.end_array();
}

std::string join_command_line(const std::vector<std::string>& args) {
  std::size_t size = 0;
  for (const auto& a : args) size += a.size() + 1;
  std::string line;
  line.reserve(size);
  for (const auto& a : args) {
    if (!line.empty()) line += ' ';
    line += a;
  }
  return line;
}

std::string_view ecs_file_type(uint32_t mode) {
  switch (mapping::file_kind(mode)) {
    case mapping::FileKind::Regular:
      return "file";
    case mapping::FileKind::Directory:
      return "dir";
    case mapping::FileKind::Symlink:
      return "symlink";
    default:
      return {};  // ECS has no value for devices, fifos and sockets
  }
}

// ECS event.category / event.type of each payload with a generic mapping;
// the values are from ECS's allowed lists (type fitting its category).
struct EcsKind {
  std::string_view category;
  std::string_view type;
};

EcsKind ecs_kind(const CloseEvent& e) { return {"file", e.modified ? "change" : "info"}; }
EcsKind ecs_kind(const WriteEvent&) { return {"file", "change"}; }
EcsKind ecs_kind(const CreateEvent&) { return {"file", "creation"}; }
EcsKind ecs_kind(const UnlinkEvent&) { return {"file", "deletion"}; }
EcsKind ecs_kind(const RenameEvent&) { return {"file", "change"}; }
EcsKind ecs_kind(const LinkEvent&) { return {"file", "creation"}; }
EcsKind ecs_kind(const TruncateEvent&) { return {"file", "change"}; }
EcsKind ecs_kind(const SetModeEvent&) { return {"file", "change"}; }
EcsKind ecs_kind(const SetOwnerEvent&) { return {"file", "change"}; }
EcsKind ecs_kind(const UtimesEvent&) { return {"file", "change"}; }
EcsKind ecs_kind(const SetExtattrEvent&) { return {"file", "change"}; }
EcsKind ecs_kind(const DeleteExtattrEvent&) { return {"file", "change"}; }
EcsKind ecs_kind(const MemfdCreateEvent&) { return {"file", "creation"}; }
EcsKind ecs_kind(const MmapEvent&) { return {"library", "start"}; }  // an executable mapping of a file
EcsKind ecs_kind(const MprotectEvent&) { return {"process", "change"}; }
EcsKind ecs_kind(const SignalEvent&) { return {"process", "info"}; }
EcsKind ecs_kind(const TraceEvent&) { return {"process", "access"}; }
EcsKind ecs_kind(const ProcCheckEvent&) { return {"process", "access"}; }
EcsKind ecs_kind(const SetuidEvent&) { return {"process", "change"}; }
EcsKind ecs_kind(const SetgidEvent&) { return {"process", "change"}; }
EcsKind ecs_kind(const SeteuidEvent&) { return {"process", "change"}; }
EcsKind ecs_kind(const SetegidEvent&) { return {"process", "change"}; }
EcsKind ecs_kind(const SetreuidEvent&) { return {"process", "change"}; }
EcsKind ecs_kind(const SetregidEvent&) { return {"process", "change"}; }
EcsKind ecs_kind(const ChdirEvent&) { return {"process", "change"}; }
EcsKind ecs_kind(const ChrootEvent&) { return {"process", "change"}; }
EcsKind ecs_kind(const KextloadEvent&) { return {"driver", "start"}; }
EcsKind ecs_kind(const BpfEvent& e) { return {"driver", e.cmd == 5 ? "start" : "info"}; }  // 5: BPF_PROG_LOAD
EcsKind ecs_kind(const MountEvent&) { return {"configuration", "change"}; }
EcsKind ecs_kind(const UnmountEvent&) { return {"configuration", "change"}; }
EcsKind ecs_kind(const SettimeEvent&) { return {"configuration", "change"}; }
EcsKind ecs_kind(const UipcConnectEvent&) { return {"network", "start"}; }
EcsKind ecs_kind(const UipcBindEvent&) { return {"network", "info"}; }
EcsKind ecs_kind(const ConnectEvent&) { return {"network", "start"}; }
EcsKind ecs_kind(const BindEvent&) { return {"network", "info"}; }
EcsKind ecs_kind(const AcceptEvent&) { return {"network", "start"}; }
// A payload nobody has mapped: no category rather than a wrong one.
template <typename Payload>
EcsKind ecs_kind(const Payload&) {
  return {};
}

std::string_view transport_name(int32_t protocol) {
  switch (protocol) {
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 58:
      return "ipv6-icmp";
    case 132:
      return "sctp";
    default:
      return {};
  }
}

bool is_ip_address(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

class EcsJson final : public Serializer {
 public:
  EcsJson(HostInfo host, WallClock clock) : host_(std::move(host)), clock_(clock) {}

  void serialize(const Message& m, std::string& out) const override {
    JsonWriter w(out);
    w.begin_object();
    write_preamble(w, m.time_ns);
    if (m.event)
      std::visit([&](const auto& payload) { write_payload(w, m, payload); }, *m.event);
    else
      write_without_payload(w, m);
    w.end_object();
  }

  void serialize_drop(const DropReport& d, std::string& out) const override {
    JsonWriter w(out);
    w.begin_object();
    write_preamble(w, clock_());
    w.key("event");
    w.begin_object();
    // ECS: "an error occurred during the ingestion of this event, and event
    // data may be missing" — events were lost before they reached us.
    w.key("kind");
    w.value("pipeline_error");
    w.key("action");
    w.value("drop");
    w.key("module");
    w.value("ward");
    w.end_object();
    std::string_view name = d.event_type ? event_name(*d.event_type) : std::string_view{};
    std::string message = std::to_string(d.count) +
                          (name.empty() ? " events" : " " + std::string(name) + " events") + " lost at " +
                          d.source;
    w.key("error");
    w.begin_object();
    w.key("message");
    w.value(std::string_view(message));
    w.end_object();
    w.key("ward");
    w.begin_object();
    w.key("drop");
    w.begin_object();
    w.key("source");
    w.value(std::string_view(d.source));
    if (d.event_type) {
      w.key("event_type");
      w.value(static_cast<uint32_t>(*d.event_type));
      w.key("event_action");
      w.value(name);
    }
    w.key("count");
    w.value(d.count);
    w.end_object();
    w.end_object();
    w.end_object();
  }

 private:
  // exec: process is the new image; its parent from the ancestry; the image
  // that called execve is process.previous.
  void write_payload(JsonWriter& w, const Message& m, const ExecEvent& e) const {
    write_event(w, m, {"process", "start", notify_outcome(m), {}});
    const Process* image = e.target ? e.target.get() : m.process.get();
    ProcessDetails details;
    details.args = &e.args;
    details.env = e.env ? &*e.env : nullptr;
    details.working_directory = e.cwd.path;
    details.thread_id = m.thread_id;
    if (m.process && e.target) details.previous_executable = m.process->executable.path;
    if (image) write_process(w, *image, details);
    begin_ward(w, m, image);
    w.key("exec");
    w.begin_object();
    w.key("args_truncated");
    w.value(e.args_truncated);
    if (e.env) {
      w.key("env_truncated");
      w.value(e.env_truncated);
    }
    if (e.script) write_string_if(w, "script_path", e.script->path);
    w.end_object();
    w.end_object();
  }

  // fork: process is the child, and its parent (the instigator) is known in full.
  void write_payload(JsonWriter& w, const Message& m, const ForkEvent& e) const {
    write_event(w, m, {"process", "start", notify_outcome(m), {}});
    const Process* child = e.child ? e.child.get() : m.process.get();
    ProcessDetails details;
    details.known_parent = e.child ? m.process.get() : nullptr;
    if (child) write_process(w, *child, details);
    begin_ward(w, m, child);
    w.end_object();
  }

  void write_payload(JsonWriter& w, const Message& m, const ExitEvent& e) const {
    write_event(w, m, {"process", "end", notify_outcome(m), {}});
    auto status = mapping::decode_wait_status(e.stat);
    ProcessDetails details;
    details.thread_id = m.thread_id;
    details.end_ns = m.time_ns;
    details.exit_code = status.exit_code;
    if (m.process) write_process(w, *m.process, details);
    begin_ward(w, m, m.process.get());
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
    write_event(w, m, {"file", "access", notify_outcome(m), {}});
    write_instigator(w, m);
    write_file(w, e.file);
    begin_ward(w, m, m.process.get());
    w.key("open");
    w.begin_object();
    w.key("fflag");
    w.value(e.fflag);
    w.end_object();
    w.end_object();
  }

  // An AUTH decision: ECS's intrusion_detection category with allowed/denied;
  // the file decided about is file.*, the deciding rule rule.name.
  void write_payload(JsonWriter& w, const Message& m, const AuthResultEvent& e) const {
    bool allowed = e.result == "allow";
    write_event(w, m,
                {"intrusion_detection", allowed ? "allowed" : "denied", allowed ? "success" : "failure",
                 e.latency_ns});
    write_instigator(w, m);
    if (!e.target.empty()) {
      w.key("file");
      w.begin_object();
      write_path_parts(w, e.target);
      w.end_object();
    }
    if (!e.rule.empty()) {
      w.key("rule");
      w.begin_object();
      w.key("name");
      w.value(std::string_view(e.rule));
      w.end_object();
    }
    begin_ward(w, m, m.process.get());
    w.key("auth_result");
    w.begin_object();
    w.key("event_type");
    w.value(e.auth_event_type);
    auto decided = event_name(static_cast<EventType>(e.auth_event_type));
    w.key("event_action");
    w.value(decided);
    w.key("result");
    w.value(std::string_view(e.result));
    w.key("decided_by");
    w.value(std::string_view(e.decided_by));
    w.key("cached");
    w.value(e.cached);
    w.key("would_deny");
    w.value(e.would_deny);
    w.end_object();
    w.end_object();
  }

  // Every other payload: its kind, its facts in ECS fields, the rest under
  // ward.<key>. The instigator is process{}.
  template <typename Payload>
  void write_payload(JsonWriter& w, const Message& m, const Payload& payload) const {
    PayloadFacts facts = facts_of(payload);
    EcsKind kind = ecs_kind(payload);
    write_event(w, m, {kind.category, kind.type, outcome(m, facts), {}});
    write_instigator(w, m);
    if (facts.file) {
      write_file(w, *facts.file);
    } else if (!facts.path.empty() || !facts.name.empty()) {
      w.key("file");
      w.begin_object();
      if (!facts.path.empty())
        write_path_parts(w, facts.path);
      else
        write_string_if(w, "name", facts.name);
      w.end_object();
    }
    write_network(w, facts);
    begin_ward(w, m, m.process.get());
    if (facts.target) {
      // ECS has no target process: the one acted on, in process{}'s shape.
      w.key("target_process");
      w.begin_object();
      write_identity(w, *facts.target, true);
      w.end_object();
    }
    if (has_leftovers(payload, facts)) {
      w.key(Payload::kKey);
      write_leftovers(w, payload, facts, [&](const Process& p) {
        w.begin_object();
        write_identity(w, p, true);
        w.end_object();
      });
    }
    w.end_object();
  }

  static std::string_view outcome(const Message& m, const PayloadFacts& facts) {
    if (m.action_type == ActionType::Auth) return "unknown";
    if (!facts.result || *facts.result >= 0) return "success";
    return *facts.result == kInProgress ? "unknown" : "failure";
  }

  // source.* is who opened the connection: the remote end for accept.
  static void write_network(JsonWriter& w, const PayloadFacts& facts) {
    if (!facts.local && !facts.remote) return;
    const SocketAddress* source = facts.inbound ? facts.remote : facts.local;
    const SocketAddress* destination = facts.inbound ? facts.local : facts.remote;
    if (source) write_endpoint(w, "source", *source);
    if (destination) write_endpoint(w, "destination", *destination);
    const SocketAddress* any = source ? source : destination;
    w.key("network");
    w.begin_object();
    write_string_if(w, "transport", transport_name(facts.protocol));
    if (facts.protocol != 0) write_number_string(w, "iana_number", static_cast<uint32_t>(facts.protocol));
    if (any->family == 2 || any->family == 10) {
      w.key("type");
      w.value(any->family == 2 ? "ipv4" : "ipv6");
    }
    if (facts.remote) {
      w.key("direction");
      w.value(facts.inbound ? "ingress" : "egress");
    }
    w.end_object();
  }

  static void write_endpoint(JsonWriter& w, std::string_view key, const SocketAddress& a) {
    w.key(key);
    w.begin_object();
    write_string_if(w, "address", a.address);
    if (is_ip_address(a.address)) {
      w.key("ip");
      w.value(std::string_view(a.address));
    }
    w.key("port");
    w.value(a.port);
    w.end_object();
  }

  // A message without a payload (none is sent today): what is known.
  void write_without_payload(JsonWriter& w, const Message& m) const {
    write_event(w, m, {{}, {}, "unknown", {}});
    write_instigator(w, m);
    begin_ward(w, m, m.process.get());
    w.end_object();
  }

  void write_preamble(JsonWriter& w, uint64_t time_ns) const {
    write_time(w, "@timestamp", time_ns);
    w.key("ecs");
    w.begin_object();
    w.key("version");
    w.value(kEcsVersion);
    w.end_object();
    w.key("host");
    w.begin_object();
    write_string_if(w, "hostname", host_.hostname);
    write_string_if(w, "name", host_.hostname);
    write_string_if(w, "id", host_.id);
    write_string_if(w, "architecture", host_.architecture);
    w.key("os");
    w.begin_object();
    w.key("type");
    w.value("linux");
    write_string_if(w, "kernel", host_.kernel);
    write_string_if(w, "name", host_.os_name);
    write_string_if(w, "version", host_.os_version);
    write_string_if(w, "family", host_.os_family);
    w.end_object();
    w.end_object();
  }

  static std::string_view notify_outcome(const Message& m) {
    // An AUTH request is not decided yet; its auth_result event says how it ended.
    return m.action_type == ActionType::Auth ? "unknown" : "success";
  }

  void write_event(JsonWriter& w, const Message& m, const EventFacts& f) const {
    w.key("event");
    w.begin_object();
    w.key("kind");
    w.value("event");
    if (!f.category.empty()) {
      w.key("category");
      w.begin_array();
      w.value(f.category);
      w.end_array();
      w.key("type");
      w.begin_array();
      w.value(f.type);
      w.end_array();
    }
    w.key("action");
    w.value(event_name(m.event_type));
    w.key("outcome");
    w.value(f.outcome);
    write_number_string(w, "code", static_cast<uint32_t>(m.event_type));
    w.key("module");
    w.value("ward");
    w.key("sequence");
    w.value(m.global_seq_num);
    if (f.duration_ns) {
      w.key("duration");
      w.value(*f.duration_ns);
    }
    w.end_object();
  }

  // The instigator as process{}, for payloads about something else (a file).
  void write_instigator(JsonWriter& w, const Message& m) const {
    if (!m.process) return;
    ProcessDetails details;
    details.thread_id = m.thread_id;
    write_process(w, *m.process, details);
  }

  // What names a process, for process{} and for a parent known in full (ECS
  // has no process.parent.session_leader).
  void write_identity(JsonWriter& w, const Process& p, bool with_session_leader) const {
    w.key("pid");
    w.value(static_cast<int64_t>(p.audit_token.pid));
    w.key("entity_id");
    w.value(std::string_view(entity_id(host_, p.audit_token)));
    write_string_if(w, "name", p.comm);
    write_string_if(w, "executable", p.executable.path);
    if (p.start_time.ns != 0) write_time(w, "start", p.start_time.ns);
    write_credentials(w, p.audit_token);
    w.key("group_leader");
    w.begin_object();
    w.key("pid");
    w.value(static_cast<int64_t>(p.group_id));
    w.end_object();
    if (with_session_leader) {
      w.key("session_leader");
      w.begin_object();
      w.key("pid");
      w.value(static_cast<int64_t>(p.session_id));
      w.end_object();
    }
    if (p.sha256) {
      w.key("hash");
      w.begin_object();
      w.key("sha256");
      w.value(std::string_view(*p.sha256));
      w.end_object();
    }
    // Ward's stand-in for code signing: the owning dpkg package, and whether
    // the file still matches what dpkg recorded.
    w.key("code_signature");
    w.begin_object();
    w.key("exists");
    w.value(p.package.has_value());
    if (p.package) {
      w.key("signing_id");
      w.value(std::string_view(*p.package));
      w.key("valid");
      w.value(p.is_platform_binary);
    }
    w.end_object();
    if (p.tty) {
      if (auto dev = mapping::tty_device(*p.tty)) {
        w.key("tty");
        w.begin_object();
        w.key("char_device");
        w.begin_object();
        w.key("major");
        w.value(dev->major);
        w.key("minor");
        w.value(dev->minor);
        w.end_object();
        w.end_object();
      }
    }
  }

  void write_process(JsonWriter& w, const Process& p, const ProcessDetails& d) const {
    w.key("process");
    w.begin_object();
    write_identity(w, p, true);
    if (d.args) {
      write_string_array(w, "args", *d.args);
      w.key("args_count");
      w.value(static_cast<uint64_t>(d.args->size()));
      w.key("command_line");
      w.value(std::string_view(join_command_line(*d.args)));
    }
    write_string_if(w, "working_directory", d.working_directory);
    if (d.env) write_string_array(w, "env_vars", *d.env);
    if (d.end_ns) write_time(w, "end", *d.end_ns);
    if (d.exit_code) {
      w.key("exit_code");
      w.value(static_cast<int64_t>(*d.exit_code));
    }
    if (d.thread_id) {
      w.key("thread");
      w.begin_object();
      w.key("id");
      w.value(*d.thread_id);
      w.end_object();
    }
    if (!d.previous_executable.empty()) {
      w.key("previous");
      w.begin_object();
      w.key("executable");
      w.value(d.previous_executable);
      w.end_object();
    }
    write_parent(w, p, d.known_parent);
    w.end_object();
  }

  void write_parent(JsonWriter& w, const Process& child, const Process* known_parent) const {
    w.key("parent");
    w.begin_object();
    if (known_parent) {
      write_identity(w, *known_parent, false);
    } else if (child.parent_audit_token) {
      const AuditToken& t = *child.parent_audit_token;
      w.key("pid");
      w.value(static_cast<int64_t>(t.pid));
      w.key("entity_id");
      w.value(std::string_view(entity_id(host_, t)));
      // An exec target carries its ancestry, nearest first: the parent's path.
      if (!child.ancestors.empty() && child.ancestors.front().audit_token == t)
        write_string_if(w, "executable", child.ancestors.front().path);
      write_credentials(w, t);
    } else {
      w.key("pid");
      w.value(static_cast<int64_t>(child.ppid));
    }
    w.end_object();
  }

  void write_path_parts(JsonWriter& w, std::string_view path) const {
    w.key("path");
    w.value(path);
    write_string_if(w, "name", mapping::base_name(path));
    write_string_if(w, "directory", mapping::dir_name(path));
    write_string_if(w, "extension", mapping::extension(path));
  }

  void write_file(JsonWriter& w, const File& f) const {
    w.key("file");
    w.begin_object();
    write_path_parts(w, f.path);
    if (f.stat) {
      const FileStat& s = *f.stat;
      write_string_if(w, "type", ecs_file_type(s.mode));
      write_number_string(w, "inode", s.ino);
      w.key("device");
      w.value(std::to_string(major(s.dev)) + ":" + std::to_string(minor(s.dev)));
      w.key("mode");
      w.value(mapping::octal_permissions(s.mode));
      write_number_string(w, "uid", s.uid);
      write_number_string(w, "gid", s.gid);
      w.key("size");
      w.value(s.size);
      write_time(w, "mtime", mapping::timespec_ns(s.mtime));
      write_time(w, "ctime", mapping::timespec_ns(s.ctime));
    }
    w.end_object();
  }

  // Opens ward{} with what every document has; the caller adds its payload's
  // part and closes it.
  void begin_ward(JsonWriter& w, const Message& m, const Process* p) const {
    w.key("ward");
    w.begin_object();
    w.key("action_type");
    w.value(m.action_type == ActionType::Auth ? "auth" : "notify");
    w.key("seq_num");
    w.value(m.seq_num);
    w.key("mono_time_ns");
    w.value(m.mono_time_ns);
    if (m.action_type == ActionType::Auth) {
      w.key("deadline_ns");
      w.value(m.deadline_ns);
    }
    if (p) {
      w.key("process");
      w.begin_object();
      w.key("pidversion");
      w.value(p->audit_token.pidversion);
      w.key("original_ppid");
      w.value(static_cast<int64_t>(p->original_ppid));
      if (p->audit_token.auid != mapping::kUnsetId) {
        w.key("auid");
        w.value(p->audit_token.auid);
      }
      if (p->audit_token.asid != mapping::kUnsetId) {
        w.key("asid");
        w.value(p->audit_token.asid);
      }
      w.key("executable_truncated");
      w.value(p->executable.path_truncated);
      if (!p->ancestors.empty()) {
        // Entity ids of the ancestors, nearest first (ECS has no lineage field).
        w.key("ancestry");
        w.begin_array();
        for (const auto& a : p->ancestors) w.value(std::string_view(entity_id(host_, a.audit_token)));
        w.end_array();
      }
      w.end_object();
    }
  }

  HostInfo host_;
  WallClock clock_;
};

}  // namespace

std::unique_ptr<Serializer> make_ecs_serializer(HostInfo host, WallClock clock) {
  return std::make_unique<EcsJson>(std::move(host), clock);
}

}  // namespace ward::output
