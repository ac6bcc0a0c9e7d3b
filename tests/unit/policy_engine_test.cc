// evaluate_exec / evaluate_open: first-match order, modes, silent block, the
// four file access shapes, access overlap, audit_only and the cacheable flag.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace ward::policy {
namespace {

const std::string kHashA = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
const std::string kHashB = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

Policy must_parse(const std::string& yaml) {
  auto policy = parse_policy(yaml, "test.yaml");
  EXPECT_TRUE(policy) << policy.status().message();
  return policy ? policy.value() : Policy{};
}

Process make_process(const std::string& exe) {
  Process p;
  p.executable.path = exe;
  return p;
}

// /usr/bin/nc: hash A, package netcat, a platform binary, run by uid 1000.
Process netcat() {
  Process p = make_process("/usr/bin/nc");
  p.sha256 = kHashA;
  p.package = "netcat-openbsd";
  p.is_platform_binary = true;
  p.audit_token.ruid = p.audit_token.euid = 1000;
  return p;
}

// ---------------------------------------------------------------------------
// Binary authorization

TEST(PolicyExec, NoRuleMonitorAllows) {
  const Verdict v = evaluate_exec(Policy{}, netcat());
  EXPECT_TRUE(v.allowed());
  EXPECT_FALSE(v.would_deny);
  EXPECT_FALSE(v.silent);
  EXPECT_TRUE(v.cacheable);
  EXPECT_EQ(v.rule_id, "");
  EXPECT_EQ(v.reason, "monitor: no binary rule matched");
}

TEST(PolicyExec, NoRuleLockdownDenies) {
  const Policy policy = must_parse("mode: lockdown\n");
  const Verdict v = evaluate_exec(policy, netcat());
  EXPECT_EQ(v.decision, Verdict::Decision::Deny);
  EXPECT_FALSE(v.would_deny);
  EXPECT_TRUE(v.cacheable);
  EXPECT_EQ(v.rule_id, "");
  EXPECT_EQ(v.reason, "lockdown: no rule allows this binary");
}

TEST(PolicyExec, LockdownAllowRuleAllows) {
  const Policy policy = must_parse(
      "mode: lockdown\n"
      "binary_rules:\n"
      "  - {id: ok-nc, path: /usr/bin/nc, policy: allow}\n");
  const Verdict v = evaluate_exec(policy, netcat());
  EXPECT_TRUE(v.allowed());
  EXPECT_FALSE(v.would_deny);
  EXPECT_EQ(v.rule_id, "ok-nc");
  EXPECT_EQ(v.reason, "binary rule 'ok-nc' (path literal) allows /usr/bin/nc");
  EXPECT_EQ(evaluate_exec(policy, make_process("/usr/bin/ncat")).rule_id, "");
  EXPECT_FALSE(evaluate_exec(policy, make_process("/usr/bin/ncat")).allowed());
}

TEST(PolicyExec, LockdownBlockDeniesVisibly) {
  const Policy policy =
      must_parse("mode: lockdown\nbinary_rules: [{id: no-nc, sha256: " + kHashA + ", policy: block}]\n");
  const Verdict v = evaluate_exec(policy, netcat());
  EXPECT_EQ(v.decision, Verdict::Decision::Deny);
  EXPECT_FALSE(v.silent);
  EXPECT_FALSE(v.would_deny);
  EXPECT_TRUE(v.cacheable);
  EXPECT_EQ(v.rule_id, "no-nc");
  EXPECT_EQ(v.reason, "binary rule 'no-nc' (sha256) blocks /usr/bin/nc");
}

TEST(PolicyExec, LockdownSilentBlockDeniesSilently) {
  const Policy policy = must_parse(
      "mode: lockdown\nbinary_rules: [{id: hush, package: netcat-openbsd, policy: silent_block}]\n");
  const Verdict v = evaluate_exec(policy, netcat());
  EXPECT_EQ(v.decision, Verdict::Decision::Deny);
  EXPECT_TRUE(v.silent);
  EXPECT_EQ(v.rule_id, "hush");
  EXPECT_EQ(v.reason, "binary rule 'hush' (package) silently blocks /usr/bin/nc");
}

TEST(PolicyExec, MonitorNeverBlocksButReportsWouldDeny) {
  for (const std::string policy_name : {"block", "silent_block"}) {
    SCOPED_TRACE(policy_name);
    const Policy policy = must_parse(
        "mode: monitor\nbinary_rules: [{id: no-nc, path_prefix: /usr/bin/, policy: " + policy_name + "}]\n");
    const Verdict v = evaluate_exec(policy, netcat());
    EXPECT_TRUE(v.allowed());
    EXPECT_TRUE(v.would_deny);
    EXPECT_FALSE(v.silent);  // nothing was denied
    EXPECT_TRUE(v.cacheable);
    EXPECT_EQ(v.rule_id, "no-nc");
    EXPECT_EQ(v.reason, "monitor: binary rule 'no-nc' (path prefix) would " + policy_name + " /usr/bin/nc");
  }
}

TEST(PolicyExec, MonitorAllowRuleIsPlainAllow) {
  const Policy policy =
      must_parse("mode: monitor\nbinary_rules: [{id: ok, platform_binary: true, policy: allow}]\n");
  const Verdict v = evaluate_exec(policy, netcat());
  EXPECT_TRUE(v.allowed());
  EXPECT_FALSE(v.would_deny);
  EXPECT_EQ(v.rule_id, "ok");
}

// Every kind matches netcat(); the file lists them least specific first, so
// file order alone would pick the wrong one. Removing the winner each time
// must walk the documented order.
TEST(PolicyExec, FirstMatchOrderIsShaLiteralPrefixGlobPackagePlatform) {
  Policy policy = must_parse(
      "mode: lockdown\n"
      "binary_rules:\n"
      "  - {id: platform, platform_binary: true, policy: allow}\n"
      "  - {id: package, package: netcat-openbsd, policy: block}\n"
      "  - {id: glob, path_glob: /usr/*/nc, policy: allow}\n"
      "  - {id: short-prefix, path_prefix: /usr/, policy: block}\n"
      "  - {id: long-prefix, path_prefix: /usr/bin/, policy: allow}\n"
      "  - {id: literal, path: /usr/bin/nc, policy: block}\n"
      "  - {id: sha256, sha256: " +
      kHashA + ", policy: allow}\n");
  const std::vector<std::string> expected_order = {"sha256", "literal", "long-prefix", "short-prefix",
                                                   "glob",   "package", "platform"};
  for (const std::string& expected : expected_order) {
    const Verdict v = evaluate_exec(policy, netcat());
    EXPECT_EQ(v.rule_id, expected);
    std::erase_if(policy.binary_rules, [&](const BinaryRule& r) { return r.id == expected; });
  }
  EXPECT_EQ(evaluate_exec(policy, netcat()).rule_id, "");
  EXPECT_EQ(evaluate_exec(policy, netcat()).reason, "lockdown: no rule allows this binary");
}

TEST(PolicyExec, SpecificAllowBeatsBroadBlock) {
  const Policy policy = must_parse(
      "mode: lockdown\n"
      "binary_rules:\n"
      "  - {id: no-usr-bin, path_prefix: /usr/bin/, policy: block}\n"
      "  - {id: this-nc-ok, sha256: " +
      kHashA + ", policy: allow}\n");
  EXPECT_TRUE(evaluate_exec(policy, netcat()).allowed());
  Process other = netcat();
  other.sha256 = kHashB;
  EXPECT_EQ(evaluate_exec(policy, other).rule_id, "no-usr-bin");
}

TEST(PolicyExec, WithinAKindFileOrderDecides) {
  const Policy policy = must_parse(
      "mode: lockdown\n"
      "binary_rules:\n"
      "  - {id: glob-1, path_glob: \"/usr/bin/n?\", policy: block}\n"
      "  - {id: glob-2, path_glob: /usr/**, policy: allow}\n"
      "  - {id: pkg-1, package: netcat-openbsd, policy: allow}\n"
      "  - {id: pkg-2, package: netcat-openbsd, policy: block}\n");
  EXPECT_EQ(evaluate_exec(policy, netcat()).rule_id, "glob-1");
  EXPECT_EQ(evaluate_exec(policy, make_process("/usr/sbin/x")).rule_id, "glob-2");
  Process elsewhere = netcat();
  elsewhere.executable.path = "/opt/nc";
  EXPECT_EQ(evaluate_exec(policy, elsewhere).rule_id, "pkg-1");
}

TEST(PolicyExec, LongestPrefixWinsAndEqualPrefixesKeepFileOrder) {
  const Policy policy = must_parse(
      "mode: lockdown\n"
      "binary_rules:\n"
      "  - {id: usr, path_prefix: /usr/, policy: allow}\n"
      "  - {id: usr-local-bin-1, path_prefix: /usr/local/bin/, policy: block}\n"
      "  - {id: usr-local, path_prefix: /usr/local/, policy: allow}\n"
      "  - {id: usr-local-bin-2, path_prefix: /usr/local/bin/, policy: allow}\n");
  EXPECT_EQ(evaluate_exec(policy, make_process("/usr/local/bin/x")).rule_id, "usr-local-bin-1");
  EXPECT_EQ(evaluate_exec(policy, make_process("/usr/local/lib/x")).rule_id, "usr-local");
  EXPECT_EQ(evaluate_exec(policy, make_process("/usr/bin/x")).rule_id, "usr");
}

TEST(PolicyExec, UnknownHashOrPackageMatchesNoSuchRule) {
  const Policy policy = must_parse(
      "mode: lockdown\n"
      "binary_rules:\n"
      "  - {id: h, sha256: " +
      kHashA +
      ", policy: allow}\n"
      "  - {id: p, package: netcat-openbsd, policy: allow}\n"
      "  - {id: plat, platform_binary: true, policy: allow}\n");
  Process unknown = make_process("/usr/bin/nc");  // sha256, package unset; not platform
  EXPECT_FALSE(evaluate_exec(policy, unknown).allowed());
  EXPECT_EQ(evaluate_exec(policy, unknown).rule_id, "");
}

TEST(PolicyExec, UppercaseHashInTheFileMatchesTheLowercaseProcessHash) {
  std::string upper = kHashA;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char c) { return c >= 'a' ? static_cast<char>(c - 32) : c; });
  const Policy policy =
      must_parse("mode: lockdown\nbinary_rules: [{id: h, sha256: " + upper + ", policy: allow}]\n");
  EXPECT_EQ(evaluate_exec(policy, netcat()).rule_id, "h");
}

