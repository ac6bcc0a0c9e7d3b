// Rule matching and the two evaluations; the order and semantics are
// documented in policy.h.
#include <utility>

#include "policy/policy.h"

namespace ward::policy {
namespace {

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string to_lower_ascii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string describe_match(const BinaryRule& rule) {
  switch (rule.kind) {
    case BinaryRule::Kind::Sha256:
      return "sha256";
    case BinaryRule::Kind::Path:
      return "path " + std::string(to_string(rule.path.kind()));
    case BinaryRule::Kind::Package:
      return "package";
    case BinaryRule::Kind::PlatformBinary:
      return "platform_binary";
  }
  return "?";
}

bool is_kind(const BinaryRule& rule, BinaryRule::Kind kind) { return rule.kind == kind; }

bool is_path(const BinaryRule& rule, PathMatcher::Kind kind) {
  return rule.kind == BinaryRule::Kind::Path && rule.path.kind() == kind;
}

// The first-match order of policy.h: the most specific identity first.
const BinaryRule* first_matching_rule(const Policy& policy, const Process& target) {
  auto first_where = [&](auto in_step) -> const BinaryRule* {
    for (const BinaryRule& rule : policy.binary_rules) {
      if (in_step(rule) && rule.matches(target)) return &rule;
    }
    return nullptr;
  };
  // Longest prefix first; on a tie (same length) the earlier rule.
  auto longest_prefix = [&]() -> const BinaryRule* {
    const BinaryRule* best = nullptr;
    for (const BinaryRule& rule : policy.binary_rules) {
      if (!is_path(rule, PathMatcher::Kind::Prefix) || !rule.matches(target)) continue;
      if (!best || rule.path.pattern().size() > best->path.pattern().size()) best = &rule;
    }
    return best;
  };

  auto first_of_kind = [&](BinaryRule::Kind kind) {
    return first_where([kind](const BinaryRule& r) { return is_kind(r, kind); });
  };
  auto first_of_path = [&](PathMatcher::Kind kind) {
    return first_where([kind](const BinaryRule& r) { return is_path(r, kind); });
  };

  const BinaryRule* rule = first_of_kind(BinaryRule::Kind::Sha256);
  if (!rule) rule = first_of_path(PathMatcher::Kind::Literal);
  if (!rule) rule = longest_prefix();
  if (!rule) rule = first_of_path(PathMatcher::Kind::Glob);
  if (!rule) rule = first_of_kind(BinaryRule::Kind::Package);
  if (!rule) rule = first_of_kind(BinaryRule::Kind::PlatformBinary);
  return rule;
}

}  // namespace

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::Monitor:
      return "monitor";
    case Mode::Lockdown:
      return "lockdown";
  }
  return "?";
}

std::string_view to_string(BinaryPolicy policy) {
  switch (policy) {
    case BinaryPolicy::Allow:
      return "allow";
    case BinaryPolicy::Block:
      return "block";
    case BinaryPolicy::SilentBlock:
      return "silent_block";
  }
  return "?";
}

std::string_view to_string(Access access) {
  switch (access) {
    case Access::Read:
      return "read";
    case Access::Write:
      return "write";
    case Access::ReadWrite:
      return "read_write";
  }
  return "?";
}

std::string_view to_string(FileAccessShape shape) {
  switch (shape) {
    case FileAccessShape::PathsWithAllowedProcesses:
      return "paths_with_allowed_processes";
    case FileAccessShape::PathsWithDeniedProcesses:
      return "paths_with_denied_processes";
    case FileAccessShape::ProcessesWithAllowedPaths:
      return "processes_with_allowed_paths";
    case FileAccessShape::ProcessesWithDeniedPaths:
      return "processes_with_denied_paths";
  }
  return "?";
}

std::string normalize_sha256(std::string_view text) {
  if (text.size() != 64) return "";
  for (char c : text) {
    if (!is_hex_digit(c)) return "";
  }
  return to_lower_ascii(std::string(text));
}

ProcessMatcher ProcessMatcher::by_path(PathMatcher path) {
  ProcessMatcher m;
  m.kind = Kind::Path;
  m.path = std::move(path);
  return m;
}

ProcessMatcher ProcessMatcher::by_sha256(std::string sha256) {
  ProcessMatcher m;
  m.kind = Kind::Sha256;
  m.value = to_lower_ascii(std::move(sha256));
  return m;
}

ProcessMatcher ProcessMatcher::by_package(std::string package) {
  ProcessMatcher m;
  m.kind = Kind::Package;
  m.value = std::move(package);
  return m;
}

ProcessMatcher ProcessMatcher::by_uid(uid_t uid) {
  ProcessMatcher m;
  m.kind = Kind::Uid;
  m.uid = uid;
  return m;
}

bool ProcessMatcher::matches(const Process& process) const {
  switch (kind) {
    case Kind::Path:
      return path.matches(process.executable.path);
    case Kind::Sha256:
      return process.sha256.has_value() && *process.sha256 == value;
    case Kind::Package:
      return process.package.has_value() && *process.package == value;
    case Kind::Uid:
      return process.audit_token.euid == uid;
  }
  return false;
}

