// PathMatcher: one path pattern of a policy rule (literal, prefix or glob).
//
// Paths are compared byte for byte, as the kernel reports them (absolute,
// normalised, no locale, no case folding).
//
//   Literal  the whole path equals the pattern.
//   Prefix   the path starts with the pattern. A raw string prefix: write
//            "/srv/data/" for a directory tree, "/srv/data" also matches
//            "/srv/database".
//   Glob     fnmatch(3) with FNM_PATHNAME, plus '**':
//              *      any run of characters except '/'
//              ?      one character except '/'
//              [...]  one character from a set: ranges "a-z", classes
//                     "[:digit:]" etc. (ASCII), negation "[!...]" or
//                     "[^...]", a ']' first in the set is literal; never
//                     '/' (naming '/' in a set is an error)
//              **     any run of characters including '/' (also inside a
//                     component: "/a**z" matches "/a/b/z")
//              /**/   zero or more whole directories: "/srv/**/*.key"
//                     matches "/srv/a.key" and "/srv/x/y/a.key"
//              \c     the character c itself
//            A leading '.' is not special (no FNM_PERIOD). "/srv/**" matches
//            everything below "/srv/" but not "/srv" itself.
//
// Patterns are validated when made, so a PathMatcher that exists is usable:
// literals and prefixes must be absolute; a glob must start with '/' or '**'
// (paths are absolute, so anything else could never match); an unbalanced '['
// (fnmatch would take it literally), an unknown class, a reversed range, a '/'
// in a set or a trailing '\' is an error.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ward/status.h"

namespace ward::policy {

class PathMatcher {
 public:
  enum class Kind : uint8_t { Literal, Prefix, Glob };

  // The empty literal: matches only "", which the kernel never reports.
  PathMatcher() = default;

  // Validates `pattern` for `kind`; the error message is the bare reason
  // (the YAML loader adds file and line).
  static Result<PathMatcher> create(Kind kind, std::string pattern);
  static Result<PathMatcher> literal(std::string pattern) {
    return create(Kind::Literal, std::move(pattern));
  }
  static Result<PathMatcher> prefix(std::string pattern) { return create(Kind::Prefix, std::move(pattern)); }
  static Result<PathMatcher> glob(std::string pattern) { return create(Kind::Glob, std::move(pattern)); }

  Kind kind() const { return kind_; }
  const std::string& pattern() const { return pattern_; }
  bool matches(std::string_view path) const;

  // A glob compiles to tokens, matched by a small NFA simulation: time is
  // O(path length x pattern length), never exponential, whatever the stars.
  struct GlobToken {
    enum class Type : uint8_t { Char, AnyChar, Set, Star, DoubleStar };
    Type type = Type::Char;
    unsigned char ch = 0;         // Type::Char
    bool may_skip_slash = false;  // DoubleStar of "/**/": may also swallow the next '/'
    std::bitset<256> set;         // Type::Set; never contains '/'
  };

 private:
  Kind kind_ = Kind::Literal;
  std::string pattern_;
  std::string glob_literal_head_;  // the glob's leading literal text: a cheap pre-check
  std::vector<GlobToken> glob_;
};

std::string_view to_string(PathMatcher::Kind kind);

}  // namespace ward::policy