TEST(PolicyExec, RulesBuiltInCodeWork) {
  Policy policy;
  policy.mode = Mode::Lockdown;
  BinaryRule rule;
  rule.id = "code";
  rule.kind = BinaryRule::Kind::Path;
  rule.path = PathMatcher::glob("/usr/bin/n*").value();
  rule.policy = BinaryPolicy::SilentBlock;
  policy.binary_rules.push_back(rule);
  const Verdict v = evaluate_exec(policy, netcat());
  EXPECT_EQ(v.rule_id, "code");
  EXPECT_TRUE(v.silent);
  EXPECT_EQ(v.reason, "binary rule 'code' (path glob) silently blocks /usr/bin/nc");
}

// ---------------------------------------------------------------------------
// File access

Process cat_as(uid_t euid) {
  Process p = make_process("/usr/bin/cat");
  p.sha256 = kHashB;
  p.package = "coreutils";
  p.audit_token.euid = euid;
  p.audit_token.ruid = 4242;
  return p;
}

Process vim() {
  Process p = make_process("/usr/bin/vim");
  p.audit_token.euid = p.audit_token.ruid = 1000;
  return p;
}

std::string one_rule(const std::string& shape, const std::string& access = "read",
                     const std::string& extra = "") {
  return "mode: lockdown\n"
         "file_access_rules:\n"
         "  - id: r\n"
         "    shape: " +
         shape +
         "\n"
         "    paths: [\"/srv/secret/*\", {prefix: /srv/data/}]\n"
         "    processes: [{path: /usr/bin/cat}]\n"
         "    access: " +
         access + "\n" + extra;
}

