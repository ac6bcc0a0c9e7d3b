// parse_policy / load_policy_file: the schema, every validation error with its
// exact line, and hostile input (garbage, deep nesting, alias bombs, big files).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "policy/policy.h"

namespace ward::policy {
namespace {

// CMake may pass WARD_POLICY_FIXTURES_DIR; else the fixtures sit next to this
// file's directory (tests/unit/../policy_fixtures), wherever the test runs.
std::string fixtures_dir() {
#ifdef WARD_POLICY_FIXTURES_DIR
  return WARD_POLICY_FIXTURES_DIR;
#else
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "policy_fixtures").string();
#endif
}

const std::string kHash = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

Policy must_parse(const std::string& yaml) {
  auto policy = parse_policy(yaml, "p.yaml");
  EXPECT_TRUE(policy) << policy.status().message();
  return policy ? policy.value() : Policy{};
}

std::string error_of(const std::string& yaml) {
  auto policy = parse_policy(yaml, "p.yaml");
  EXPECT_FALSE(policy) << "accepted:\n" << yaml;
  return policy ? "" : policy.status().message();
}

// A valid file access rule at lines 3-8, to break one field at a time.
std::string file_rule_with(const std::string& field, const std::string& value) {
  std::string yaml = "mode: lockdown\nfile_access_rules:\n";
  const std::pair<std::string, std::string> fields[] = {
      {"id", "r"},           {"shape", "paths_with_allowed_processes"},
      {"paths", "[/srv/a]"}, {"processes", "[{path: /usr/bin/cat}]"},
      {"access", "read"},
  };
  bool first = true;
  for (const auto& [name, default_value] : fields) {
    yaml += first ? "  - " : "    ";
    first = false;
    if (name == field && value.empty()) {
      yaml += "audit_only: false\n";  // keep the line count: drop the field
    } else {
      yaml += name + ": " + (name == field ? value : default_value) + "\n";
    }
  }
  return yaml;
}

// ---------------------------------------------------------------------------
// Valid files

TEST(PolicyYaml, ExampleFixtureLoads) {
  const std::string path = fixtures_dir() + "/example.yaml";
  auto loaded = load_policy_file(path);
  ASSERT_TRUE(loaded) << loaded.status().message();
  const Policy& policy = loaded.value();
  EXPECT_EQ(policy.source, path);
  EXPECT_EQ(policy.mode, Mode::Lockdown);
  ASSERT_EQ(policy.binary_rules.size(), 6u);
  ASSERT_EQ(policy.file_rules.size(), 4u);

  const BinaryRule& netcat = policy.binary_rules[0];
  EXPECT_EQ(netcat.id, "block-netcat");
  EXPECT_EQ(netcat.kind, BinaryRule::Kind::Sha256);
  EXPECT_EQ(netcat.value, kHash);  // lowercased
  EXPECT_EQ(netcat.policy, BinaryPolicy::Block);
  EXPECT_EQ(netcat.line, 7);
  EXPECT_EQ(policy.binary_rules[1].policy, BinaryPolicy::SilentBlock);
  EXPECT_EQ(policy.binary_rules[1].path.kind(), PathMatcher::Kind::Glob);
  EXPECT_EQ(policy.binary_rules[2].path.kind(), PathMatcher::Kind::Prefix);
  EXPECT_EQ(policy.binary_rules[3].path.kind(), PathMatcher::Kind::Literal);
  EXPECT_EQ(policy.binary_rules[4].kind, BinaryRule::Kind::Package);
  EXPECT_EQ(policy.binary_rules[5].kind, BinaryRule::Kind::PlatformBinary);

  const FileAccessRule& secrets = policy.file_rules[0];
  EXPECT_EQ(secrets.id, "secrets-only-cat");
  EXPECT_EQ(secrets.shape, FileAccessShape::PathsWithAllowedProcesses);
  ASSERT_EQ(secrets.paths.size(), 3u);
  EXPECT_EQ(secrets.paths[0].kind(), PathMatcher::Kind::Glob);
  EXPECT_EQ(secrets.paths[1].kind(), PathMatcher::Kind::Prefix);
  EXPECT_EQ(secrets.paths[2].kind(), PathMatcher::Kind::Literal);
  ASSERT_EQ(secrets.processes.size(), 3u);
  EXPECT_EQ(secrets.processes[0].kind, ProcessMatcher::Kind::Path);
  EXPECT_EQ(secrets.processes[1].kind, ProcessMatcher::Kind::Package);
  EXPECT_EQ(secrets.processes[2].kind, ProcessMatcher::Kind::Uid);
  EXPECT_EQ(secrets.processes[2].uid, 0u);
  EXPECT_EQ(secrets.access, Access::Read);
  EXPECT_FALSE(secrets.audit_only);
  EXPECT_EQ(secrets.line, 27);
  EXPECT_EQ(policy.file_rules[1].shape, FileAccessShape::ProcessesWithDeniedPaths);
  EXPECT_EQ(policy.file_rules[1].access, Access::Write);
  EXPECT_EQ(policy.file_rules[2].shape, FileAccessShape::ProcessesWithAllowedPaths);
  EXPECT_EQ(policy.file_rules[2].access, Access::ReadWrite);
  EXPECT_EQ(policy.file_rules[2].processes[0].kind, ProcessMatcher::Kind::Sha256);
  EXPECT_EQ(policy.file_rules[3].shape, FileAccessShape::PathsWithDeniedProcesses);
  EXPECT_TRUE(policy.file_rules[3].audit_only);
}

TEST(PolicyYaml, MinimalPolicyIsJustAMode) {
  const Policy policy = must_parse("mode: monitor\n");
  EXPECT_EQ(policy.mode, Mode::Monitor);
  EXPECT_TRUE(policy.binary_rules.empty());
  EXPECT_TRUE(policy.file_rules.empty());
  EXPECT_EQ(policy.source, "p.yaml");
}

TEST(PolicyYaml, RuleListsWithoutItemsAreEmpty) {
  const Policy policy = must_parse("mode: lockdown\nbinary_rules:\n#  - id: x\nfile_access_rules: []\n");
  EXPECT_EQ(policy.mode, Mode::Lockdown);
  EXPECT_TRUE(policy.binary_rules.empty());
  EXPECT_TRUE(policy.file_rules.empty());
}

TEST(PolicyYaml, PlainPathStringsAreGlobsOnlyWithGlobCharacters) {
  const Policy policy = must_parse(
      "mode: lockdown\nfile_access_rules:\n"
      "  - id: r\n"
      "    shape: paths_with_denied_processes\n"
      "    paths: [/etc/shadow, \"/a/*\", \"/b/?\", \"/c/[xy]\", {literal: \"/d/*\"}, {prefix: /e/}, {glob: "
      "/f/g}]\n"
      "    processes: [{uid: 4294967294}, {sha256: " +
      std::string(64, 'A') +
      "}, {path_prefix: /tmp/}, {path_glob: \"/tmp/**\"}]\n"
      "    access: read_write\n"
      "    audit_only: true\n");
  const auto& paths = policy.file_rules.at(0).paths;
  ASSERT_EQ(paths.size(), 7u);
  const PathMatcher::Kind expected[] = {
      PathMatcher::Kind::Literal, PathMatcher::Kind::Glob,   PathMatcher::Kind::Glob, PathMatcher::Kind::Glob,
      PathMatcher::Kind::Literal, PathMatcher::Kind::Prefix, PathMatcher::Kind::Glob};
  for (size_t i = 0; i < paths.size(); ++i) EXPECT_EQ(paths[i].kind(), expected[i]) << i;
  EXPECT_TRUE(paths[4].matches("/d/*"));
  const auto& processes = policy.file_rules[0].processes;
  EXPECT_EQ(processes[0].uid, 4294967294u);
  EXPECT_EQ(processes[1].value, std::string(64, 'a'));
  EXPECT_EQ(processes[2].path.kind(), PathMatcher::Kind::Prefix);
  EXPECT_EQ(processes[3].path.kind(), PathMatcher::Kind::Glob);
  EXPECT_TRUE(policy.file_rules[0].audit_only);
}

TEST(PolicyYaml, RuleLinesAreRecorded) {
  const Policy policy = must_parse(R"(mode: monitor
binary_rules:
  - id: a
    package: coreutils
    policy: allow

  - {id: b, platform_binary: true, policy: block}
file_access_rules:
  - id: c
    shape: paths_with_denied_processes
    paths: [/x]
    processes: [{uid: 0}]
    access: write
)");
  EXPECT_EQ(policy.binary_rules.at(0).line, 3);
  EXPECT_EQ(policy.binary_rules.at(1).line, 7);
  EXPECT_EQ(policy.file_rules.at(0).line, 9);
}

// ---------------------------------------------------------------------------
// Errors: file, line, reason

TEST(PolicyYamlErrors, EmptyFileIsRejected) {
  const std::string expected = "p.yaml:1: empty policy: at least 'mode' is required (e.g. \"mode: monitor\")";
  EXPECT_EQ(error_of(""), expected);
  EXPECT_EQ(error_of("# only a comment\n\n"), expected);
  EXPECT_EQ(error_of("---\n"), expected);
  EXPECT_EQ(error_of("~\n"), expected);
}

TEST(PolicyYamlErrors, SyntaxError) {
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - id: a\n    policy: [block\n"),
            "p.yaml:5: YAML syntax error: end of sequence flow not found");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules: ]\n"), "p.yaml:2: YAML syntax error: illegal flow end");
  EXPECT_EQ(error_of("mode: monitor\n  id: x\n"), "p.yaml:2: YAML syntax error: illegal map value");
}

