// ward::policy — the authorization policy engine: binary authorization (which
// programs may run) and file access rules (which processes may read or write
// which files), loaded from a YAML file. Pure logic: no kernel access, no I/O
// except load_policy_file().
//
// ---------------------------------------------------------------------------
// The policy file (tests/policy_fixtures/example.yaml is a complete example)
//
//   mode: lockdown                 # required: monitor | lockdown
//   binary_rules:                  # optional
//     - id: block-nc               # required, unique across the whole file
//       sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
//       policy: block              # required: allow | block | silent_block
//     - id: allow-usr
//       path_prefix: /usr/         # exactly one of: sha256, path, path_prefix,
//       policy: allow              #   path_glob, package, platform_binary: true
//   file_access_rules:             # optional
//     - id: secret-only-cat        # required, unique across the whole file
//       shape: paths_with_allowed_processes   # required, one of the four below
//       paths: ["/srv/secret/*", {prefix: /srv/data/}, {literal: /etc/shadow}]
//       processes: [{path: /usr/bin/cat}, {sha256: <64 hex>}, {package: coreutils}, {uid: 0}]
//       access: read               # required: read | write | read_write
//       audit_only: false          # optional, default false
//   network_cgroup: /sys/fs/cgroup # optional: the cgroup v2 subtree network rules cover
//   network_rules:                 # optional, at most 64; decided in the kernel
//     - id: no-smtp                # required, unique across the whole file
//       direction: connect         # connect (default) | bind | both
//       protocol: tcp              # any (default) | tcp | udp
//       cidr: 10.0.0.0/8           # at least one of cidr, port (N or LOW-HIGH),
//       port: 25                   #   executable (absolute path), sha256
//
// paths: required, non-empty. A plain string is a glob when it contains one
//   of * ? [ and a literal otherwise; {literal: ...}, {prefix: ...} and
//   {glob: ...} say it explicitly. Semantics in policy/path_matcher.h.
// processes: required, non-empty; each item a mapping with exactly one key:
//   path (literal executable path), path_prefix, path_glob, sha256, package
//   (a Debian package name, no ":arch") or uid (compared with the euid).
// A binary rule's or process matcher's `path` is a literal and may not
//   contain * ? [ — that is almost always a forgotten path_glob.
// sha256 values must be 64 hex digits; they are stored in lowercase.
// Quote globs in YAML: a leading '*' is an alias, and '?' inside [...] or
// {...} can read as a key indicator ("/usr/bin/n?" is a syntax error there).
// Rule ids: 1-128 characters of [A-Za-z0-9._:@/-] (they appear in events).
//
// Validation is all or nothing: parse_policy() returns either a complete
// Policy or an error "FILE:LINE: reason" (LINE 1-based; the line of the
// offending node): a YAML syntax error, more than one YAML document, an
// unknown or duplicated field, a wrong type, a missing required field, a bad
// glob/path/sha256/package/uid, a duplicate rule id. A caller keeps the policy
// in force when loading fails.
//
// The error is the first one in document order.
//
// An empty file (or one with only comments) is an ERROR, not an empty policy:
// `mode` is required. A truncated or half-written file must never silently
// turn a lockdown machine into an allow-everything one. The minimal valid
// policy is "mode: monitor". `binary_rules:` / `file_access_rules:` with no
// value (every item commented out) means an empty list.
//
// ---------------------------------------------------------------------------
// Binary authorization (evaluate_exec): first match wins, in this order —
//   1. sha256 rules
//   2. path rules, literal
//   3. path rules, prefix — the longest matching prefix first
//   4. path rules, glob
//   5. package rules
//   6. platform_binary rules
// and within one step, file order. The most specific identity decides, so an
// allow of one hash beats a block of its directory, and so on.
//   allow                → Allow (any mode).
//   block / silent_block → Lockdown: Deny (silent_block sets Verdict::silent:
//                          still an event, but no user-visible message).
//                          Monitor: Allow with would_deny (never blocks).
//   no match             → Monitor: Allow. Lockdown: Deny, rule_id "", reason
//                          "lockdown: no rule allows this binary".
// Exec verdicts are cacheable: they depend only on the binary (its path,
// hash, package and platform status), never on who runs it. A path rule
// keys on the path, so a cache must key on the executed path too.
//
// ---------------------------------------------------------------------------
// File access (evaluate_open): every rule whose access overlaps the request
// is considered; a rule "applies" when
//   paths_with_allowed_processes  path matches: deny unless the instigator
//                                 matches one of processes
//   paths_with_denied_processes   path matches: deny if the instigator matches
//   processes_with_allowed_paths  path does NOT match: deny if the instigator
//                                 matches. Process-centric: it applies to
//                                 every path the caller asks about — and the
//                                 caller only asks about paths under its AUTH
//                                 marks, so that is the real scope (Santa's
//                                 "watched paths").
//   processes_with_denied_paths   path matches: deny if the instigator matches
// Any deny wins. An audit_only rule's deny becomes Allow with would_deny.
// The mode does not soften file-access rules: it is binary authorization's
// (Santa's client mode), so DLP enforces in monitor mode too. Reported rule: the first enforcing deny in
// file order; else the first would-deny; else the first
// paths_with_allowed_processes rule that let the instigator through; else "".
// Verdict::cacheable is true when no rule applied, i.e. the answer (allow,
// default) is the same for every process and may be cached per file.
//
// Paths are compared as given: pass the absolute, normalised path the kernel
// reports.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/path_matcher.h"
#include "ward/network_policy.h"
#include "ward/process.h"
#include "ward/status.h"