TEST(PolicyOpen, NoRulesAllowsAndIsCacheable) {
  const Verdict v = evaluate_open(Policy{}, vim(), "/etc/passwd", Access::ReadWrite);
  EXPECT_TRUE(v.allowed());
  EXPECT_TRUE(v.cacheable);
  EXPECT_EQ(v.rule_id, "");
  EXPECT_EQ(v.reason, "no file access rule denies read_write of /etc/passwd by /usr/bin/vim");
}

TEST(PolicyOpen, PathsWithAllowedProcesses) {
  const Policy policy = must_parse(one_rule("paths_with_allowed_processes"));
  const Verdict by_cat = evaluate_open(policy, cat_as(1000), "/srv/secret/key", Access::Read);
  EXPECT_TRUE(by_cat.allowed());
  EXPECT_EQ(by_cat.rule_id, "r");
  EXPECT_FALSE(by_cat.cacheable);
  EXPECT_EQ(
      by_cat.reason,
      "file access rule 'r' (paths_with_allowed_processes) allows read of /srv/secret/key by /usr/bin/cat");

  const Verdict by_vim = evaluate_open(policy, vim(), "/srv/data/x/y", Access::Read);
  EXPECT_EQ(by_vim.decision, Verdict::Decision::Deny);
  EXPECT_EQ(by_vim.rule_id, "r");
  EXPECT_FALSE(by_vim.cacheable);
  EXPECT_FALSE(by_vim.silent);
  EXPECT_EQ(
      by_vim.reason,
      "file access rule 'r' (paths_with_allowed_processes) denies read of /srv/data/x/y by /usr/bin/vim");

  const Verdict unlisted =
      evaluate_open(policy, vim(), "/srv/secret/sub/key", Access::Read);  // '*' stops at '/'
  EXPECT_TRUE(unlisted.allowed());
  EXPECT_TRUE(unlisted.cacheable);
  EXPECT_EQ(unlisted.rule_id, "");
}

