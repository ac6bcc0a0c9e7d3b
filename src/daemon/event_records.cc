#include "daemon/event_records.h"

#include <cstdio>
#include <variant>

#include "output/payload_facts.h"
#include "ward/event_table.h"

namespace ward::daemon {
namespace {

std::string_view name_of(EventType type) { return event_name(type); }

std::string facts_path(const Message& m) {
  if (!m.event) return "";
  return std::visit(
      [](const auto& payload) -> std::string {
        const output::PayloadFacts facts = output::facts_of(payload);
        if (facts.file) return facts.file->path;
        if (!facts.path.empty()) return facts.path;
        return facts.name;
      },
      *m.event);
}

// Control characters in arguments or paths would break the one line per
// event (or drive the terminal): they are written as C escapes.
std::string one_line(const char* text) {
  std::string out;
  for (const char* p = text; *p; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      out += esc;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

std::string main_path(const Message& m) {
  if (const auto* e = m.as<ExecEvent>()) return e->target ? e->target->executable.path : "";
  if (const auto* r = m.as<AuthResultEvent>()) return r->target;
  if (const auto* o = m.as<OpenEvent>()) return o->file.path;
  if (std::string path = facts_path(m); !path.empty()) return path;
  return m.process ? m.process->executable.path : "";
}

std::string summary_line(const Message& m) {
  static const Process kNobody{};
  const Process& p = m.process ? *m.process : kNobody;
  char line[768];
  if (const auto* e = m.as<ExecEvent>(); e && e->target) {
    std::string args;
    for (const auto& a : e->args) args += (args.empty() ? "" : " ") + a;
    if (args.size() > 200) args = args.substr(0, 200) + "…";
    std::snprintf(line, sizeof(line), "%s pid=%d ppid=%d uid=%u %s [%s]%s%s",
                  m.action_type == ActionType::Auth ? "auth_exec" : "exec", e->target->audit_token.pid,
                  e->target->ppid, e->target->audit_token.euid, e->target->executable.path.c_str(),
                  args.c_str(), e->target->package ? " pkg=" : "",
                  e->target->package ? e->target->package->c_str() : "");
  } else if (const auto* f = m.as<ForkEvent>(); f && f->child) {
    std::snprintf(line, sizeof(line), "fork pid=%d child=%d %s", p.audit_token.pid, f->child->audit_token.pid,
                  p.executable.path.c_str());
  } else if (const auto* x = m.as<ExitEvent>()) {
    std::snprintf(line, sizeof(line), "exit pid=%d status=%d %s", p.audit_token.pid, x->stat,
                  p.executable.path.c_str());
  } else if (const auto* r = m.as<AuthResultEvent>()) {
    std::snprintf(line, sizeof(line), "%s %s pid=%d %s by=%s%s%s%s",
                  r->auth_event_type == 0 ? "exec" : "open", r->would_deny ? "would-deny" : r->result.c_str(),
                  p.audit_token.pid, r->target.c_str(), r->decided_by.c_str(),
                  r->rule.empty() ? "" : " rule=", r->rule.c_str(), r->cached ? " cached" : "");
  } else {
    // Every other event: who did it, and to what (when it names a path).
    const std::string target = facts_path(m);
    const std::string_view name = name_of(m.event_type);
    std::snprintf(line, sizeof(line), "%.*s pid=%d %s%s%s", static_cast<int>(name.size()), name.data(),
                  p.audit_token.pid, p.executable.path.c_str(), target.empty() ? "" : " ", target.c_str());
  }
  return one_line(line);
}

std::string summary_line(const DropReport& drop) {
  std::string line = "drop source=" + drop.source + " type=";
  line += drop.event_type ? std::string(event_name(*drop.event_type)) : "unknown";
  line += " count=" + std::to_string(drop.count);
  return line;
}

output::Record record_header(const Message& m, const std::string& run_id) {
  output::Record r;
  r.id = run_id + "-" + std::to_string(m.global_seq_num);
  const auto* info = event_info(m.event_type);
  r.event_type = info ? info->es_number : 0;
  r.event_name = std::string(name_of(m.event_type));
  r.time_ns = m.time_ns;
  r.pid = m.process ? m.process->audit_token.pid : 0;
  r.path = main_path(m);
  return r;
}

}  // namespace ward::daemon
