// The policy file: YAML -> a validated Policy, or "FILE:LINE: reason".
//
// yaml-cpp builds the document tree (and throws on syntax errors); this file
// walks it against the schema of policy.h. The walk never goes deeper than the
// schema, so anchors and aliases (even cyclic ones) cannot make it loop or
// blow up. yaml-cpp keeps duplicate mapping keys, so they are rejected here.
//
// YAML::LoadAll is not used: in yaml-cpp 0.7 a stray ',' makes it loop forever,
// allocating an empty document per turn until the OOM killer comes
// (jbeder/yaml-cpp#1040, fixed upstream in PR #1319). check_single_document()
// walks the documents itself and stops when the parser makes no progress; only
// then is the single document built, with YAML::Load.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "policy/policy.h"
#include "policy/yaml_nodes.h"
#include "ward_event_wire.h"

namespace ward::policy {
namespace {

using yaml_nodes::join;
using yaml_nodes::line_of;
using yaml_nodes::type_name;

// One key/value of a mapping, with the key's spelling.
struct Field {
  std::string name;
  YAML::Node key;
  YAML::Node value;
};

using Fields = std::vector<Field>;

int key_line(const Field& field) { return line_of(field.key, 1); }

// yaml-cpp marks an empty value (`key:` and nothing) at the next token, often
// the next line; the key's line is the one to report then.
int value_line(const Field& field) {
  return field.value.IsNull() ? key_line(field) : line_of(field.value, key_line(field));
}

const Field* find(const Fields& fields, std::string_view name) {
  for (const Field& field : fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

bool has_glob_characters(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

bool is_valid_rule_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("._:@/-").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Debian policy 5.6.7: lowercase letters, digits, '+', '-', '.'; at least two
// characters, starting with a letter or digit.
bool is_valid_package_name(std::string_view name) {
  if (name.size() < 2) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '+' && c != '-' && c != '.'))) return false;
  }
  return true;
}

// The kernel's network rule table (bpf/net_auth.bpf.c).
constexpr std::size_t kMaxNetworkRules = WARD_NET_RULES_MAX;

bool is_valid_cidr(const std::string& text) {
  const auto slash = text.find('/');
  const std::string address = text.substr(0, slash);
  unsigned char buf[16];
  int max_prefix = 0;
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    max_prefix = 128;
  } else {
    return false;
  }
  if (slash == std::string::npos) return true;
  const std::string prefix = text.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3) return false;
  int value = 0;
  for (char c : prefix) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value <= max_prefix;
}

// "443" or "8000-8100".
bool parse_port_range(const std::string& text, uint16_t& lo, uint16_t& hi) {
  auto number = [](std::string_view s, uint16_t& out) {
    if (s.empty() || s.size() > 5) return false;
    unsigned value = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return false;
    out = static_cast<uint16_t>(value);
    return true;
  };
  const auto dash = text.find('-');
  if (dash == std::string::npos) {
    hi = 0;
    return number(text, lo);
  }
  std::string_view s(text);
  return number(s.substr(0, dash), lo) && number(s.substr(dash + 1), hi) && lo <= hi;
}

constexpr std::array kModes = {Mode::Monitor, Mode::Lockdown};
constexpr std::array kBinaryPolicies = {BinaryPolicy::Allow, BinaryPolicy::Block, BinaryPolicy::SilentBlock};
constexpr std::array kAccesses = {Access::Read, Access::Write, Access::ReadWrite};
constexpr std::array kShapes = {
    FileAccessShape::PathsWithAllowedProcesses, FileAccessShape::PathsWithDeniedProcesses,
    FileAccessShape::ProcessesWithAllowedPaths, FileAccessShape::ProcessesWithDeniedPaths};

class PolicyParser {
 public:
  explicit PolicyParser(std::string_view file_name) : file_name_(file_name) {}

  Result<Policy> parse(std::string_view text) {
    const std::string input(text);
    YAML::Node root;
    try {
      if (Status status = check_single_document(input); !status) return status;
      root = YAML::Load(input);
    } catch (const YAML::ParserException& e) {
      return error(e.mark.is_null() ? 1 : e.mark.line + 1, "YAML syntax error: " + e.msg);
    } catch (const std::exception& e) {
      return error(1, std::string("cannot parse YAML: ") + e.what());
    }
    if (root.IsNull()) return error(1, "empty policy: at least 'mode' is required (e.g. \"mode: monitor\")");
    // The schema walk only reads the tree, but yaml-cpp may still throw on a
    // malformed node; never let that escape.
    try {
      Policy policy;
      policy.source = file_name_;
      if (Status status = parse_root(root, policy); !status) return status;
      return policy;
    } catch (const std::exception& e) {
      return error(line_of(root, 1), std::string("cannot read YAML: ") + e.what());
    }
  }