TEST(PolicyOpen, PathsWithDeniedProcesses) {
  const Policy policy = must_parse(one_rule("paths_with_denied_processes"));
  const Verdict by_cat = evaluate_open(policy, cat_as(0), "/srv/secret/key", Access::Read);
  EXPECT_EQ(by_cat.decision, Verdict::Decision::Deny);
  EXPECT_EQ(by_cat.rule_id, "r");
  EXPECT_FALSE(by_cat.cacheable);

  const Verdict by_vim = evaluate_open(policy, vim(), "/srv/secret/key", Access::Read);
  EXPECT_TRUE(by_vim.allowed());
  EXPECT_EQ(by_vim.rule_id, "");
  EXPECT_FALSE(by_vim.cacheable);  // cat would have been denied

  EXPECT_TRUE(evaluate_open(policy, cat_as(0), "/srv/other", Access::Read).allowed());
  EXPECT_TRUE(evaluate_open(policy, cat_as(0), "/srv/other", Access::Read).cacheable);
}

TEST(PolicyOpen, ProcessesWithAllowedPaths) {
  const Policy policy = must_parse(one_rule("processes_with_allowed_paths"));
  // cat may read only the listed paths...
  const Verdict listed = evaluate_open(policy, cat_as(0), "/srv/data/a", Access::Read);
  EXPECT_TRUE(listed.allowed());
  EXPECT_TRUE(listed.cacheable);  // a listed path: allowed to everyone as far as the rule goes
  EXPECT_EQ(listed.rule_id, "");
  const Verdict other = evaluate_open(policy, cat_as(0), "/etc/passwd", Access::Read);
  EXPECT_EQ(other.decision, Verdict::Decision::Deny);
  EXPECT_EQ(other.rule_id, "r");
  EXPECT_FALSE(other.cacheable);
  EXPECT_EQ(other.reason,
            "file access rule 'r' (processes_with_allowed_paths) denies read of /etc/passwd by /usr/bin/cat");
  // ...and the rule says nothing about other processes, anywhere.
  const Verdict by_vim = evaluate_open(policy, vim(), "/etc/passwd", Access::Read);
  EXPECT_TRUE(by_vim.allowed());
  EXPECT_FALSE(by_vim.cacheable);  // cat would have been denied
}

TEST(PolicyOpen, ProcessesWithDeniedPaths) {
  const Policy policy = must_parse(one_rule("processes_with_denied_paths"));
  const Verdict listed = evaluate_open(policy, cat_as(0), "/srv/data/a", Access::Read);
  EXPECT_EQ(listed.decision, Verdict::Decision::Deny);
  EXPECT_EQ(listed.rule_id, "r");
  EXPECT_FALSE(listed.cacheable);
  const Verdict by_vim = evaluate_open(policy, vim(), "/srv/data/a", Access::Read);
  EXPECT_TRUE(by_vim.allowed());
  EXPECT_FALSE(by_vim.cacheable);
  const Verdict elsewhere = evaluate_open(policy, cat_as(0), "/etc/passwd", Access::Read);
  EXPECT_TRUE(elsewhere.allowed());
  EXPECT_TRUE(elsewhere.cacheable);
}

