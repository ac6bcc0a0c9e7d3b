#include "policy/path_matcher.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace ward::policy {
namespace {

using Token = PathMatcher::GlobToken;

// POSIX bracket classes, ASCII only so matching never depends on the locale.
std::optional<std::bitset<256>> character_class(std::string_view name) {
  auto in = [](int c, int lo, int hi) { return c >= lo && c <= hi; };
  auto upper = [&](int c) { return in(c, 'A', 'Z'); };
  auto lower = [&](int c) { return in(c, 'a', 'z'); };
  auto digit = [&](int c) { return in(c, '0', '9'); };
  auto graph = [&](int c) { return in(c, 0x21, 0x7e); };
  auto alpha = [&](int c) { return upper(c) || lower(c); };
  auto alnum = [&](int c) { return alpha(c) || digit(c); };
  std::bitset<256> set;
  auto fill = [&](auto predicate) {
    for (int c = 0; c < 128; ++c) set[static_cast<size_t>(c)] = predicate(c);
  };
  if (name == "alpha") {
    fill(alpha);
  } else if (name == "digit") {
    fill(digit);
  } else if (name == "alnum") {
    fill(alnum);
  } else if (name == "upper") {
    fill(upper);
  } else if (name == "lower") {
    fill(lower);
  } else if (name == "xdigit") {
    fill([&](int c) { return digit(c) || in(c, 'a', 'f') || in(c, 'A', 'F'); });
  } else if (name == "space") {
    fill([&](int c) { return c == ' ' || in(c, '\t', '\r'); });
  } else if (name == "blank") {
    fill([](int c) { return c == ' ' || c == '\t'; });
  } else if (name == "punct") {
    fill([&](int c) { return graph(c) && !alnum(c); });
  } else if (name == "graph") {
    fill(graph);
  } else if (name == "print") {
    fill([&](int c) { return graph(c) || c == ' '; });
  } else if (name == "cntrl") {
    fill([](int c) { return c < 0x20 || c == 0x7f; });
  } else {
    return std::nullopt;
  }
  return set;
}

// Parses the bracket expression starting at pattern[pos] == '['. On success
// returns the set and leaves pos after the closing ']'.
Result<Token> parse_bracket(std::string_view pattern, size_t& pos) {
  const size_t open = pos;
  auto unbalanced = [&] { return Status::error("unbalanced '[' at offset " + std::to_string(open)); };
  ++pos;
  Token token;
  token.type = Token::Type::Set;
  bool negate = false;
  if (pos < pattern.size() && (pattern[pos] == '!' || pattern[pos] == '^')) {
    negate = true;
    ++pos;
  }
  // Reads one set member (an escaped or plain character); false at the end.
  auto read_char = [&](unsigned char& out) {
    if (pos < pattern.size() && pattern[pos] == '\\') ++pos;
    if (pos >= pattern.size()) return false;
    out = static_cast<unsigned char>(pattern[pos++]);
    return true;
  };
  bool first = true;
  while (true) {
    if (pos >= pattern.size()) return unbalanced();
    if (pattern[pos] == ']' && !first) {
      ++pos;
      break;
    }
    first = false;
    if (pattern.substr(pos, 2) == "[:") {
      const size_t close = pattern.find(":]", pos + 2);
      if (close == std::string_view::npos) return unbalanced();
      const std::string_view name = pattern.substr(pos + 2, close - pos - 2);
      auto members = character_class(name);
      if (!members) return Status::error("unknown character class '[:" + std::string(name) + ":]'");
      token.set |= *members;
      pos = close + 2;
      continue;
    }
    if (pattern.substr(pos, 2) == "[." || pattern.substr(pos, 2) == "[=") {
      return Status::error("collating symbols and equivalence classes ('[.' '[=') are not supported");
    }
    unsigned char lo = 0;
    if (!read_char(lo)) return unbalanced();
    unsigned char hi = lo;
    // "a-z" is a range; a '-' last in the set ("[a-]") is literal.
    if (pos + 1 < pattern.size() && pattern[pos] == '-' && pattern[pos + 1] != ']') {
      ++pos;
      if (!read_char(hi)) return unbalanced();
      if (hi < lo) {
        return Status::error("invalid range '" + std::string(1, static_cast<char>(lo)) + "-" +
                             std::string(1, static_cast<char>(hi)) + "' in '[...]'");
      }
    }
    // FNM_PATHNAME: a set never matches '/', so naming it is a mistake (and
    // fnmatch implementations disagree on what it means).
    if (lo <= '/' && '/' <= hi) return Status::error("'/' inside '[...]' can never match");
    for (unsigned c = lo; c <= hi; ++c) token.set.set(c);
  }
  if (negate) token.set.flip();
  token.set.reset('/');  // FNM_PATHNAME: only a literal '/' matches '/', even for "[!a]"
  return token;
}

Result<std::vector<Token>> compile_glob(std::string_view pattern) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (pos < pattern.size()) {
    const char c = pattern[pos];
    if (c == '*') {
      size_t stars = 0;
      const bool after_slash =
          tokens.empty() || (tokens.back().type == Token::Type::Char && tokens.back().ch == '/');
      while (pos < pattern.size() && pattern[pos] == '*') {
        ++stars;
        ++pos;
      }
      Token token;
      token.type = stars == 1 ? Token::Type::Star : Token::Type::DoubleStar;
      token.may_skip_slash = stars > 1 && after_slash && pos < pattern.size() && pattern[pos] == '/';
      tokens.push_back(token);
    } else if (c == '?') {
      Token token;
      token.type = Token::Type::AnyChar;
      tokens.push_back(token);
      ++pos;
    } else if (c == '[') {
      auto token = parse_bracket(pattern, pos);
      if (!token) return token.status();
      tokens.push_back(std::move(token.value()));
    } else {
      if (c == '\\') {
        ++pos;
        if (pos >= pattern.size()) return Status::error("trailing '\\' escapes nothing");
      }
      Token token;
      token.type = Token::Type::Char;
      token.ch = static_cast<unsigned char>(pattern[pos++]);
      tokens.push_back(token);
    }
  }
  return tokens;
}