 private:
  Status error(int line, const std::string& reason) const {
    return Status::error(file_name_ + ":" + std::to_string(line) + ": " + reason);
  }

  // Records where each document starts; builds nothing.
  class DocumentStarts final : public YAML::EventHandler {
   public:
    std::vector<YAML::Mark> marks;
    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  };

  // Ok when `input` holds at most one document. Reads at most three: enough
  // to see a second document, and to see the parser stuck on a token (the
  // same start twice in a row) — a syntax error yaml-cpp does not report.
  Status check_single_document(const std::string& input) const {
    std::istringstream stream(input);
    YAML::Parser parser(stream);
    DocumentStarts starts;
    while (starts.marks.size() < 3 && parser.HandleNextDocument(starts)) {
      const size_t n = starts.marks.size();
      if (n >= 2 && starts.marks[n - 1].pos == starts.marks[n - 2].pos) {
        const YAML::Mark& stuck = starts.marks[n - 1];
        return error(stuck.line + 1,
                     "YAML syntax error: unexpected token at column " + std::to_string(stuck.column + 1));
      }
    }
    if (starts.marks.size() > 1) {
      return error(starts.marks[1].line + 1,
                   "more than one YAML document ('---'); a policy file holds exactly one");
    }
    return Status::ok();
  }

  // Collects the fields of `map` (what: "a binary rule", for messages),
  // rejecting non-mappings, unknown names and duplicates.
  Status read_fields(const YAML::Node& map, int line, std::string_view what,
                     const std::vector<std::string_view>& allowed, Fields& out) const {
    if (!map.IsMap()) return error(line, std::string(what) + " must be a mapping, got " + type_name(map));
    for (auto it = map.begin(); it != map.end(); ++it) {
      Field field{"", it->first, it->second};
      if (!field.key.IsScalar()) {
        return error(line_of(field.key, line), "a field name must be a plain string");
      }
      field.name = field.key.Scalar();
      bool known = false;
      for (std::string_view name : allowed) known = known || name == field.name;
      if (!known) {
        return error(key_line(field), "unknown field '" + field.name + "' in " + std::string(what) +
                                          " (expected one of: " + join(allowed) + ")");
      }
      if (const Field* first = find(out, field.name)) {
        return error(key_line(field), "duplicate field '" + field.name + "' (first on line " +
                                          std::to_string(key_line(*first)) + ")");
      }
      out.push_back(std::move(field));
    }
    return Status::ok();
  }

  Status missing(int line, std::string_view name, std::string_view what) const {
    return error(line, "missing required field '" + std::string(name) + "' in " + std::string(what));
  }

  Status get_string(const Field& field, std::string& out) const {
    if (!field.value.IsScalar()) {
      return error(value_line(field),
                   "wrong type: '" + field.name + "' must be a string, got " + type_name(field.value));
    }
    out = field.value.Scalar();
    return Status::ok();
  }

