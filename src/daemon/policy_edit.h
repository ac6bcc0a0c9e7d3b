// `ward rules add|remove|list` on wardd's side: the policy in force as JSON,
// and a new policy file with one rule more or less, validated by the policy
// loader itself before it replaces the old file.
//
// The new file is rendered from the rules (comments in the old file are not
// kept; the old file stays next to it as FILE.bak). Every value is written
// as a quoted string, so nothing a rule holds can change the YAML around it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "policy/policy.h"
#include "ward/status.h"

namespace ward::daemon {

// A rule as its YAML mapping would read ({"id":…, "sha256":…, "policy":…});
// with_line adds "line" (where it is in the file) for listings.
nlohmann::ordered_json rule_json(const policy::BinaryRule& rule, bool with_line = false);
nlohmann::ordered_json rule_json(const policy::FileAccessRule& rule, bool with_line = false);
nlohmann::ordered_json rule_json(const NetworkRule& rule);

// The whole policy as a file parse_policy() reads back to the same rules.
std::string render_policy(const policy::Policy& policy, policy::Mode mode);

// `section` is "binary_rules" or "file_access_rules"; `rule` the mapping.
// Errors say what is wrong with the rule ("new rule: unknown field 'x' …",
// "a rule with id 'x' already exists …") and change nothing.
Result<policy::Policy> with_rule_added(const policy::Policy& current, const std::string& section,
                                       const nlohmann::json& rule);
Result<policy::Policy> with_rule_removed(const policy::Policy& current, const std::string& id);

// Replaces `path` atomically (same directory, fsync, rename), keeping its
// owner and mode; the previous file is kept as PATH.bak.
Status replace_policy_file(const std::string& path, const std::string& text);

}  // namespace ward::daemon
