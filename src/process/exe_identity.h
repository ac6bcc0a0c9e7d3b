// Ward's stand-in for code signing: sha256 of an executable, the Debian
// package that owns it, and whether it still matches what dpkg recorded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ward/process.h"

namespace ward::process {

struct ExeIdentity {
  std::optional<std::string> sha256;   // lowercase hex; nullopt if unreadable
  std::optional<std::string> package;  // owning dpkg package, e.g. "coreutils"
  bool is_platform_binary = false;     // owned by a package and md5 matches dpkg's
};

class ExeIdentifier {
 public:
  virtual ~ExeIdentifier() = default;
  // `expected` is the identity the kernel reported for the executed file; a
  // file at `path` with a different identity was replaced since, and is not
  // hashed as if it were the one that ran. Thread-safe.
  virtual ExeIdentity identify(const std::string& path, const std::optional<FileStat>& expected) = 0;
};

}  // namespace ward::process