TEST(PolicyYamlErrors, MoreThanOneDocument) {
  EXPECT_EQ(error_of("mode: monitor\n---\nmode: lockdown\n"),
            "p.yaml:2: more than one YAML document ('---'); a policy file holds exactly one");
}

TEST(PolicyYamlErrors, RootMustBeAMapping) {
  EXPECT_EQ(error_of("- mode: monitor\n"), "p.yaml:1: the policy must be a mapping, got a sequence");
  EXPECT_EQ(error_of("monitor\n"), "p.yaml:1: the policy must be a mapping, got a string");
}

TEST(PolicyYamlErrors, UnknownFields) {
  EXPECT_EQ(error_of("mode: monitor\nbinary_rule: []\n"),
            "p.yaml:2: unknown field 'binary_rule' in the policy (expected one of: mode, binary_rules, "
            "file_access_rules, network_rules, network_cgroup)");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - id: a\n    package: vim\n    polcy: allow\n"),
            "p.yaml:5: unknown field 'polcy' in a binary rule (expected one of: id, policy, sha256, path, "
            "path_prefix, path_glob, package, platform_binary)");
  EXPECT_EQ(error_of(file_rule_with("access", "read\n    comment: hi")),
            "p.yaml:8: unknown field 'comment' in a file access rule (expected one of: id, shape, paths, "
            "processes, "
            "access, audit_only)");
  EXPECT_EQ(
      error_of(file_rule_with("processes", "[{path: /usr/bin/cat}, {pid: 1}]")),
      "p.yaml:6: unknown field 'pid' in a process (expected one of: path, path_prefix, path_glob, sha256, "
      "package, uid)");
  EXPECT_EQ(error_of(file_rule_with("paths", "\n      - {regex: /x}")),
            "p.yaml:6: unknown field 'regex' in a path (expected one of: literal, prefix, glob)");
}

