// Small helpers both YAML loaders (the policy file, wardd's config) use for
// their "FILE:LINE: reason" messages.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

namespace ward::yaml_nodes {

// 1-based line of `node`, or `fallback` when yaml-cpp has no mark for it.
inline int line_of(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

// "null", "a string", "a sequence", "a mapping": for "got ..." in messages.
inline std::string type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null";
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a mapping";
  }
  return "?";
}

// "a, b, c": the expected values in messages.
inline std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

}  // namespace ward::yaml_nodes