bool BinaryRule::matches(const Process& target) const {
  switch (kind) {
    case Kind::Sha256:
      return target.sha256.has_value() && *target.sha256 == value;
    case Kind::Path:
      return path.matches(target.executable.path);
    case Kind::Package:
      return target.package.has_value() && *target.package == value;
    case Kind::PlatformBinary:
      return target.is_platform_binary;
  }
  return false;
}

bool FileAccessRule::matches_path(std::string_view path) const {
  for (const PathMatcher& matcher : paths) {
    if (matcher.matches(path)) return true;
  }
  return false;
}

bool FileAccessRule::matches_process(const Process& process) const {
  for (const ProcessMatcher& matcher : processes) {
    if (matcher.matches(process)) return true;
  }
  return false;
}

Verdict evaluate_exec(const Policy& policy, const Process& target) {
  Verdict verdict;
  verdict.cacheable = true;  // a function of the binary alone
  const std::string& exe = target.executable.path;
  const BinaryRule* rule = first_matching_rule(policy, target);
  if (!rule) {
    if (policy.mode == Mode::Lockdown) {
      verdict.decision = Verdict::Decision::Deny;
      verdict.reason = "lockdown: no rule allows this binary";
    } else {
      verdict.reason = "monitor: no binary rule matched";
    }
    return verdict;
  }
  verdict.rule_id = rule->id;
  const std::string what = "binary rule '" + rule->id + "' (" + describe_match(*rule) + ")";
  if (rule->policy == BinaryPolicy::Allow) {
    verdict.reason = what + " allows " + exe;
  } else if (policy.mode == Mode::Monitor) {
    verdict.would_deny = true;
    verdict.reason = "monitor: " + what + " would " + std::string(to_string(rule->policy)) + " " + exe;
  } else {
    verdict.decision = Verdict::Decision::Deny;
    verdict.silent = rule->policy == BinaryPolicy::SilentBlock;
    verdict.reason = what + " " + std::string(verdict.silent ? "silently blocks " : "blocks ") + exe;
  }
  return verdict;
}

Verdict evaluate_open(const Policy& policy, const Process& instigator, std::string_view path,
                      Access requested) {
  const FileAccessRule* enforced_deny = nullptr;
  const FileAccessRule* would_deny = nullptr;
  const FileAccessRule* allowed_by = nullptr;
  bool any_rule_applied = false;

  for (const FileAccessRule& rule : policy.file_rules) {
    if (!overlaps(rule.access, requested)) continue;
    const bool path_listed = rule.matches_path(path);
    bool applies = false;
    bool denies = false;
    switch (rule.shape) {
      case FileAccessShape::PathsWithAllowedProcesses:
        applies = path_listed;
        if (applies) {
          denies = !rule.matches_process(instigator);
          if (!denies && !allowed_by) allowed_by = &rule;
        }
        break;
      case FileAccessShape::PathsWithDeniedProcesses:
      case FileAccessShape::ProcessesWithDeniedPaths:
        applies = path_listed;
        denies = applies && rule.matches_process(instigator);
        break;
      case FileAccessShape::ProcessesWithAllowedPaths:
        // A listed path is allowed to everyone as far as this rule goes.
        applies = !path_listed;
        denies = applies && rule.matches_process(instigator);
        break;
    }
    any_rule_applied = any_rule_applied || applies;
    if (!denies) continue;
    // The mode is binary authorization's (Santa's client mode); a file-access
    // rule enforces unless it is audit-only, so DLP works without lockdown.
    if (rule.audit_only) {
      if (!would_deny) would_deny = &rule;
    } else if (!enforced_deny) {
      enforced_deny = &rule;
    }
  }

  Verdict verdict;
  verdict.cacheable = !any_rule_applied;  // every rule's outcome depends on the process
  const std::string access_text = std::string(to_string(requested)) + " of " + std::string(path) + " by " +
                                  (instigator.executable.path.empty() ? "?" : instigator.executable.path);
  auto describe = [](const FileAccessRule& rule) {
    return "file access rule '" + rule.id + "' (" + std::string(to_string(rule.shape)) + ")";
  };
  if (enforced_deny) {
    verdict.decision = Verdict::Decision::Deny;
    verdict.rule_id = enforced_deny->id;
    verdict.reason = describe(*enforced_deny) + " denies " + access_text;
  } else if (would_deny) {
    verdict.would_deny = true;
    verdict.rule_id = would_deny->id;
    const char* why = "audit only: ";
    verdict.reason = why + describe(*would_deny) + " would deny " + access_text;
  } else if (allowed_by) {
    verdict.rule_id = allowed_by->id;
    verdict.reason = describe(*allowed_by) + " allows " + access_text;
  } else {
    verdict.reason = "no file access rule denies " + access_text;
  }
  return verdict;
}

}  // namespace ward::policy