TEST(PolicyYaml, NetworkRules) {
  Policy p = must_parse(
      "mode: monitor\n"
      "network_cgroup: /sys/fs/cgroup/app\n"
      "network_rules:\n"
      "  - {id: no-smtp, port: 25}\n"
      "  - {id: no-lan, direction: both, protocol: tcp, cidr: 10.0.0.0/8, port: 8000-8100}\n"
      "  - {id: curl-v6, protocol: udp, cidr: '2001:db8::/32', executable: /usr/bin/curl}\n"
      "  - {id: by-hash, sha256: " + kHash + "}\n");
  EXPECT_EQ(p.network_cgroup, "/sys/fs/cgroup/app");
  ASSERT_EQ(p.network_rules.size(), 4u);
  EXPECT_EQ(p.network_rules[0].name, "no-smtp");
  EXPECT_EQ(p.network_rules[0].direction, NetworkDirection::Connect);
  EXPECT_EQ(p.network_rules[0].protocol, NetworkProtocol::Any);
  EXPECT_EQ(p.network_rules[0].port_lo, 25);
  EXPECT_EQ(p.network_rules[0].port_hi, 0);
  EXPECT_EQ(p.network_rules[1].direction, NetworkDirection::Both);
  EXPECT_EQ(p.network_rules[1].protocol, NetworkProtocol::Tcp);
  EXPECT_EQ(p.network_rules[1].cidr, "10.0.0.0/8");
  EXPECT_EQ(p.network_rules[1].port_lo, 8000);
  EXPECT_EQ(p.network_rules[1].port_hi, 8100);
  EXPECT_EQ(p.network_rules[2].protocol, NetworkProtocol::Udp);
  EXPECT_EQ(p.network_rules[2].executable, "/usr/bin/curl");
  EXPECT_EQ(p.network_rules[3].sha256, kHash);
  EXPECT_EQ(must_parse("mode: monitor\n").network_cgroup, "/sys/fs/cgroup");
}

