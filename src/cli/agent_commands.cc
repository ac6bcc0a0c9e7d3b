#include "cli/agent_commands.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/control_client.h"
#include "store/readonly_query.h"
#include "ward/event_table.h"

namespace ward::cli {
namespace {

using nlohmann::json;

// ---- validators: every bad argument is named with what is wrong ----------------

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

const CLI::Validator kSha256(
    [](std::string& s) {
      return is_hex64(s) ? std::string() : "bad sha256 '" + s + "': expected 64 hexadecimal digits";
    },
    "SHA256", "sha256");

const CLI::Validator kAbsolutePath(
    [](std::string& s) {
      return !s.empty() && s[0] == '/' ? std::string() : "'" + s + "' is not an absolute path";
    },
    "ABSOLUTE PATH", "absolute path");

const CLI::Validator kRuleId(
    [](std::string& s) {
      bool ok = !s.empty() && s.size() <= 128;
      for (char c : s)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view("._:@/-").find(c) != std::string_view::npos);
      return ok ? std::string() : "bad rule id '" + s + "': 1-128 characters of A-Z a-z 0-9 . _ : @ / -";
    },
    "ID", "rule id");

const CLI::Validator kPackage(
    [](std::string& s) {
      bool ok = s.size() >= 2;
      for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        ok = ok && (alnum || (i > 0 && (c == '+' || c == '-' || c == '.')));
      }
      return ok ? std::string()
                : "bad package name '" + s +
                      "': a Debian package (lowercase letters, digits, + - .; no :arch)";
    },
    "PACKAGE", "package");

// --process KIND=VALUE for file access rules.
const CLI::Validator kProcessMatcher(
    [](std::string& s) {
      const std::size_t eq = s.find('=');
      const std::string kind = s.substr(0, eq);
      const std::string value = eq == std::string::npos ? "" : s.substr(eq + 1);
      static const std::vector<std::string> kKinds = {"path",   "path_prefix", "path_glob",
                                                      "sha256", "package",     "uid"};
      if (eq == std::string::npos || std::find(kKinds.begin(), kKinds.end(), kind) == kKinds.end())
        return "bad process '" + s +
               "': expected KIND=VALUE with KIND one of path, path_prefix, path_glob, sha256, "
               "package, uid";
      if (value.empty()) return "bad process '" + s + "': empty value";
      if (kind == "sha256" && !is_hex64(value))
        return "bad process '" + s + "': sha256 must be 64 hexadecimal digits";
      if (kind == "uid" && value.find_first_not_of("0123456789") != std::string::npos)
        return "bad process '" + s + "': uid must be a number";
      if (kind.rfind("path", 0) == 0 && value[0] != '/' &&
          !(kind == "path_glob" && value.rfind("**", 0) == 0))
        return "bad process '" + s + "': the path must be absolute";
      return std::string();
    },
    "KIND=VALUE", "process matcher");

// --path for file access rules: literal:/x, prefix:/x/, glob:/x/*, or a plain
// path (a glob when it has * ? [, as in the policy file).
const CLI::Validator kFilePattern(
    [](std::string& s) {
      std::string value = s;
      for (const char* kind : {"literal:", "prefix:", "glob:"})
        if (s.rfind(kind, 0) == 0) value = s.substr(std::strlen(kind));
      if (value.empty() || (value[0] != '/' && value.rfind("**", 0) != 0))
        return "bad path '" + s + "': an absolute path, optionally with literal:, prefix: or glob: in front";
      return std::string();
    },
    "PATH", "file pattern");

const CLI::Validator kEventName(
    [](std::string& s) {
      if (s == "process" || s == "file" || s == "system" || s == "network" || s == "all")
        return std::string();
      const auto type = event_type_from_name(s);
      if (!type)
        return "unknown event '" + s +
               "' (`ward log --list` shows the names; groups: process, file, system, network, all)";
      if (event_info(*type)->action == ActionType::Auth)
        return "'" + s + "' is an AUTH event; tail only observes (use auth_result)";
      return std::string();
    },
    "EVENT", "event name");

// ---- shared plumbing --------------------------------------------------------------

struct Common {
  std::string socket = kDefaultControlSocket;
};

int fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "ward %s: %s\n", command.c_str(), message.c_str());
  return 1;
}