TEST(PolicyOpen, AccessMustOverlap) {
  const Policy write_rule = must_parse(one_rule("paths_with_allowed_processes", "write"));
  const Verdict read = evaluate_open(write_rule, vim(), "/srv/secret/key", Access::Read);
  EXPECT_TRUE(read.allowed());
  EXPECT_TRUE(read.cacheable);  // the rule is not about reads
  EXPECT_FALSE(evaluate_open(write_rule, vim(), "/srv/secret/key", Access::Write).allowed());
  EXPECT_FALSE(evaluate_open(write_rule, vim(), "/srv/secret/key", Access::ReadWrite).allowed());

  const Policy read_rule = must_parse(one_rule("paths_with_allowed_processes", "read"));
  EXPECT_TRUE(evaluate_open(read_rule, vim(), "/srv/secret/key", Access::Write).allowed());
  EXPECT_FALSE(evaluate_open(read_rule, vim(), "/srv/secret/key", Access::ReadWrite).allowed());

  const Policy both = must_parse(one_rule("paths_with_allowed_processes", "read_write"));
  EXPECT_FALSE(evaluate_open(both, vim(), "/srv/secret/key", Access::Read).allowed());
  EXPECT_FALSE(evaluate_open(both, vim(), "/srv/secret/key", Access::Write).allowed());
}

TEST(PolicyOpen, AuditOnlyAllowsWithWouldDeny) {
  const Policy policy =
      must_parse(one_rule("paths_with_allowed_processes", "read", "    audit_only: true\n"));
  const Verdict v = evaluate_open(policy, vim(), "/srv/secret/key", Access::Read);
  EXPECT_TRUE(v.allowed());
  EXPECT_TRUE(v.would_deny);
  EXPECT_EQ(v.rule_id, "r");
  EXPECT_FALSE(v.cacheable);
  EXPECT_EQ(
      v.reason,
      "audit only: file access rule 'r' (paths_with_allowed_processes) would deny read of /srv/secret/key by "
      "/usr/bin/vim");
  const Verdict by_cat = evaluate_open(policy, cat_as(0), "/srv/secret/key", Access::Read);
  EXPECT_TRUE(by_cat.allowed());
  EXPECT_FALSE(by_cat.would_deny);
}

TEST(PolicyOpen, MonitorModeStillEnforcesFileAccess) {
  std::string yaml = one_rule("paths_with_allowed_processes");
  yaml.replace(yaml.find("lockdown"), 8, "monitor");
  const Policy policy = must_parse(yaml);
  const Verdict v = evaluate_open(policy, vim(), "/srv/secret/key", Access::Read);
  EXPECT_FALSE(v.allowed()) << "the mode is binary authorization's; DLP rules enforce unless audit_only";
  EXPECT_EQ(v.rule_id, "r");
}

TEST(PolicyOpen, AnyDenyWins) {
  const Policy policy = must_parse(
      "mode: lockdown\n"
      "file_access_rules:\n"
      "  - {id: cat-may, shape: paths_with_allowed_processes, paths: [/srv/k],\n"
      "     processes: [{path: /usr/bin/cat}], access: read}\n"
      "  - {id: not-root, shape: paths_with_denied_processes, paths: [/srv/k],\n"
      "     processes: [{uid: 0}], access: read}\n");
  EXPECT_EQ(evaluate_open(policy, cat_as(1000), "/srv/k", Access::Read).rule_id, "cat-may");
  EXPECT_TRUE(evaluate_open(policy, cat_as(1000), "/srv/k", Access::Read).allowed());
  const Verdict as_root = evaluate_open(policy, cat_as(0), "/srv/k", Access::Read);
  EXPECT_FALSE(as_root.allowed());
  EXPECT_EQ(as_root.rule_id, "not-root");
}

TEST(PolicyOpen, EnforcedDenyBeatsAnEarlierAuditOnlyDeny) {
  const Policy policy = must_parse(
      "mode: lockdown\n"
      "file_access_rules:\n"
      "  - {id: audit, shape: paths_with_denied_processes, paths: [/srv/k],\n"
      "     processes: [{path: /usr/bin/vim}], access: read, audit_only: true}\n"
      "  - {id: enforce-1, shape: paths_with_denied_processes, paths: [/srv/k],\n"
      "     processes: [{path: /usr/bin/vim}], access: read}\n"
      "  - {id: enforce-2, shape: paths_with_denied_processes, paths: [/srv/k],\n"
      "     processes: [{path: /usr/bin/vim}], access: read}\n");
  const Verdict v = evaluate_open(policy, vim(), "/srv/k", Access::Read);
  EXPECT_FALSE(v.allowed());
  EXPECT_FALSE(v.would_deny);
  EXPECT_EQ(v.rule_id, "enforce-1");
}