TEST(PolicyYamlErrors, BadNetworkRules) {
  auto rule = [](const std::string& body) { return error_of("mode: monitor\nnetwork_rules:\n  - " + body + "\n"); };
  EXPECT_EQ(rule("{id: a, port: 0}"), "p.yaml:3: bad port '0' (a port 1-65535 or a range LOW-HIGH)");
  EXPECT_EQ(rule("{id: a, port: 70000}"), "p.yaml:3: bad port '70000' (a port 1-65535 or a range LOW-HIGH)");
  EXPECT_EQ(rule("{id: a, port: 90-80}"), "p.yaml:3: bad port '90-80' (a port 1-65535 or a range LOW-HIGH)");
  EXPECT_EQ(rule("{id: a, cidr: 10.0.0.0/33}"),
            "p.yaml:3: bad cidr '10.0.0.0/33' (an IPv4 or IPv6 address, optionally /prefix: 10.0.0.0/8, ::1)");
  EXPECT_EQ(rule("{id: a, cidr: example.com}"),
            "p.yaml:3: bad cidr 'example.com' (an IPv4 or IPv6 address, optionally /prefix: 10.0.0.0/8, ::1)");
  EXPECT_EQ(rule("{id: a, port: 1, direction: out}"),
            "p.yaml:3: bad value 'out' for 'direction' (expected one of: connect, bind, both)");
  EXPECT_EQ(rule("{id: a, port: 1, protocol: icmp}"),
            "p.yaml:3: bad value 'icmp' for 'protocol' (expected one of: tcp, udp, any)");
  EXPECT_EQ(rule("{id: a, executable: curl}"), "p.yaml:3: 'curl' is not an absolute path");
  EXPECT_EQ(rule("{id: a, protocol: tcp}"),
            "p.yaml:3: a network rule must say what it denies: one or more of cidr, port, executable, sha256");
  EXPECT_EQ(rule("{port: 25}"), "p.yaml:3: missing required field 'id' in a network rule");
  EXPECT_EQ(rule("{id: a, executable: /usr/bin/curl, sha256: " + kHash + "}"),
            "p.yaml:3: a network rule names the process by executable or sha256, not both");
  EXPECT_EQ(rule("{id: a, executable: /" + std::string(300, 'x') + "}"),
            "p.yaml:3: 'executable' must be under 256 bytes (the kernel's key)");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - {id: x, package: vim, policy: block}\n"
                     "network_rules:\n  - {id: x, port: 25}\n"),
            "p.yaml:5: duplicate rule id 'x' (first defined on line 3)");
  EXPECT_EQ(error_of("mode: monitor\nnetwork_cgroup: app\n"),
            "p.yaml:2: 'network_cgroup' must be an absolute path (a cgroup v2 directory)");
  std::string many = "mode: monitor\nnetwork_rules:\n";
  for (int i = 0; i < 65; ++i) many += "  - {id: r" + std::to_string(i) + ", port: 1}\n";
  EXPECT_EQ(error_of(many), "p.yaml:3: too many network rules (65; the kernel's table holds 64)");
}

TEST(PolicyYamlErrors, DuplicateFields) {
  EXPECT_EQ(error_of("mode: monitor\nmode: lockdown\n"),
            "p.yaml:2: duplicate field 'mode' (first on line 1)");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - id: a\n    package: vim\n    policy: allow\n"
                     "    policy: block\n"),
            "p.yaml:6: duplicate field 'policy' (first on line 5)");
}