Result<json> ask(const Common& common, const json& request) {
  auto client = ControlClient::connect(common.socket);
  if (!client) return client.status();
  return client.value().request(request);
}

std::string human_bytes(uint64_t n) {
  char out[32];
  if (n >= (1ull << 30))
    std::snprintf(out, sizeof(out), "%.1f GiB", static_cast<double>(n) / (1ull << 30));
  else if (n >= (1ull << 20))
    std::snprintf(out, sizeof(out), "%.1f MiB", static_cast<double>(n) / (1ull << 20));
  else if (n >= 1024)
    std::snprintf(out, sizeof(out), "%.1f KiB", static_cast<double>(n) / 1024);
  else
    std::snprintf(out, sizeof(out), "%llu B", static_cast<unsigned long long>(n));
  return out;
}

std::string human_duration(uint64_t seconds) {
  char out[64];
  if (seconds >= 86400)
    std::snprintf(out, sizeof(out), "%llud%lluh", static_cast<unsigned long long>(seconds / 86400),
                  static_cast<unsigned long long>(seconds % 86400 / 3600));
  else if (seconds >= 3600)
    std::snprintf(out, sizeof(out), "%lluh%llum", static_cast<unsigned long long>(seconds / 3600),
                  static_cast<unsigned long long>(seconds % 3600 / 60));
  else
    std::snprintf(out, sizeof(out), "%llum%llus", static_cast<unsigned long long>(seconds / 60),
                  static_cast<unsigned long long>(seconds % 60));
  return out;
}

uint64_t num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<uint64_t>() : 0;
}

// "pid 12 (pidversion 3)", "path prefix /usr/bin/ (executable)"
std::string describe_mute(const json& m) {
  if (m.contains("pid"))
    return "pid " + std::to_string(num(m, "pid")) + " (pidversion " + std::to_string(num(m, "pidversion")) +
           ")";
  return "path " + m.value("type", "") + " " + m.value("path", "") + " (" + m.value("of", "") + ")";
}

// ---- ward status ----------------------------------------------------------------