  Status get_bool(const Field& field, bool& out) const {
    std::string text;
    if (field.value.IsScalar()) text = field.value.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") {
      out = true;
    } else if (text == "false" || text == "False" || text == "FALSE") {
      out = false;
    } else {
      const std::string got = field.value.IsScalar() ? "'" + text + "'" : type_name(field.value);
      return error(value_line(field), "wrong type: '" + field.name + "' must be true or false, got " + got);
    }
    return Status::ok();
  }

  template <typename Enum, size_t N>
  Status get_enum(const Field& field, const std::array<Enum, N>& values, Enum& out) const {
    std::string text;
    if (Status status = get_string(field, text); !status) return status;
    std::vector<std::string_view> names;
    for (Enum value : values) {
      if (to_string(value) == text) {
        out = value;
        return Status::ok();
      }
      names.push_back(to_string(value));
    }
    return error(value_line(field),
                 "bad value '" + text + "' for '" + field.name + "' (expected one of: " + join(names) + ")");
  }

  Status get_uid(const Field& field, uid_t& out) const {
    std::string text;
    if (Status status = get_string(field, text); !status) return status;
    uint64_t value = 0;
    bool ok = !text.empty() && text.size() <= 10;
    for (char c : text) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    // 4294967295 is (uid_t)-1, "no uid": no process runs as it.
    if (!ok || value >= 4294967295ULL) {
      return error(value_line(field), "bad uid '" + text + "': expected a number from 0 to 4294967294");
    }
    out = static_cast<uid_t>(value);
    return Status::ok();
  }

  Status get_sha256(const Field& field, std::string& out) const {
    std::string text;
    if (Status status = get_string(field, text); !status) return status;
    out = normalize_sha256(text);
    if (out.empty()) {
      return error(value_line(field), "bad sha256 '" + text + "': expected 64 hexadecimal digits");
    }
    return Status::ok();
  }

  Status get_package(const Field& field, std::string& out) const {
    if (Status status = get_string(field, out); !status) return status;
    if (!is_valid_package_name(out)) {
      return error(value_line(field),
                   "bad package name '" + out +
                       "' (a Debian package: lowercase letters, digits, '+', '-', '.'; no ':arch')");
    }
    return Status::ok();
  }

  // `path` fields are literals; a glob character there is almost always a
  // forgotten path_glob, so it is refused rather than silently never matching.
  Status get_path(const Field& field, PathMatcher::Kind kind, PathMatcher& out) const {
    std::string text;
    if (Status status = get_string(field, text); !status) return status;
    if (kind == PathMatcher::Kind::Literal && field.name == "path" && has_glob_characters(text)) {
      return error(value_line(field),
                   "'path' is a literal but '" + text + "' contains * ? or [; use path_glob");
    }
    auto matcher = PathMatcher::create(kind, std::move(text));
    if (!matcher) return error(value_line(field), matcher.status().message());
    out = std::move(matcher.value());
    return Status::ok();
  }

  Status get_rule_id(const Field& field, std::string& out) {
    if (Status status = get_string(field, out); !status) return status;
    if (!is_valid_rule_id(out)) {
      return error(value_line(field),
                   "bad rule id '" + out + "' (1-128 characters of A-Z a-z 0-9 . _ : @ / -)");
    }
    const auto [it, inserted] = rule_id_lines_.emplace(out, value_line(field));
    if (!inserted) {
      return error(value_line(field), "duplicate rule id '" + out + "' (first defined on line " +
                                          std::to_string(it->second) + ")");
    }
    return Status::ok();
  }

  // `rules:` with no value (every item commented out) is an empty list.
  Status get_sequence(const Field& field, std::vector<YAML::Node>& out) const {
    if (field.value.IsNull()) return Status::ok();
    if (!field.value.IsSequence()) {
      return error(value_line(field),
                   "wrong type: '" + field.name + "' must be a sequence, got " + type_name(field.value));
    }
    for (const YAML::Node& item : field.value) out.push_back(item);
    return Status::ok();
  }

  Status get_non_empty_sequence(const Field& field, std::vector<YAML::Node>& out) const {
    if (!field.value.IsSequence()) {
      return error(value_line(field),
                   "wrong type: '" + field.name + "' must be a sequence, got " + type_name(field.value));
    }
    for (const YAML::Node& item : field.value) out.push_back(item);
    if (out.empty()) return error(value_line(field), "'" + field.name + "' must not be empty");
    return Status::ok();
  }

  // Exactly one of `names` must be present; returns it in `chosen`.
  Status exactly_one(const Fields& fields, int line, std::string_view what,
                     const std::vector<std::string_view>& names, const Field*& chosen) const {
    chosen = nullptr;
    for (const Field& field : fields) {
      bool listed = false;
      for (std::string_view name : names) listed = listed || name == field.name;
      if (!listed) continue;
      if (chosen) {
        return error(key_line(field), std::string(what) + " has both '" + chosen->name + "' and '" +
                                          field.name + "'; exactly one of " + join(names) + " is allowed");
      }
      chosen = &field;
    }
    if (!chosen) {
      return error(line, "missing required field in " + std::string(what) + ": one of " + join(names));
    }
    return Status::ok();
  }

  Status parse_root(const YAML::Node& root, Policy& policy) {
    const int line = line_of(root, 1);
    Fields fields;
    if (Status s =
            read_fields(root, line, "the policy",
                        {"mode", "binary_rules", "file_access_rules", "network_rules", "network_cgroup"}, fields);
        !s) {
      return s;
    }
    const Field* mode = find(fields, "mode");
    if (!mode) return missing(line, "mode", "the policy");
    if (Status s = get_enum(*mode, kModes, policy.mode); !s) return s;

    std::vector<YAML::Node> items;
    if (const Field* rules = find(fields, "binary_rules")) {
      if (Status s = get_sequence(*rules, items); !s) return s;
      for (const YAML::Node& item : items) {
        BinaryRule rule;
        if (Status s = parse_binary_rule(item, line_of(item, value_line(*rules)), rule); !s) return s;
        policy.binary_rules.push_back(std::move(rule));
      }
    }
    items.clear();
    if (const Field* rules = find(fields, "file_access_rules")) {
      if (Status s = get_sequence(*rules, items); !s) return s;
      for (const YAML::Node& item : items) {
        FileAccessRule rule;
        if (Status s = parse_file_rule(item, line_of(item, value_line(*rules)), rule); !s) return s;
        policy.file_rules.push_back(std::move(rule));
      }
    }
    items.clear();
    if (const Field* rules = find(fields, "network_rules")) {
      if (Status s = get_sequence(*rules, items); !s) return s;
      if (items.size() > kMaxNetworkRules) {
        return error(value_line(*rules), "too many network rules (" + std::to_string(items.size()) +
                                             "; the kernel's table holds " + std::to_string(kMaxNetworkRules) +
                                             ")");
      }
      for (const YAML::Node& item : items) {
        NetworkRule rule;
        if (Status s = parse_network_rule(item, line_of(item, value_line(*rules)), rule); !s) return s;
        policy.network_rules.push_back(std::move(rule));
      }
    }
    if (const Field* cgroup = find(fields, "network_cgroup")) {
      if (Status s = get_string(*cgroup, policy.network_cgroup); !s) return s;
      if (policy.network_cgroup.empty() || policy.network_cgroup[0] != '/') {
        return error(value_line(*cgroup), "'network_cgroup' must be an absolute path (a cgroup v2 directory)");
      }
    }
    return Status::ok();
  }

  // {id, direction, protocol, cidr, port, executable, sha256}: what a
  // connect or bind must match, every field given, to be denied.
  Status parse_network_rule(const YAML::Node& node, int line, NetworkRule& rule) {
    static constexpr std::string_view kWhat = "a network rule";
    Fields fields;
    if (Status s = read_fields(node, line, kWhat,
                               {"id", "direction", "protocol", "cidr", "port", "executable", "sha256"}, fields);
        !s) {
      return s;
    }
    const Field* id = find(fields, "id");
    if (!id) return missing(line, "id", kWhat);
    if (Status s = get_rule_id(*id, rule.name); !s) return s;
    std::string text;
    if (const Field* f = find(fields, "direction")) {
      if (Status s = get_string(*f, text); !s) return s;
      if (text == "connect") {
        rule.direction = NetworkDirection::Connect;
      } else if (text == "bind") {
        rule.direction = NetworkDirection::Bind;
      } else if (text == "both") {
        rule.direction = NetworkDirection::Both;
      } else {
        return error(value_line(*f), "bad value '" + text + "' for 'direction' (expected one of: connect, bind, both)");
      }
    }
    if (const Field* f = find(fields, "protocol")) {
      if (Status s = get_string(*f, text); !s) return s;
      if (text == "tcp") {
        rule.protocol = NetworkProtocol::Tcp;
      } else if (text == "udp") {
        rule.protocol = NetworkProtocol::Udp;
      } else if (text == "any") {
        rule.protocol = NetworkProtocol::Any;
      } else {
        return error(value_line(*f), "bad value '" + text + "' for 'protocol' (expected one of: tcp, udp, any)");
      }
    }
    if (const Field* f = find(fields, "cidr")) {
      if (Status s = get_string(*f, rule.cidr); !s) return s;
      if (!is_valid_cidr(rule.cidr)) {
        return error(value_line(*f), "bad cidr '" + rule.cidr +
                                         "' (an IPv4 or IPv6 address, optionally /prefix: 10.0.0.0/8, ::1)");
      }
    }
    if (const Field* f = find(fields, "port")) {
      if (Status s = get_string(*f, text); !s) return s;
      if (!parse_port_range(text, rule.port_lo, rule.port_hi)) {
        return error(value_line(*f), "bad port '" + text + "' (a port 1-65535 or a range LOW-HIGH)");
      }
    }
    if (const Field* f = find(fields, "executable")) {
      std::string path;
      if (Status s = get_string(*f, path); !s) return s;
      if (path.empty() || path[0] != '/') {
        return error(value_line(*f), "'" + path + "' is not an absolute path");
      }
      if (path.size() >= 256) return error(value_line(*f), "'executable' must be under 256 bytes (the kernel's key)");
      rule.executable = path;
    }
    if (const Field* f = find(fields, "sha256")) {
      if (rule.executable) {
        return error(value_line(*f), "a network rule names the process by executable or sha256, not both");
      }
      std::string hash;
      if (Status s = get_sha256(*f, hash); !s) return s;
      rule.sha256 = hash;
    }
    if (rule.cidr.empty() && rule.port_lo == 0 && !rule.executable && !rule.sha256) {
      // It would deny every connect of every process in the cgroup.
      return error(line, "a network rule must say what it denies: one or more of cidr, port, executable, sha256");
    }
    return Status::ok();
  }

  Status parse_binary_rule(const YAML::Node& node, int line, BinaryRule& rule) {
    static constexpr std::string_view kWhat = "a binary rule";
    const std::vector<std::string_view> matchers = {"sha256",    "path",    "path_prefix",
                                                    "path_glob", "package", "platform_binary"};
    std::vector<std::string_view> allowed = {"id", "policy"};
    allowed.insert(allowed.end(), matchers.begin(), matchers.end());
    Fields fields;
    if (Status s = read_fields(node, line, kWhat, allowed, fields); !s) return s;
    rule.line = line;

    const Field* id = find(fields, "id");
    if (!id) return missing(line, "id", kWhat);
    if (Status s = get_rule_id(*id, rule.id); !s) return s;

    const Field* matcher = nullptr;
    if (Status s = exactly_one(fields, line, kWhat, matchers, matcher); !s) return s;
    Status status;
    if (matcher->name == "sha256") {
      rule.kind = BinaryRule::Kind::Sha256;
      status = get_sha256(*matcher, rule.value);
    } else if (matcher->name == "package") {
      rule.kind = BinaryRule::Kind::Package;
      status = get_package(*matcher, rule.value);
    } else if (matcher->name == "platform_binary") {
      rule.kind = BinaryRule::Kind::PlatformBinary;
      bool value = false;
      status = get_bool(*matcher, value);
      if (status && !value) {
        status = error(value_line(*matcher), "'platform_binary' must be true (it selects platform binaries)");
      }
    } else {
      rule.kind = BinaryRule::Kind::Path;
      const auto kind = matcher->name == "path"          ? PathMatcher::Kind::Literal
                        : matcher->name == "path_prefix" ? PathMatcher::Kind::Prefix
                                                         : PathMatcher::Kind::Glob;
      status = get_path(*matcher, kind, rule.path);
    }
    if (!status) return status;

    const Field* policy = find(fields, "policy");
    if (!policy) return missing(line, "policy", kWhat);
    return get_enum(*policy, kBinaryPolicies, rule.policy);
  }

  Status parse_file_rule(const YAML::Node& node, int line, FileAccessRule& rule) {
    static constexpr std::string_view kWhat = "a file access rule";
    Fields fields;
    if (Status s = read_fields(node, line, kWhat,
                               {"id", "shape", "paths", "processes", "access", "audit_only"}, fields);
        !s) {
      return s;
    }
    rule.line = line;
    for (std::string_view name : {"id", "shape", "paths", "processes", "access"}) {
      if (!find(fields, name)) return missing(line, name, kWhat);
    }
    if (Status s = get_rule_id(*find(fields, "id"), rule.id); !s) return s;
    if (Status s = get_enum(*find(fields, "shape"), kShapes, rule.shape); !s) return s;

    const Field& paths = *find(fields, "paths");
    std::vector<YAML::Node> items;
    if (Status s = get_non_empty_sequence(paths, items); !s) return s;
    for (const YAML::Node& item : items) {
      PathMatcher matcher;
      if (Status s = parse_path_item(item, line_of(item, value_line(paths)), matcher); !s) return s;
      rule.paths.push_back(std::move(matcher));
    }

    const Field& processes = *find(fields, "processes");
    items.clear();
    if (Status s = get_non_empty_sequence(processes, items); !s) return s;
    for (const YAML::Node& item : items) {
      ProcessMatcher matcher;
      if (Status s = parse_process_item(item, line_of(item, value_line(processes)), matcher); !s) return s;
      rule.processes.push_back(std::move(matcher));
    }

    if (Status s = get_enum(*find(fields, "access"), kAccesses, rule.access); !s) return s;
    if (const Field* audit_only = find(fields, "audit_only")) return get_bool(*audit_only, rule.audit_only);
    return Status::ok();
  }

  // "/a/*" (glob: has * ? [), "/etc/shadow" (literal), {literal|prefix|glob: ...}.
  Status parse_path_item(const YAML::Node& node, int line, PathMatcher& out) const {
    if (node.IsScalar()) {
      const std::string& text = node.Scalar();
      const auto kind = has_glob_characters(text) ? PathMatcher::Kind::Glob : PathMatcher::Kind::Literal;
      auto matcher = PathMatcher::create(kind, text);
      if (!matcher) return error(line, matcher.status().message());
      out = std::move(matcher.value());
      return Status::ok();
    }
    static constexpr std::string_view kWhat = "a path";
    const std::vector<std::string_view> kinds = {"literal", "prefix", "glob"};
    if (!node.IsMap()) {
      return error(line, "wrong type: a path must be a string or a mapping with one of " + join(kinds) +
                             ", got " + type_name(node));
    }
    Fields fields;
    if (Status s = read_fields(node, line, kWhat, kinds, fields); !s) return s;
    const Field* chosen = nullptr;
    if (Status s = exactly_one(fields, line, kWhat, kinds, chosen); !s) return s;
    const auto kind = chosen->name == "literal"  ? PathMatcher::Kind::Literal
                      : chosen->name == "prefix" ? PathMatcher::Kind::Prefix
                                                 : PathMatcher::Kind::Glob;
    return get_path(*chosen, kind, out);
  }

  Status parse_process_item(const YAML::Node& node, int line, ProcessMatcher& out) const {
    static constexpr std::string_view kWhat = "a process";
    const std::vector<std::string_view> kinds = {"path",   "path_prefix", "path_glob",
                                                 "sha256", "package",     "uid"};
    Fields fields;
    if (Status s = read_fields(node, line, kWhat, kinds, fields); !s) return s;
    const Field* chosen = nullptr;
    if (Status s = exactly_one(fields, line, kWhat, kinds, chosen); !s) return s;
    const std::string& kind = chosen->name;
    if (kind == "sha256") {
      out.kind = ProcessMatcher::Kind::Sha256;
      return get_sha256(*chosen, out.value);
    }
    if (kind == "package") {
      out.kind = ProcessMatcher::Kind::Package;
      return get_package(*chosen, out.value);
    }
    if (kind == "uid") {
      out.kind = ProcessMatcher::Kind::Uid;
      return get_uid(*chosen, out.uid);
    }
    out.kind = ProcessMatcher::Kind::Path;
    const auto path_kind = kind == "path"          ? PathMatcher::Kind::Literal
                           : kind == "path_prefix" ? PathMatcher::Kind::Prefix
                                                   : PathMatcher::Kind::Glob;
    return get_path(*chosen, path_kind, out.path);
  }

  std::string file_name_;
  std::map<std::string, int> rule_id_lines_;  // ids are unique across both rule lists
};

}  // namespace

Result<Policy> parse_policy(std::string_view yaml_text, std::string_view file_name) {
  return PolicyParser(file_name).parse(yaml_text);
}

Result<Policy> load_policy_file(const std::string& path) {
  auto failure = [&](const std::string& reason) {
    return Status::error(path + ": cannot read policy file: " + reason);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure(std::strerror(errno));
  std::string text;
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = failure(std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = failure("not a regular file");
  } else {
    // Read up to one byte past the limit: the size may change under us.
    char buffer[65536];
    while (text.size() <= kMaxPolicyFileBytes) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = failure(std::strerror(errno));
        break;
      }
      if (n == 0) break;
      text.append(buffer, static_cast<size_t>(n));
    }
    if (status && text.size() > kMaxPolicyFileBytes) {
      status = failure("larger than " + std::to_string(kMaxPolicyFileBytes) + " bytes");
    }
  }
  ::close(fd);
  if (!status) return status;
  return parse_policy(text, path);
}

}  // namespace ward::policy