TEST(PolicyYamlErrors, MissingRequiredFields) {
  EXPECT_EQ(error_of("binary_rules: []\n"), "p.yaml:1: missing required field 'mode' in the policy");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - package: vim\n    policy: allow\n"),
            "p.yaml:3: missing required field 'id' in a binary rule");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - id: a\n    package: vim\n"),
            "p.yaml:3: missing required field 'policy' in a binary rule");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - id: a\n    policy: allow\n"),
            "p.yaml:3: missing required field in a binary rule: one of sha256, path, path_prefix, path_glob, "
            "package, platform_binary");
  for (const std::string field : {"id", "shape", "paths", "processes", "access"}) {
    EXPECT_EQ(error_of(file_rule_with(field, "")),
              "p.yaml:3: missing required field '" + field + "' in a file access rule");
  }
  EXPECT_EQ(error_of(file_rule_with("processes", "[{}]")),
            "p.yaml:6: missing required field in a process: one of path, path_prefix, path_glob, sha256, "
            "package, uid");
  EXPECT_EQ(error_of(file_rule_with("paths", "[{}]")),
            "p.yaml:5: missing required field in a path: one of literal, prefix, glob");
}

TEST(PolicyYamlErrors, WrongTypes) {
  EXPECT_EQ(error_of("mode: [monitor]\n"), "p.yaml:1: wrong type: 'mode' must be a string, got a sequence");
  // An empty value is reported on its key's line, not where yaml-cpp marks it.
  EXPECT_EQ(error_of("mode:\n\n\nbinary_rules: []\n"),
            "p.yaml:1: wrong type: 'mode' must be a string, got null");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules: {id: a}\n"),
            "p.yaml:2: wrong type: 'binary_rules' must be a sequence, got a mapping");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - block-everything\n"),
            "p.yaml:3: a binary rule must be a mapping, got a string");
  EXPECT_EQ(error_of("mode: monitor\nfile_access_rules: [[]]\n"),
            "p.yaml:2: a file access rule must be a mapping, got a sequence");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - id: [a]\n    package: vim\n    policy: allow\n"),
            "p.yaml:3: wrong type: 'id' must be a string, got a sequence");
  EXPECT_EQ(error_of(file_rule_with("paths", "/srv/a")),
            "p.yaml:5: wrong type: 'paths' must be a sequence, got a string");
  EXPECT_EQ(
      error_of(file_rule_with("paths", "[[/srv/a]]")),
      "p.yaml:5: wrong type: a path must be a string or a mapping with one of literal, prefix, glob, got a "
      "sequence");
  EXPECT_EQ(error_of(file_rule_with("processes", "[/usr/bin/cat]")),
            "p.yaml:6: a process must be a mapping, got a string");
  EXPECT_EQ(error_of(file_rule_with("access", "read\n    audit_only: yes")),
            "p.yaml:8: wrong type: 'audit_only' must be true or false, got 'yes'");
  EXPECT_EQ(error_of(file_rule_with("access", "read\n    audit_only: [true]")),
            "p.yaml:8: wrong type: 'audit_only' must be true or false, got a sequence");
  EXPECT_EQ(error_of("{mode: monitor, [a]: b}\n"), "p.yaml:1: a field name must be a plain string");
}

TEST(PolicyYamlErrors, BadEnumValues) {
  EXPECT_EQ(error_of("mode: enforce\n"),
            "p.yaml:1: bad value 'enforce' for 'mode' (expected one of: monitor, lockdown)");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - id: a\n    package: vim\n    policy: deny\n"),
            "p.yaml:5: bad value 'deny' for 'policy' (expected one of: allow, block, silent_block)");
  EXPECT_EQ(error_of(file_rule_with("shape", "paths_with_processes")),
            "p.yaml:4: bad value 'paths_with_processes' for 'shape' (expected one of: "
            "paths_with_allowed_processes, "
            "paths_with_denied_processes, processes_with_allowed_paths, processes_with_denied_paths)");
  EXPECT_EQ(error_of(file_rule_with("access", "execute")),
            "p.yaml:7: bad value 'execute' for 'access' (expected one of: read, write, read_write)");
}

TEST(PolicyYamlErrors, BadSha256) {
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - id: a\n    sha256: abc123\n    policy: block\n"),
            "p.yaml:4: bad sha256 'abc123': expected 64 hexadecimal digits");
  const std::string not_hex = std::string(63, 'a') + "z";
  EXPECT_EQ(error_of(file_rule_with("processes", "[{uid: 0},\n      {sha256: " + not_hex + "}]")),
            "p.yaml:7: bad sha256 '" + not_hex + "': expected 64 hexadecimal digits");
  EXPECT_EQ(
      error_of("mode: monitor\nbinary_rules:\n  - id: a\n    sha256: " + kHash + "0\n    policy: block\n"),
      "p.yaml:4: bad sha256 '" + kHash + "0': expected 64 hexadecimal digits");
}