// Adds the states reachable without consuming input. Epsilon moves only go
// forward (a star may match nothing), so one ascending pass is enough.
void close_states(const std::vector<Token>& tokens, std::vector<uint8_t>& states) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!states[i]) continue;
    const Token& t = tokens[i];
    if (t.type == Token::Type::Star || t.type == Token::Type::DoubleStar) {
      states[i + 1] = 1;
      if (t.may_skip_slash) states[i + 2] = 1;  // the next token is that '/'
    }
  }
}

bool glob_matches(const std::vector<Token>& tokens, std::string_view path) {
  const size_t n = tokens.size();
  std::vector<uint8_t> current(n + 1, 0);
  std::vector<uint8_t> next(n + 1, 0);
  current[0] = 1;
  close_states(tokens, current);
  for (const char raw : path) {
    const auto ch = static_cast<unsigned char>(raw);
    std::fill(next.begin(), next.end(), 0);
    bool alive = false;
    for (size_t i = 0; i < n; ++i) {
      if (!current[i]) continue;
      const Token& t = tokens[i];
      size_t target = n + 1;  // none
      switch (t.type) {
        case Token::Type::Char:
          if (ch == t.ch) target = i + 1;
          break;
        case Token::Type::AnyChar:
          if (ch != '/') target = i + 1;
          break;
        case Token::Type::Set:
          if (t.set[ch]) target = i + 1;
          break;
        case Token::Type::Star:
          if (ch != '/') target = i;
          break;
        case Token::Type::DoubleStar:
          target = i;
          break;
      }
      if (target <= n) {
        next[target] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    close_states(tokens, next);
    current.swap(next);
  }
  return current[n] != 0;
}

}  // namespace

Result<PathMatcher> PathMatcher::create(Kind kind, std::string pattern) {
  if (pattern.empty()) return Status::error("empty path pattern");
  if (pattern.find('\0') != std::string::npos) return Status::error("path pattern contains a NUL byte");
  PathMatcher matcher;
  matcher.kind_ = kind;
  if (kind == Kind::Glob) {
    if (pattern[0] != '/' && pattern.rfind("**", 0) != 0) {
      return Status::error("glob '" + pattern + "' must start with '/' or '**'");
    }
    auto tokens = compile_glob(pattern);
    if (!tokens) return Status::error("bad glob '" + pattern + "': " + tokens.status().message());
    matcher.glob_ = std::move(tokens.value());
    for (const Token& t : matcher.glob_) {
      if (t.type != Token::Type::Char) break;
      matcher.glob_literal_head_.push_back(static_cast<char>(t.ch));
    }
  } else if (pattern[0] != '/') {
    return Status::error(std::string(to_string(kind)) + " '" + pattern + "' must be an absolute path");
  }
  matcher.pattern_ = std::move(pattern);
  return matcher;
}

bool PathMatcher::matches(std::string_view path) const {
  switch (kind_) {
    case Kind::Literal:
      return path == pattern_;
    case Kind::Prefix:
      return path.starts_with(pattern_);
    case Kind::Glob:
      return path.starts_with(glob_literal_head_) && glob_matches(glob_, path);
  }
  return false;
}

std::string_view to_string(PathMatcher::Kind kind) {
  switch (kind) {
    case PathMatcher::Kind::Literal:
      return "literal";
    case PathMatcher::Kind::Prefix:
      return "prefix";
    case PathMatcher::Kind::Glob:
      return "glob";
  }
  return "?";
}

}  // namespace ward::policy
