#include "daemon/policy_edit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace ward::daemon {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;  // keys in the order written: id first
using policy::BinaryRule;
using policy::FileAccessRule;
using policy::PathMatcher;
using policy::ProcessMatcher;

// JSON text is YAML flow text too; scalars are all written quoted (the
// policy loader reads booleans and uids from their text), so a value can
// never be read as YAML syntax.
template <typename Json>
void append_flow(const Json& value, std::string& out) {
  if (value.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) out += ", ";
      first = false;
      out += Json(key).dump();
      out += ": ";
      append_flow(item, out);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& item : value) {
      if (!first) out += ", ";
      first = false;
      append_flow(item, out);
    }
    out += ']';
  } else if (value.is_string()) {
    out += value.dump();
  } else if (value.is_null()) {
    out += "null";
  } else {
    out += Json(value.dump()).dump();  // true, 12 -> "true", "12"
  }
}

ordered_json path_json(const PathMatcher& m, std::string_view literal, std::string_view prefix,
                       std::string_view glob) {
  switch (m.kind()) {
    case PathMatcher::Kind::Literal:
      return {{std::string(literal), m.pattern()}};
    case PathMatcher::Kind::Prefix:
      return {{std::string(prefix), m.pattern()}};
    case PathMatcher::Kind::Glob:
      return {{std::string(glob), m.pattern()}};
  }
  return ordered_json::object();
}

// "rule:3: reason" -> "reason": the line of a one-rule document means nothing
// to the user.
std::string without_location(const std::string& message, std::string_view file_name) {
  if (message.rfind(std::string(file_name) + ":", 0) != 0) return message;
  const std::size_t colon = message.find(": ", file_name.size() + 1);
  return colon == std::string::npos ? message : message.substr(colon + 2);
}

bool id_taken(const policy::Policy& p, const std::string& id, int& line) {
  for (const auto& r : p.binary_rules)
    if (r.id == id) return (line = r.line), true;
  for (const auto& r : p.file_rules)
    if (r.id == id) return (line = r.line), true;
  for (const auto& r : p.network_rules)
    if (r.name == id) return (line = 0), true;
  return false;
}

}  // namespace

ordered_json rule_json(const BinaryRule& rule, bool with_line) {
  ordered_json out = ordered_json::object();
  out["id"] = rule.id;
  switch (rule.kind) {
    case BinaryRule::Kind::Sha256:
      out["sha256"] = rule.value;
      break;
    case BinaryRule::Kind::Package:
      out["package"] = rule.value;
      break;
    case BinaryRule::Kind::PlatformBinary:
      out["platform_binary"] = true;
      break;
    case BinaryRule::Kind::Path:
      out.update(path_json(rule.path, "path", "path_prefix", "path_glob"));
      break;
  }
  out["policy"] = std::string(policy::to_string(rule.policy));
  if (with_line) out["line"] = rule.line;
  return out;
}

ordered_json rule_json(const FileAccessRule& rule, bool with_line) {
  ordered_json paths = ordered_json::array();
  for (const auto& p : rule.paths) paths.push_back(path_json(p, "literal", "prefix", "glob"));
  ordered_json processes = ordered_json::array();
  for (const auto& m : rule.processes) {
    switch (m.kind) {
      case ProcessMatcher::Kind::Path:
        processes.push_back(path_json(m.path, "path", "path_prefix", "path_glob"));
        break;
      case ProcessMatcher::Kind::Sha256:
        processes.push_back(ordered_json{{"sha256", m.value}});
        break;
      case ProcessMatcher::Kind::Package:
        processes.push_back(ordered_json{{"package", m.value}});
        break;
      case ProcessMatcher::Kind::Uid:
        processes.push_back(ordered_json{{"uid", m.uid}});
        break;
    }
  }
  ordered_json out = ordered_json::object();
  out["id"] = rule.id;
  out["shape"] = std::string(policy::to_string(rule.shape));
  out["paths"] = paths;
  out["processes"] = processes;
  out["access"] = std::string(policy::to_string(rule.access));
  out["audit_only"] = rule.audit_only;
  if (with_line) out["line"] = rule.line;
  return out;
}

ordered_json rule_json(const NetworkRule& rule) {
  ordered_json out = ordered_json::object();
  out["id"] = rule.name;
  out["direction"] = rule.direction == NetworkDirection::Bind   ? "bind"
                     : rule.direction == NetworkDirection::Both ? "both"
                                                                : "connect";
  out["protocol"] = rule.protocol == NetworkProtocol::Tcp   ? "tcp"
                    : rule.protocol == NetworkProtocol::Udp ? "udp"
                                                            : "any";
  if (!rule.cidr.empty()) out["cidr"] = rule.cidr;
  if (rule.port_lo != 0)
    out["port"] = std::to_string(rule.port_lo) + (rule.port_hi != 0 ? "-" + std::to_string(rule.port_hi) : "");
  if (rule.executable) out["executable"] = *rule.executable;
  if (rule.sha256) out["sha256"] = *rule.sha256;
  return out;
}