TEST(PolicyYamlErrors, BadGlobs) {
  EXPECT_EQ(
      error_of("mode: monitor\nbinary_rules:\n  - id: a\n    path_glob: /usr/bin/[ab\n    policy: block\n"),
      "p.yaml:4: bad glob '/usr/bin/[ab': unbalanced '[' at offset 9");
  EXPECT_EQ(error_of(file_rule_with("paths", "[/srv/ok, \"/srv/[\"]")),
            "p.yaml:5: bad glob '/srv/[': unbalanced '[' at offset 5");
  EXPECT_EQ(error_of(file_rule_with("paths", "\n      - /srv/ok\n      - {glob: \"/srv/[z-a]\"}")),
            "p.yaml:7: bad glob '/srv/[z-a]': invalid range 'z-a' in '[...]'");
  EXPECT_EQ(error_of(file_rule_with("processes", "[{path_glob: \"/usr/bin/[[:nope:]]\"}]")),
            "p.yaml:6: bad glob '/usr/bin/[[:nope:]]': unknown character class '[:nope:]'");
  EXPECT_EQ(error_of(file_rule_with("paths", "[\"*.key\"]")),
            "p.yaml:5: glob '*.key' must start with '/' or '**'");
}

TEST(PolicyYamlErrors, BadPaths) {
  EXPECT_EQ(
      error_of("mode: monitor\nbinary_rules:\n  - id: a\n    path: \"/usr/bin/*\"\n    policy: block\n"),
      "p.yaml:4: 'path' is a literal but '/usr/bin/*' contains * ? or [; use path_glob");
  EXPECT_EQ(error_of(file_rule_with("processes", "[{path: \"/usr/bin/c?t\"}]")),
            "p.yaml:6: 'path' is a literal but '/usr/bin/c?t' contains * ? or [; use path_glob");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - id: a\n    path_prefix: usr/\n    policy: block\n"),
            "p.yaml:4: prefix 'usr/' must be an absolute path");
  EXPECT_EQ(error_of(file_rule_with("paths", "[etc/shadow]")),
            "p.yaml:5: literal 'etc/shadow' must be an absolute path");
  EXPECT_EQ(error_of(file_rule_with("paths", "[\"\"]")), "p.yaml:5: empty path pattern");
}

TEST(PolicyYamlErrors, BadPackageUidPlatform) {
  EXPECT_EQ(
      error_of("mode: monitor\nbinary_rules:\n  - id: a\n    package: libc6:amd64\n    policy: block\n"),
      "p.yaml:4: bad package name 'libc6:amd64' (a Debian package: lowercase letters, digits, '+', '-', '.'; "
      "no ':arch')");
  EXPECT_EQ(
      error_of(file_rule_with("processes", "[{package: Vim}]")),
      "p.yaml:6: bad package name 'Vim' (a Debian package: lowercase letters, digits, '+', '-', '.'; no "
      "':arch')");
  for (const std::string uid : {"-1", "root", "4294967295", "99999999999", "1.5", "''"}) {
    const std::string shown = uid == "''" ? "" : uid;
    EXPECT_EQ(error_of(file_rule_with("processes", "[{uid: " + uid + "}]")),
              "p.yaml:6: bad uid '" + shown + "': expected a number from 0 to 4294967294");
  }
  EXPECT_EQ(
      error_of("mode: monitor\nbinary_rules:\n  - id: a\n    platform_binary: false\n    policy: block\n"),
      "p.yaml:4: 'platform_binary' must be true (it selects platform binaries)");
}

TEST(PolicyYamlErrors, ExactlyOneMatcher) {
  EXPECT_EQ(
      error_of("mode: monitor\nbinary_rules:\n  - id: a\n    package: vim\n    path: /usr/bin/vim\n"
               "    policy: block\n"),
      "p.yaml:5: a binary rule has both 'package' and 'path'; exactly one of sha256, path, path_prefix, "
      "path_glob, package, platform_binary is allowed");
  EXPECT_EQ(error_of(file_rule_with("processes", "[{uid: 0, package: vim}]")),
            "p.yaml:6: a process has both 'uid' and 'package'; exactly one of path, path_prefix, path_glob, "
            "sha256, "
            "package, uid is allowed");
  EXPECT_EQ(error_of(file_rule_with("paths", "[{prefix: /a/, glob: /b/*}]")),
            "p.yaml:5: a path has both 'prefix' and 'glob'; exactly one of literal, prefix, glob is allowed");
}