void print_status(const json& s) {
  std::printf("wardd is running (pid %llu, up %s, config %s)\n",
              static_cast<unsigned long long>(num(s, "pid")),
              human_duration(num(s, "uptime_seconds")).c_str(), s.value("config", "?").c_str());
  std::string mode = s.value("mode", "?");
  if (s["policy"].is_object()) {
    const json& p = s["policy"];
    mode += " (policy " +
            (p["file"].is_string() ? p["file"].get<std::string>() : std::string("without a file")) + ": " +
            std::to_string(num(p, "binary_rules")) + " binary rules, " +
            std::to_string(num(p, "file_access_rules")) + " file access rules; mode from the " +
            p.value("mode_from", "?") + ")";
  } else {
    mode += " (no policy: nothing is blocked)";
  }
  std::printf("mode:     %s\n", mode.c_str());
  const json& sensors = s["sensors"];
  std::printf("sensors:  %s (backend %s)\n", sensors.value("active", "").c_str(),
              sensors.value("backend", "").c_str());
  if (sensors["missing"].empty()) {
    std::printf("not allowed by the kernel: nothing\n");
  } else {
    std::printf("not allowed by the kernel:\n");
    for (const auto& m : sensors["missing"]) std::printf("  - %s\n", m.get<std::string>().c_str());
  }
  if (s.contains("self_protection") && s["self_protection"].is_array()) {
    if (s["self_protection"].empty()) {
      std::printf("self-protection: off\n");
    } else {
      std::printf("self-protection:\n");
      for (const auto& line : s["self_protection"]) {
        std::string l = line.get<std::string>();
        if (l.rfind("self-protection: ", 0) == 0) l = l.substr(17);
        std::printf("  - %s\n", l.c_str());
      }
    }
  }
  const json& auth = s["auth"];
  std::string scopes;
  for (const auto& scope : auth["scopes"])
    scopes += (scopes.empty() ? "" : ", ") + scope.value("path", "") + " (" + scope.value("type", "") + ")";
  std::printf("auth:     scopes %s; deadlines exec %llu ms, open %llu ms; fail %s\n",
              scopes.empty() ? "none" : scopes.c_str(),
              static_cast<unsigned long long>(num(auth, "exec_deadline_ms")),
              static_cast<unsigned long long>(num(auth, "open_deadline_ms")),
              auth.value("fail_mode", "?").c_str());
  std::printf("          requests %llu, allowed %llu, denied %llu, cache hits %llu, watchdog answers %llu\n",
              static_cast<unsigned long long>(num(auth, "requests")),
              static_cast<unsigned long long>(num(auth, "allowed")),
              static_cast<unsigned long long>(num(auth, "denied")),
              static_cast<unsigned long long>(num(auth, "cache_hits")),
              static_cast<unsigned long long>(num(auth, "watchdog_answers")));
  std::string by_type;
  for (const auto& [name, n] : s["events"].items())
    by_type += (by_type.empty() ? "" : ", ") + name + " " + std::to_string(n.get<uint64_t>());
  std::printf("events:   %llu delivered%s%s%s\n", static_cast<unsigned long long>(num(s, "events_total")),
              by_type.empty() ? "" : " (", by_type.c_str(), by_type.empty() ? "" : ")");
  std::string drops;
  for (const auto& [source, n] : s["drops"].items())
    drops += (drops.empty() ? "" : ", ") + source + " " + std::to_string(n.get<uint64_t>());
  std::printf("drops:    %s\n", drops.empty() ? "none" : drops.c_str());
  std::printf("outputs:%s\n", s["outputs"].empty() ? " none" : "");
  for (const auto& o : s["outputs"]) {
    std::string extra;
    if (o.contains("store_bytes")) extra += ", " + human_bytes(o["store_bytes"].get<uint64_t>());
    if (o.contains("spool_bytes")) extra += ", spool " + human_bytes(o["spool_bytes"].get<uint64_t>());
    if (o.contains("connected")) extra += o["connected"].get<bool>() ? ", connected" : ", not connected";
    if (o.contains("last_error")) extra += ", last error: " + o["last_error"].get<std::string>();
    std::printf("  %-7s %-9s %s: written %llu, errors %llu, dropped %llu%s\n", o.value("type", "").c_str(),
                o.value("format", "").c_str(), o.value("target", "").c_str(),
                static_cast<unsigned long long>(num(o, "written")),
                static_cast<unsigned long long>(num(o, "errors")),
                static_cast<unsigned long long>(num(o, "dropped")), extra.c_str());
  }
  std::string mutes;
  for (const auto& m : s["mutes"]) mutes += (mutes.empty() ? "" : ", ") + describe_mute(m);
  std::printf("mutes:    %s\n", mutes.empty() ? "none" : mutes.c_str());
  std::printf("tails:    %llu\n", static_cast<unsigned long long>(num(s, "tail_sessions")));
  std::printf("metrics:  %s\n", s["metrics"].is_string() ? s["metrics"].get<std::string>().c_str() : "off");
}

// ---- ward rules -------------------------------------------------------------------

struct BinaryRuleArgs {
  std::string id, sha256, path, path_prefix, path_glob, package, policy;
  bool platform_binary = false;
};

struct FileRuleArgs {
  std::string id, shape, access;
  std::vector<std::string> paths, processes;
  bool audit_only = false;
};

json path_pattern_json(const std::string& arg) {
  for (const char* kind : {"literal", "prefix", "glob"}) {
    const std::string tag = std::string(kind) + ":";
    if (arg.rfind(tag, 0) == 0) return {{kind, arg.substr(tag.size())}};
  }
  return arg;  // a plain string: the policy's own rule (glob if it has * ? [)
}

json process_json(const std::string& arg) {
  const std::size_t eq = arg.find('=');
  const std::string kind = arg.substr(0, eq), value = arg.substr(eq + 1);
  if (kind == "uid") return {{kind, std::stoull(value)}};
  return {{kind, value}};
}