TEST(PolicyOpen, ProcessMatchers) {
  auto denied_for = [](const std::string& matcher) {
    return must_parse(
        "mode: lockdown\nfile_access_rules:\n"
        "  - {id: r, shape: paths_with_denied_processes, paths: [/k], processes: [" +
        matcher + "], access: read}\n");
  };
  const Process cat = cat_as(0);  // euid 0, ruid 4242
  auto denies = [&](const Policy& p, const Process& proc) {
    return !evaluate_open(p, proc, "/k", Access::Read).allowed();
  };
  EXPECT_TRUE(denies(denied_for("{uid: 0}"), cat));
  EXPECT_FALSE(denies(denied_for("{uid: 4242}"), cat));  // the euid counts, not the ruid
  EXPECT_TRUE(denies(denied_for("{sha256: " + kHashB + "}"), cat));
  EXPECT_FALSE(denies(denied_for("{sha256: " + kHashA + "}"), cat));
  EXPECT_FALSE(denies(denied_for("{sha256: " + kHashB + "}"), vim()));  // vim's hash unknown
  EXPECT_TRUE(denies(denied_for("{package: coreutils}"), cat));
  EXPECT_FALSE(denies(denied_for("{package: coreutils}"), vim()));
  EXPECT_TRUE(denies(denied_for("{path: /usr/bin/cat}"), cat));
  EXPECT_TRUE(denies(denied_for("{path_prefix: /usr/bin/}"), cat));
  EXPECT_TRUE(denies(denied_for("{path_glob: \"/usr/**/c?t\"}"), cat));
  EXPECT_FALSE(denies(denied_for("{path_glob: /usr/*/v*}"), cat));
}

TEST(PolicyOpen, DoubleStarPathsInRules) {
  const Policy policy = must_parse(
      "mode: lockdown\nfile_access_rules:\n"
      "  - {id: keys, shape: paths_with_allowed_processes, paths: [\"**/.ssh/id_*\"],\n"
      "     processes: [{path: /usr/bin/ssh}], access: read}\n");
  EXPECT_FALSE(evaluate_open(policy, vim(), "/home/ann/.ssh/id_ed25519", Access::Read).allowed());
  EXPECT_FALSE(evaluate_open(policy, vim(), "/root/.ssh/id_rsa", Access::Read).allowed());
  EXPECT_TRUE(evaluate_open(policy, vim(), "/home/ann/.ssh/known_hosts", Access::Read).allowed());
  EXPECT_TRUE(
      evaluate_open(policy, make_process("/usr/bin/ssh"), "/root/.ssh/id_rsa", Access::Read).allowed());
}

TEST(PolicyOpen, RulesBuiltInCode) {
  Policy policy;
  policy.mode = Mode::Lockdown;
  FileAccessRule rule;
  rule.id = "code";
  rule.shape = FileAccessShape::ProcessesWithDeniedPaths;
  rule.paths.push_back(PathMatcher::prefix("/etc/").value());
  rule.processes.push_back(ProcessMatcher::by_uid(1000));
  rule.processes.push_back(ProcessMatcher::by_sha256(
      "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"));  // lowercased
  rule.access = Access::Write;
  policy.file_rules.push_back(rule);
  EXPECT_FALSE(evaluate_open(policy, vim(), "/etc/hosts", Access::Write).allowed());
  EXPECT_FALSE(evaluate_open(policy, cat_as(0), "/etc/hosts", Access::Write).allowed());  // by hash
  EXPECT_TRUE(evaluate_open(policy, vim(), "/etc/hosts", Access::Read).allowed());
  EXPECT_TRUE(evaluate_open(policy, make_process("/bin/true"), "/etc/hosts", Access::Write).allowed());
}

TEST(PolicyStrings, YamlSpellings) {
  EXPECT_EQ(to_string(Mode::Lockdown), "lockdown");
  EXPECT_EQ(to_string(BinaryPolicy::SilentBlock), "silent_block");
  EXPECT_EQ(to_string(Access::ReadWrite), "read_write");
  EXPECT_EQ(to_string(FileAccessShape::ProcessesWithDeniedPaths), "processes_with_denied_paths");
  EXPECT_TRUE(overlaps(Access::ReadWrite, Access::Read));
  EXPECT_FALSE(overlaps(Access::Write, Access::Read));
  EXPECT_EQ(normalize_sha256("AB"), "");
  EXPECT_EQ(normalize_sha256(std::string(64, 'F')), std::string(64, 'f'));
  EXPECT_EQ(normalize_sha256(std::string(63, 'f') + "g"), "");
}

}  // namespace
}  // namespace ward::policy