TEST(PolicyYamlErrors, EmptyMatcherLists) {
  EXPECT_EQ(error_of(file_rule_with("paths", "[]")), "p.yaml:5: 'paths' must not be empty");
  EXPECT_EQ(error_of(file_rule_with("processes", "[]")), "p.yaml:6: 'processes' must not be empty");
  EXPECT_EQ(error_of(file_rule_with("processes", "")),
            "p.yaml:3: missing required field 'processes' in a file access rule");
  EXPECT_EQ(error_of(file_rule_with("paths", "~")),
            "p.yaml:5: wrong type: 'paths' must be a sequence, got null");
}

TEST(PolicyYamlErrors, RuleIds) {
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - {id: a, package: vim, policy: allow}\n"
                     "  - {id: b, package: vi, policy: allow}\n"
                     "  - {id: a, package: nano, policy: allow}\n"),
            "p.yaml:5: duplicate rule id 'a' (first defined on line 3)");
  // Ids are unique across both lists: events name a rule by id alone.
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - {id: r, package: vim, policy: allow}\n" +
                     file_rule_with("id", "r").substr(std::string("mode: lockdown\n").size())),
            "p.yaml:5: duplicate rule id 'r' (first defined on line 3)");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - {id: 'has space', package: vim, policy: allow}\n"),
            "p.yaml:3: bad rule id 'has space' (1-128 characters of A-Z a-z 0-9 . _ : @ / -)");
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules:\n  - {id: '', package: vim, policy: allow}\n"),
            "p.yaml:3: bad rule id '' (1-128 characters of A-Z a-z 0-9 . _ : @ / -)");
  EXPECT_TRUE(parse_policy(
      "mode: monitor\nbinary_rules:\n  - {id: team/ops:no-nc@v1.2_x, package: vim, policy: allow}\n",
      "p.yaml"));
}

TEST(PolicyYamlErrors, TheFirstErrorIsReportedAndNothingIsReturned) {
  // Several errors: the first in document order wins; no partial policy.
  auto policy = parse_policy(
      "mode: lockdown\nbinary_rules:\n  - {id: ok, package: vim, policy: allow}\n  - {id: bad, package: "
      "vim}\n"
      "  - {id: worse}\n",
      "p.yaml");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.status().message(), "p.yaml:4: missing required field 'policy' in a binary rule");
}

// ---------------------------------------------------------------------------
// Loading files

class PolicyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/ward_policy_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(PolicyFileTest, LoadsAndNamesTheFileInErrors) {
  const std::string good = write("good.yaml", "mode: lockdown\n");
  auto policy = load_policy_file(good);
  ASSERT_TRUE(policy) << policy.status().message();
  EXPECT_EQ(policy.value().source, good);
  const std::string bad = write("bad.yaml", "mode: lockdown\nbinary_rules: 7\n");
  EXPECT_EQ(load_policy_file(bad).status().message(),
            bad + ":2: wrong type: 'binary_rules' must be a sequence, got a string");
}

TEST_F(PolicyFileTest, UnreadableFilesAreClearErrors) {
  EXPECT_EQ(load_policy_file(dir_ + "/missing.yaml").status().message(),
            dir_ + "/missing.yaml: cannot read policy file: No such file or directory");
  EXPECT_EQ(load_policy_file(dir_).status().message(),
            dir_ + ": cannot read policy file: not a regular file");
}

TEST_F(PolicyFileTest, OversizedFileIsRefused) {
  const std::string path = dir_ + "/huge.yaml";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(kMaxPolicyFileBytes) + 1), 0);  // sparse: cheap
  ::close(fd);
  EXPECT_EQ(load_policy_file(path).status().message(), path + ": cannot read policy file: larger than " +
                                                           std::to_string(kMaxPolicyFileBytes) + " bytes");
}

// ---------------------------------------------------------------------------
// Hostile input: errors, never crashes or hangs