void print_rules(const json& r) {
  std::printf("policy %s, mode %s\n",
              r["file"].is_string() ? r["file"].get<std::string>().c_str() : "(no file)",
              r.value("mode", "?").c_str());
  std::printf("binary rules (%zu):\n", r["binary_rules"].size());
  for (const auto& rule : r["binary_rules"]) {
    std::string matcher;
    for (const char* key : {"sha256", "path", "path_prefix", "path_glob", "package", "platform_binary"})
      if (rule.contains(key))
        matcher = std::string(key) + " " +
                  (rule[key].is_string() ? rule[key].get<std::string>() : rule[key].dump());
    std::printf("  %-24s %-12s %s (line %d)\n", rule.value("id", "").c_str(),
                rule.value("policy", "").c_str(), matcher.c_str(), rule.value("line", 0));
  }
  std::printf("file access rules (%zu):\n", r["file_access_rules"].size());
  for (const auto& rule : r["file_access_rules"]) {
    std::printf("  %-24s %s %s%s paths %s processes %s (line %d)\n", rule.value("id", "").c_str(),
                rule.value("shape", "").c_str(), rule.value("access", "").c_str(),
                rule.value("audit_only", false) ? " audit-only" : "", rule["paths"].dump().c_str(),
                rule["processes"].dump().c_str(), rule.value("line", 0));
  }
  if (r.contains("network_rules") && r["network_rules"].is_array()) {
    std::printf("network rules (%zu, in the kernel for cgroup %s):\n", r["network_rules"].size(),
                r.value("network_cgroup", "?").c_str());
    for (const auto& rule : r["network_rules"]) {
      std::string what;
      for (const char* key : {"cidr", "port", "executable", "sha256"})
        if (rule.contains(key)) what += std::string(what.empty() ? "" : " ") + key + " " + rule[key].get<std::string>();
      std::printf("  %-24s deny %s %s %s\n", rule.value("id", "").c_str(), rule.value("direction", "").c_str(),
                  rule.value("protocol", "").c_str(), what.c_str());
    }
  }
}

// ---- ward query --------------------------------------------------------------------

std::string cell_text(const store::Value& v, bool for_table) {
  if (std::holds_alternative<std::monostate>(v)) return for_table ? "NULL" : "";
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    char out[64];
    std::snprintf(out, sizeof(out), "%.17g", *d);
    return out;
  }
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  const auto& bytes = std::get<store::Blob>(v).bytes;
  std::string hex = for_table ? "x'" : "";
  static const char* kDigits = "0123456789abcdef";
  for (uint8_t b : bytes) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  if (for_table) hex += "'";
  return hex;
}

json cell_json(const store::Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return nullptr;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return cell_text(v, false);
}

// Cells are cut to keep a row on a screen; --json has them whole.
std::string table_cell(const store::Value& v, std::size_t max_width) {
  std::string text;
  for (char c : cell_text(v, true)) {
    if (c == '\n')
      text += "\\n";
    else if (c == '\t')
      text += "\\t";
    else
      text.push_back(c);
  }
  if (text.size() > max_width) text = text.substr(0, max_width - 3) + "...";
  return text;
}

void print_table(const store::QueryResult& result, std::size_t max_width) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> widths;
  for (const auto& c : result.columns) widths.push_back(std::min(c.size(), max_width));
  for (const auto& row : result.rows) {
    auto& out = cells.emplace_back();
    for (std::size_t i = 0; i < row.size(); ++i) {
      out.push_back(table_cell(row[i], max_width));
      if (i < widths.size()) widths[i] = std::max(widths[i], out.back().size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      if (i + 1 < row.size()) cell.resize(std::max(cell.size(), widths[i]), ' ');
      line += (i ? "  " : "") + cell;
    }
    std::printf("%s\n", line.c_str());
  };
  print_row(result.columns);
  std::vector<std::string> rule;
  for (std::size_t w : widths) rule.emplace_back(w, '-');
  print_row(rule);
  for (const auto& row : cells) print_row(row);
  std::printf("(%zu row%s%s)\n", result.rows.size(), result.rows.size() == 1 ? "" : "s",
              result.truncated ? ", more matched: raise --max-rows" : "");
}

