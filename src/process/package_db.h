// Which Debian package owns a file, and the md5 dpkg recorded for it: read
// from dpkg's admin dir (info/*.list, info/*.md5sums, diversions) and kept
// fresh by reloading when dpkg's status file changes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ward::process {

struct PackageFile {
  std::string package;             // e.g. "coreutils" (no ":arch")
  std::optional<std::string> md5;  // lowercase hex; nullopt if dpkg recorded none (conffiles, symlinks)
  bool operator==(const PackageFile&) const = default;
};

struct PackageDbStats {
  std::size_t packages = 0;  // package names seen (a name with several archs counts once)
  std::size_t files = 0;     // paths recorded (directories excluded)
  std::size_t files_with_md5 = 0;
  std::size_t directories = 0;       // distinct listed directories canonicalised
  std::size_t skipped_lines = 0;     // garbage, overlong or malformed lines
  std::size_t unreadable_files = 0;  // admin dir, .list or .md5sums that could not be read
  std::chrono::nanoseconds load_time{0};
  uint64_t generation = 0;  // 1 after the first load, +1 per reload
};

struct PackageDbOptions {
  std::string admin_dir = "/var/lib/dpkg";
  // Where the listed paths live: "" for the host, a temp dir in tests. Paths
  // stay root-relative in lookups ("/usr/bin/echo", not "<root>/usr/bin/echo").
  std::string root;
  // How often lookup() may stat the status file to notice package changes;
  // the lookup that notices one does the reload (~200 ms on a desktop).
  // Zero checks on every lookup. Negative: lookup() never checks, call
  // reload_if_changed() yourself (e.g. from a timer thread).
  std::chrono::milliseconds reload_check_interval = std::chrono::seconds(5);
  // Maps a listed directory ("/bin", as dpkg wrote it) to its canonical form
  // ("/usr/bin"); nullopt keeps it as listed. Default: realpath under `root`.
  // Called once per distinct directory per load.
  std::function<std::optional<std::string>(const std::string& dir)> canonicalize_dir;
};

class PackageDb {
 public:
  explicit PackageDb(std::string admin_dir = "/var/lib/dpkg");
  explicit PackageDb(PackageDbOptions options);
  ~PackageDb();
  PackageDb(const PackageDb&) = delete;
  PackageDb& operator=(const PackageDb&) = delete;

  // `absolute_path` must be canonical, as the kernel reports an executable
  // ("/usr/bin/echo"; "/bin/echo" misses on usr-merged systems). May reload
  // first (see reload_check_interval). Thread-safe.
  std::optional<PackageFile> lookup(std::string_view absolute_path) const;

  // Reloads now if status or diversions changed since the last load,
  // regardless of the interval. Returns whether it reloaded. Thread-safe; if
  // another thread is already reloading, returns false at once.
  bool reload_if_changed() const;

  PackageDbStats stats() const;

 private:
  struct Snapshot;

  static std::shared_ptr<const Snapshot> load(const PackageDbOptions& options, uint64_t generation);
  void maybe_reload() const;
  std::shared_ptr<const Snapshot> current() const;

  PackageDbOptions options_;

  // Swapped whole on reload; lookups copy the pointer under a plain mutex and
  // search without a lock. Not a shared_mutex held across the search: glibc's
  // rwlock prefers readers, and steady lookups starved the reload's exclusive
  // lock in tests. Not std::atomic<shared_ptr>: libstdc++ 12's trips TSan.
  mutable std::mutex snapshot_mutex_;
  mutable std::shared_ptr<const Snapshot> snapshot_;
  mutable std::mutex reload_mutex_;                // one loader at a time
  mutable std::atomic<int64_t> last_check_ns_{0};  // steady clock
};

}  // namespace ward::process