TEST(PolicyYamlHostile, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string text(rng() % 300, '\0');
    for (char& c : text) c = static_cast<char>(rng());
    auto policy = parse_policy(text, "g.yaml");
    if (!policy) {
      EXPECT_EQ(policy.status().message().rfind("g.yaml:", 0), 0u) << policy.status().message();
    }
  }
}

TEST(PolicyYamlHostile, MutatedExampleNeverCrashes) {
  std::ifstream in(fixtures_dir() + "/example.yaml");
  const std::string example((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(example.empty());
  const std::string alphabet = "-:[]{}*&!|>'\"#?,\n \t0aZ/";
  std::mt19937 rng(11);
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string text = example;
    for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
      text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
    }
    auto policy = parse_policy(text, "m.yaml");
    if (policy) {
      ++accepted;
    } else {
      EXPECT_EQ(policy.status().message().rfind("m.yaml:", 0), 0u) << policy.status().message();
    }
  }
  EXPECT_GT(accepted, 0);  // some edits land in comments
}

// yaml-cpp 0.7's LoadAll loops forever, allocating, on a stray ',' (upstream
// issue jbeder/yaml-cpp#1040); the parser must report it instead.
TEST(PolicyYamlHostile, StrayCommaIsASyntaxErrorNotAHang) {
  EXPECT_EQ(error_of(","), "p.yaml:1: YAML syntax error: unexpected token at column 1");
  EXPECT_EQ(error_of(",{mode: monitor}"), "p.yaml:1: YAML syntax error: unexpected token at column 1");
  EXPECT_EQ(error_of("# comment\n  ,\n"), "p.yaml:2: YAML syntax error: unexpected token at column 3");
  EXPECT_EQ(error_of("---\n,\n"), "p.yaml:2: YAML syntax error: unexpected token at column 1");
}

TEST(PolicyYamlHostile, DeepNestingIsAnError) {
  EXPECT_FALSE(parse_policy(std::string(100000, '['), "d.yaml"));
  EXPECT_FALSE(parse_policy(std::string(5000, '[') + std::string(5000, ']'), "d.yaml"));
  EXPECT_FALSE(parse_policy("mode: monitor\nbinary_rules: " + std::string(3000, '[') + std::string(3000, ']'),
                            "d.yaml"));
}

TEST(PolicyYamlHostile, CyclicAndExplodingAliasesAreErrors) {
  EXPECT_EQ(error_of("mode: monitor\nbinary_rules: &a [*a]\n"),
            "p.yaml:2: a binary rule must be a mapping, got a sequence");
  EXPECT_FALSE(parse_policy(file_rule_with("paths", "&p [*p]"), "p.yaml"));
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char level = 'b'; level <= 'z'; ++level) {
    const std::string prev(1, static_cast<char>(level - 1));
    bomb += std::string(1, level) + ": &" + level + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + "]\n";
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(parse_policy(bomb, "b.yaml").status().message().rfind("b.yaml:1: unknown field 'a'", 0), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(PolicyYamlHostile, AliasesOfValidNodesAreFine) {
  const Policy policy = must_parse(
      "mode: lockdown\n"
      "file_access_rules:\n"
      "  - {id: a, shape: paths_with_denied_processes, paths: &secret [/srv/k], processes: [{uid: 0}], "
      "access: read}\n"
      "  - {id: b, shape: processes_with_denied_paths, paths: *secret, processes: [{uid: 1}], access: "
      "write}\n");
  EXPECT_EQ(policy.file_rules.at(1).paths.at(0).pattern(), "/srv/k");
}

TEST(PolicyYamlHostile, BigValidPolicy) {
  std::string yaml = "mode: lockdown\nbinary_rules:\n";
  for (int i = 0; i < 20000; ++i) {
    char hash[65];
    std::snprintf(hash, sizeof hash, "%064x", i);
    yaml += "  - {id: r" + std::to_string(i) + ", sha256: " + hash + ", policy: allow}\n";
  }
  const auto start = std::chrono::steady_clock::now();
  auto policy = parse_policy(yaml, "big.yaml");
  ASSERT_TRUE(policy) << policy.status().message();
  EXPECT_EQ(policy.value().binary_rules.size(), 20000u);
  Process p;
  p.executable.path = "/x";
  p.sha256 = std::string(60, '0') + "4e1f";  // 19999
  EXPECT_EQ(evaluate_exec(policy.value(), p).rule_id, "r19999");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace ward::policy