std::string render_policy(const policy::Policy& policy, policy::Mode mode) {
  char when[64] = "";
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string out = "# Ward policy (schema: src/policy/policy.h), written by wardd for `ward rules` at ";
  out += when;
  out += ".\n# The file before this change is kept as " + std::string("<this file>.bak") + ".\n";
  out += "mode: " + std::string(policy::to_string(mode)) + "\n";
  out += "binary_rules:\n";
  for (const auto& r : policy.binary_rules) {
    out += "  - ";
    append_flow(rule_json(r), out);
    out += '\n';
  }
  out += "file_access_rules:\n";
  for (const auto& r : policy.file_rules) {
    out += "  - ";
    append_flow(rule_json(r), out);
    out += '\n';
  }
  if (!policy.network_rules.empty()) {
    out += "network_cgroup: ";
    append_flow(ordered_json(policy.network_cgroup), out);
    out += "\nnetwork_rules:\n";
    for (const auto& r : policy.network_rules) {
      out += "  - ";
      append_flow(rule_json(r), out);
      out += '\n';
    }
  }
  return out;
}

Result<policy::Policy> with_rule_added(const policy::Policy& current, const std::string& section,
                                       const json& rule) {
  if (section != "binary_rules" && section != "file_access_rules")
    return Status::error("unknown rule section '" + section + "' (binary_rules or file_access_rules)");
  if (!rule.is_object()) return Status::error("new rule: must be a mapping of fields");
  std::string text = "mode: monitor\n" + section + ":\n  - ";
  try {
    append_flow(rule, text);
  } catch (const std::exception& e) {
    return Status::error(std::string("new rule: ") + e.what());
  }
  text += '\n';
  static constexpr std::string_view kName = "new rule";
  auto parsed = policy::parse_policy(text, kName);
  if (!parsed) return Status::error("new rule: " + without_location(parsed.status().message(), kName));

  policy::Policy next = current;
  const bool binary = section == "binary_rules";
  const std::string& id = binary ? parsed.value().binary_rules.at(0).id : parsed.value().file_rules.at(0).id;
  int line = 0;
  if (id_taken(current, id, line))
    return Status::error("a rule with id '" + id + "' already exists" +
                         (line > 0 ? " (line " + std::to_string(line) + " of " + current.source + ")" : "") +
                         "; remove it first or choose another id");
  if (binary)
    next.binary_rules.push_back(std::move(parsed.value().binary_rules.at(0)));
  else
    next.file_rules.push_back(std::move(parsed.value().file_rules.at(0)));
  return next;
}

Result<policy::Policy> with_rule_removed(const policy::Policy& current, const std::string& id) {
  policy::Policy next = current;
  auto count = [&] { return next.binary_rules.size() + next.file_rules.size() + next.network_rules.size(); };
  const std::size_t before = count();
  std::erase_if(next.binary_rules, [&](const auto& r) { return r.id == id; });
  std::erase_if(next.file_rules, [&](const auto& r) { return r.id == id; });
  std::erase_if(next.network_rules, [&](const auto& r) { return r.name == id; });
  if (count() == before)
    return Status::error("no rule with id '" + id +
                         "' in the policy in force (`ward rules list` shows them)");
  return next;
}

Status replace_policy_file(const std::string& path, const std::string& text) {
  struct stat old {};
  const bool existed = ::stat(path.c_str(), &old) == 0;
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  ::unlink(tmp.c_str());
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, existed ? (old.st_mode & 07777) : 0600);
  if (fd < 0) return Status::error(tmp + ": cannot create: " + std::strerror(errno));
  auto fail = [&](const std::string& what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::error(tmp + ": " + what + ": " + std::strerror(err));
  };
  if (existed && (fchown(fd, old.st_uid, old.st_gid) != 0 || fchmod(fd, old.st_mode & 07777) != 0))
    return fail("cannot keep the owner and mode");
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    off += static_cast<std::size_t>(n);
  }
  if (fsync(fd) != 0) return fail("cannot fsync");
  ::close(fd);
  if (existed) {
    // A hard link keeps the old file as .bak without a moment with no policy file.
    const std::string backup = path + ".bak";
    ::unlink(backup.c_str());
    (void)::link(path.c_str(), backup.c_str());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Status::error(path + ": cannot replace: " + std::strerror(err));
  }
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    (void)fsync(dfd);
    ::close(dfd);
  }
  return Status::ok();
}

}  // namespace ward::daemon