namespace ward::policy {

enum class Mode : uint8_t { Monitor, Lockdown };
enum class BinaryPolicy : uint8_t { Allow, Block, SilentBlock };
enum class Access : uint8_t { Read = 1, Write = 2, ReadWrite = 3 };
enum class FileAccessShape : uint8_t {
  PathsWithAllowedProcesses,
  PathsWithDeniedProcesses,
  ProcessesWithAllowedPaths,
  ProcessesWithDeniedPaths,
};

// True when the two access sets share a bit (a read_write rule covers a read).
constexpr bool overlaps(Access a, Access b) {
  return (static_cast<uint8_t>(a) & static_cast<uint8_t>(b)) != 0;
}

// The YAML spellings: "monitor", "silent_block", "read_write", ...
std::string_view to_string(Mode mode);
std::string_view to_string(BinaryPolicy policy);
std::string_view to_string(Access access);
std::string_view to_string(FileAccessShape shape);

// Lowercase hex if `text` is exactly 64 hex digits, else "".
std::string normalize_sha256(std::string_view text);

// Which processes a file access rule names.
struct ProcessMatcher {
  enum class Kind : uint8_t { Path, Sha256, Package, Uid };
  Kind kind = Kind::Path;
  PathMatcher path;   // Kind::Path: matched against executable.path
  std::string value;  // Kind::Sha256 (lowercase hex) or Kind::Package
  uid_t uid = 0;      // Kind::Uid: matched against audit_token.euid

  static ProcessMatcher by_path(PathMatcher path);
  static ProcessMatcher by_sha256(std::string sha256);  // lowercased
  static ProcessMatcher by_package(std::string package);
  static ProcessMatcher by_uid(uid_t uid);

  // A process whose sha256 or package is unknown matches no such matcher.
  bool matches(const Process& process) const;
};

struct BinaryRule {
  enum class Kind : uint8_t { Sha256, Path, Package, PlatformBinary };
  std::string id;
  Kind kind = Kind::Sha256;
  PathMatcher path;   // Kind::Path: literal, prefix or glob on executable.path
  std::string value;  // Kind::Sha256 (lowercase hex) or Kind::Package
  BinaryPolicy policy = BinaryPolicy::Block;
  int line = 0;  // 1-based line in the policy file; 0 when built in code

  bool matches(const Process& target) const;
};

struct FileAccessRule {
  std::string id;
  FileAccessShape shape = FileAccessShape::PathsWithAllowedProcesses;
  std::vector<PathMatcher> paths;
  std::vector<ProcessMatcher> processes;
  Access access = Access::ReadWrite;
  bool audit_only = false;
  int line = 0;

  bool matches_path(std::string_view path) const;
  bool matches_process(const Process& process) const;
};

// A default Policy (monitor, no rules) allows everything: what runs before a
// policy file has been loaded.
struct Policy {
  Mode mode = Mode::Monitor;
  std::vector<BinaryRule> binary_rules;
  std::vector<FileAccessRule> file_rules;
  // Network egress and bind rules, decided in the kernel by cgroup sock
  // programs (ward/network_policy.h) for the processes of network_cgroup and
  // its descendants. They deny in every mode (as file access rules do): a
  // matching connect or bind fails with EPERM and is an auth_result event.
  std::vector<NetworkRule> network_rules;
  std::string network_cgroup = "/sys/fs/cgroup";
  std::string source;  // the file it came from, for events and errors
};

struct Verdict {
  enum class Decision : uint8_t { Allow, Deny };
  Decision decision = Decision::Allow;
  bool would_deny = false;  // allowed, but a rule says deny (monitor mode or audit_only)
  bool silent = false;      // a silent_block Deny: an event, but no user-visible message
  bool cacheable = false;   // the same for every process: may be cached per file
  std::string rule_id;      // the rule that decided; "" = the default
  std::string reason;       // human-readable, for logs

  bool allowed() const { return decision == Decision::Allow; }
};

// Never fails: a Policy is valid by construction.
Verdict evaluate_exec(const Policy& policy, const Process& target);
Verdict evaluate_open(const Policy& policy, const Process& instigator, std::string_view path,
                      Access requested);

// Parses and validates a whole policy file. `file_name` is used in error
// messages ("FILE:LINE: reason") and stored as Policy::source.
Result<Policy> parse_policy(std::string_view yaml_text, std::string_view file_name);

// Reads `path` (a regular file of at most kMaxPolicyFileBytes) and parses it.
// An unreadable file is an error "PATH: cannot read policy file: <strerror>".
inline constexpr size_t kMaxPolicyFileBytes = 16 * 1024 * 1024;
Result<Policy> load_policy_file(const std::string& path);

}  // namespace ward::policy
