// The ExeIdentifier that hashes executables once per file identity and asks
// the PackageDb who owns them.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "process/exe_identity.h"
#include "process/package_db.h"
#include "ward/process.h"

namespace ward::process {

// An open executable: the two things identify() does with it, so tests can
// count reads.
class ExeFile {
 public:
  virtual ~ExeFile() = default;
  virtual std::optional<FileStat> stat() = 0;  // fstat
  // Up to buffer.size() bytes; 0 at end of file, -1 on error.
  virtual ssize_t read(std::span<unsigned char> buffer) = 0;
};

class ExeFileOpener {
 public:
  virtual ~ExeFileOpener() = default;
  // nullptr if it cannot be opened (missing, unreadable, a symlink).
  virtual std::unique_ptr<ExeFile> open(const std::string& path) = 0;
};

// open(root + path, O_RDONLY|O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK). `root` is for
// tests, like PackageDbOptions::root.
std::unique_ptr<ExeFileOpener> make_posix_exe_file_opener(std::string root = "");

struct ExeIdentifierOptions {
  std::size_t max_entries = 4096;        // cached file identities
  int64_t max_hash_bytes = 256ll << 20;  // bigger files are not hashed
  std::size_t read_buffer_bytes = 128u << 10;
};

struct ExeIdentifierStats {
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  uint64_t evictions = 0;
  uint64_t bytes_hashed = 0;
};

class CachingExeIdentifier final : public ExeIdentifier {
 public:
  // `db` may be null: then only sha256 is reported. `opener` null: the real
  // file system.
  CachingExeIdentifier(std::shared_ptr<const PackageDb> db, ExeIdentifierOptions options = {},
                       std::unique_ptr<ExeFileOpener> opener = nullptr);
  ~CachingExeIdentifier() override;
  CachingExeIdentifier(const CachingExeIdentifier&) = delete;
  CachingExeIdentifier& operator=(const CachingExeIdentifier&) = delete;

  // Nothing is reported (all nullopt/false) if `path` cannot be opened, is
  // not a regular file, differs from `expected` in (dev, ino, size, mtime,
  // ctime), or changed while being hashed. Files over max_hash_bytes get no
  // sha256 and are never platform binaries. Thread-safe.
  ExeIdentity identify(const std::string& path, const std::optional<FileStat>& expected) override;

  ExeIdentifierStats stats() const;

 private:
  struct Digests;  // OpenSSL state, kept out of this header
  struct CacheKey {
    uint64_t dev, ino;
    int64_t size;
    Timespec mtime, ctime;
    bool operator==(const CacheKey&) const = default;
  };
  struct CacheKeyHash {
    std::size_t operator()(const CacheKey& key) const noexcept;
  };
  struct Hashes {
    std::string sha256;
    std::optional<std::string> md5;  // only computed when a package md5 was to be checked
  };
  using LruList = std::list<std::pair<CacheKey, Hashes>>;  // most recently used first

  std::optional<Hashes> cached(const CacheKey& key, bool need_md5);
  void remember(const CacheKey& key, Hashes hashes);
  std::optional<Hashes> hash_file(ExeFile& file, bool with_md5);

  std::shared_ptr<const PackageDb> db_;
  ExeIdentifierOptions options_;
  std::unique_ptr<ExeFileOpener> opener_;
  std::unique_ptr<Digests> digests_;

  mutable std::mutex cache_mutex_;  // guards lru_, index_, stats_
  LruList lru_;
  std::unordered_map<CacheKey, LruList::iterator, CacheKeyHash> index_;
  ExeIdentifierStats stats_;
};

std::unique_ptr<ExeIdentifier> make_exe_identifier(std::shared_ptr<const PackageDb> db,
                                                   std::size_t max_entries = 4096);

}  // namespace ward::process