bool write_all(const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

void add_agent_commands(CLI::App& app, int& exit_code) {
  auto common = std::make_shared<Common>();
  app.add_option("--socket", common->socket, "wardd's control socket")
      ->envname("WARD_CONTROL_SOCKET")
      ->check(kAbsolutePath)
      ->capture_default_str();

  // ward status
  {
    auto* cmd = app.add_subcommand("status",
                                   "What wardd runs: mode, sensors, what the kernel did not allow, counters");
    auto as_json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *as_json, "The daemon's answer as JSON");
    cmd->callback([common, as_json, &exit_code] {
      auto s = ask(*common, {{"cmd", "status"}});
      if (!s) {
        exit_code = fail("status", s.status().message());
        return;
      }
      if (*as_json)
        std::printf("%s\n", s.value().dump(2).c_str());
      else
        print_status(s.value());
      exit_code = 0;
    });
  }

  // ward rules list|add|remove|reload
  {
    auto* rules =
        app.add_subcommand("rules", "The policy in force: list, add or remove a rule, reload the file");
    rules->require_subcommand(1);
    auto* list = rules->add_subcommand("list", "List the rules in force");
    auto list_json = std::make_shared<bool>(false);
    list->add_flag("--json", *list_json, "As JSON");
    list->callback([common, list_json, &exit_code] {
      auto r = ask(*common, {{"cmd", "rules.list"}});
      if (!r) {
        exit_code = fail("rules list", r.status().message());
        return;
      }
      if (*list_json)
        std::printf("%s\n", r.value().dump(2).c_str());
      else
        print_rules(r.value());
      exit_code = 0;
    });

    auto* add = rules->add_subcommand("add", "Add a rule: writes a validated new policy file and reloads it");
    add->require_subcommand(1);
    auto binary = std::make_shared<BinaryRuleArgs>();
    auto* add_binary = add->add_subcommand("binary", "A binary authorization rule (which programs may run)");
    add_binary->add_option("--id", binary->id, "Rule id (unique)")->required()->check(kRuleId);
    add_binary->add_option("--policy", binary->policy, "allow, block or silent_block")
        ->required()
        ->check(CLI::IsMember({"allow", "block", "silent_block"}));
    auto* m_sha =
        add_binary->add_option("--sha256", binary->sha256, "Match the executable's sha256")->check(kSha256);
    auto* m_path =
        add_binary->add_option("--path", binary->path, "Match this executable path")->check(kAbsolutePath);
    auto* m_prefix =
        add_binary->add_option("--path-prefix", binary->path_prefix, "Match executables under this prefix")
            ->check(kAbsolutePath);
    auto* m_glob = add_binary->add_option("--path-glob", binary->path_glob, "Match executable paths by glob");
    auto* m_pkg =
        add_binary->add_option("--package", binary->package, "Match executables of this Debian package")
            ->check(kPackage);
    auto* m_platform =
        add_binary->add_flag("--platform-binary", binary->platform_binary,
                             "Match every binary a package installed and that still matches it");
    const std::vector<CLI::Option*> matchers = {m_sha, m_path, m_prefix, m_glob, m_pkg, m_platform};
    for (auto* a : matchers)
      for (auto* b : matchers)
        if (a != b) a->excludes(b);
    add_binary->callback([common, binary, matchers, &exit_code] {
      json rule = {{"id", binary->id}, {"policy", binary->policy}};
      if (!binary->sha256.empty()) rule["sha256"] = binary->sha256;
      if (!binary->path.empty()) rule["path"] = binary->path;
      if (!binary->path_prefix.empty()) rule["path_prefix"] = binary->path_prefix;
      if (!binary->path_glob.empty()) rule["path_glob"] = binary->path_glob;
      if (!binary->package.empty()) rule["package"] = binary->package;
      if (binary->platform_binary) rule["platform_binary"] = true;
      if (rule.size() == 2) {
        exit_code =
            fail("rules add binary",
                 "say what the rule matches: one of --sha256, --path, --path-prefix, --path-glob, --package, "
                 "--platform-binary");
        return;
      }
      auto r = ask(*common, {{"cmd", "rules.add"}, {"section", "binary_rules"}, {"rule", rule}});
      if (!r) {
        exit_code = fail("rules add binary", r.status().message());
        return;
      }
      std::printf("added rule %s to %s (%llu binary rules, %llu file access rules in force)\n",
                  binary->id.c_str(), r.value().value("file", "").c_str(),
                  static_cast<unsigned long long>(num(r.value(), "binary_rules")),
                  static_cast<unsigned long long>(num(r.value(), "file_access_rules")));
      exit_code = 0;
    });

    auto file = std::make_shared<FileRuleArgs>();
    auto* add_file =
        add->add_subcommand("file", "A file access rule (which processes may read or write which files)");
    add_file->add_option("--id", file->id, "Rule id (unique)")->required()->check(kRuleId);
    add_file->add_option("--shape", file->shape, "How paths and processes combine")
        ->required()
        ->check(CLI::IsMember({"paths_with_allowed_processes", "paths_with_denied_processes",
                               "processes_with_allowed_paths", "processes_with_denied_paths"}));
    add_file
        ->add_option("--path", file->paths,
                     "A file pattern: /x, literal:/x, prefix:/x/, glob:/x/* (repeatable)")
        ->required()
        ->check(kFilePattern);
    add_file
        ->add_option("--process", file->processes,
                     "A process: path=, path_prefix=, path_glob=, sha256=, package= or uid= (repeatable)")
        ->required()
        ->check(kProcessMatcher);
    add_file->add_option("--access", file->access, "read, write or read_write")
        ->required()
        ->check(CLI::IsMember({"read", "write", "read_write"}));
    add_file->add_flag("--audit-only", file->audit_only, "Report what it would deny, deny nothing");
    add_file->callback([common, file, &exit_code] {
      json paths = json::array(), processes = json::array();
      for (const auto& p : file->paths) paths.push_back(path_pattern_json(p));
      for (const auto& p : file->processes) processes.push_back(process_json(p));
      json rule = {{"id", file->id},         {"shape", file->shape},   {"paths", paths},
                   {"processes", processes}, {"access", file->access}, {"audit_only", file->audit_only}};
      auto r = ask(*common, {{"cmd", "rules.add"}, {"section", "file_access_rules"}, {"rule", rule}});
      if (!r) {
        exit_code = fail("rules add file", r.status().message());
        return;
      }
      std::printf("added rule %s to %s (%llu binary rules, %llu file access rules in force)\n",
                  file->id.c_str(), r.value().value("file", "").c_str(),
                  static_cast<unsigned long long>(num(r.value(), "binary_rules")),
                  static_cast<unsigned long long>(num(r.value(), "file_access_rules")));
      exit_code = 0;
    });

    auto* remove =
        rules->add_subcommand("remove", "Remove a rule by id: writes a new policy file and reloads it");
    auto remove_id = std::make_shared<std::string>();
    remove->add_option("id", *remove_id, "The rule's id")->required()->check(kRuleId);
    remove->callback([common, remove_id, &exit_code] {
      auto r = ask(*common, {{"cmd", "rules.remove"}, {"id", *remove_id}});
      if (!r) {
        exit_code = fail("rules remove", r.status().message());
        return;
      }
      std::printf("removed rule %s from %s\n", remove_id->c_str(), r.value().value("file", "").c_str());
      exit_code = 0;
    });

    auto* reload = rules->add_subcommand("reload", "Re-read the policy file (as SIGHUP does)");
    reload->callback([common, &exit_code] {
      auto r = ask(*common, {{"cmd", "reload"}});
      exit_code = r ? 0 : fail("rules reload", r.status().message());
      if (r) std::printf("policy reloaded\n");
    });
  }

  // ward mute / unmute
  for (const bool muting : {true, false}) {
    const std::string name = muting ? "mute" : "unmute";
    auto* cmd = app.add_subcommand(
        name,
        muting ? "Stop a process's or a path's events reaching wardd's outputs and tails (never the policy)"
               : "Undo a mute");
    struct MuteArgs {
      pid_t pid = 0;
      std::string path;
      bool literal = false, target = false;
    };
    auto args = std::make_shared<MuteArgs>();
    auto* pid = cmd->add_option("--pid", args->pid, "The process running now as this pid (its current image)")
                    ->check(CLI::Range(1, 4194304));
    auto* path = cmd->add_option("--path", args->path,
                                 "An executable path prefix (or, with --target, of the file acted on)")
                     ->check(kAbsolutePath);
    pid->excludes(path);
    cmd->add_flag("--literal", args->literal, "--path is the whole path, not a prefix")->needs(path);
    cmd->add_flag("--target", args->target, "--path names the event's target file, not the executable")
        ->needs(path);
    cmd->callback([common, args, name, &exit_code] {
      json request = {{"cmd", name}};
      if (args->pid > 0) {
        request["pid"] = args->pid;
      } else if (!args->path.empty()) {
        request["path"] = args->path;
        request["type"] = args->literal ? "literal" : "prefix";
        request["target"] = args->target;
      } else {
        exit_code = fail(name, "say what to " + name + ": --pid PID or --path PATH");
        return;
      }
      auto r = ask(*common, request);
      if (!r) {
        exit_code = fail(name, r.status().message());
        return;
      }
      std::printf("%s %s\n", name == "mute" ? "muted" : "unmuted", describe_mute(r.value()["what"]).c_str());
      exit_code = 0;
    });
  }

  // ward query
  {
    auto* cmd = app.add_subcommand("query", "Read-only SQL over wardd's event store (table `events`)");
    struct QueryArgs {
      std::string sql, db;
      bool json = false;
      std::size_t max_rows = 10000, width = 60;
    };
    auto args = std::make_shared<QueryArgs>();
    cmd->add_option("sql", args->sql,
                    "One SELECT statement, e.g. \"SELECT event_name, count(*) FROM events GROUP BY 1\"")
        ->required();
    cmd->add_option("--db", args->db, "The store file (default: the one wardd writes, asked over the socket)")
        ->check(CLI::ExistingFile);
    cmd->add_flag("--json", args->json, "One JSON object per row");
    cmd->add_option("--max-rows", args->max_rows, "Stop after this many rows")
        ->check(CLI::Range(1, 100000000));
    cmd->add_option("--width", args->width, "Cut table cells to this many characters")
        ->check(CLI::Range(8, 100000));
    cmd->callback([common, args, &exit_code] {
      std::string db = args->db;
      if (db.empty()) {
        auto s = ask(*common, {{"cmd", "status"}});
        if (!s) {
          exit_code = fail("query", s.status().message() + " (or name the store with --db)");
          return;
        }
        if (!s.value()["store"].is_string()) {
          exit_code = fail("query", "wardd writes no event store (no `store` output in its config)");
          return;
        }
        db = s.value()["store"];
      }
      auto result = store::query_readonly(db, args->sql, args->max_rows);
      if (!result) {
        exit_code = fail("query", result.status().message());
        return;
      }
      if (args->json) {
        std::string out;
        for (const auto& row : result.value().rows) {
          json obj = json::object();
          for (std::size_t i = 0; i < row.size() && i < result.value().columns.size(); ++i)
            obj[result.value().columns[i]] = cell_json(row[i]);
          out += obj.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        }
        write_all(out);
      } else {
        print_table(result.value(), args->width);
      }
      exit_code = 0;
    });
  }

  // ward tail
  {
    auto* cmd = app.add_subcommand("tail", "Live events from wardd, one per line, until Ctrl-C");
    struct TailArgs {
      std::string format = "eslogger";
      std::vector<std::string> events;
    };
    auto args = std::make_shared<TailArgs>();
    cmd->add_option("--format", args->format, "eslogger (JSON), ecs, ocsf or summary")
        ->check(CLI::IsMember({"eslogger", "ecs", "ocsf", "summary"}))
        ->capture_default_str();
    cmd->add_option("events", args->events, "Event names or groups (default: what wardd's outputs get)")
        ->check(kEventName);
    cmd->callback([common, args, &exit_code] {
      signal(SIGPIPE, SIG_IGN);  // `ward tail | head` ends quietly
      auto client = ControlClient::connect(common->socket);
      if (!client) {
        exit_code = fail("tail", client.status().message());
        return;
      }
      json request = {{"cmd", "tail"}, {"format", args->format}};
      if (!args->events.empty()) request["events"] = args->events;
      auto header = client.value().request(request);
      if (!header) {
        exit_code = fail("tail", header.status().message());
        return;
      }
      std::fprintf(stderr, "ward tail: streaming %zu event types as %s\n", header.value()["events"].size(),
                   args->format.c_str());
      std::string line;
      for (;;) {
        auto got = client.value().read_line(line);
        if (!got) {
          exit_code = fail("tail", got.status().message());
          return;
        }
        if (!got.value()) break;
        line.push_back('\n');
        if (!write_all(line)) break;
      }
      exit_code = 0;
    });
  }
}

}  // namespace ward::cli
