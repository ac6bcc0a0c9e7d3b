#include "process/package_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ward::process {
namespace {

// Longer lines cannot be paths (PATH_MAX includes the NUL).
constexpr std::size_t kMaxPathLength = 4095;
// The biggest .list on a desktop is a few MiB; anything far beyond is not dpkg's.
constexpr std::size_t kMaxAdminFileBytes = 64u << 20;
constexpr std::size_t kMd5HexLength = 32;
constexpr std::size_t kArenaChunkBytes = 1u << 20;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

struct FileEntry {
  uint32_t package = 0;  // index into Snapshot::packages
  bool has_md5 = false;
  std::array<char, kMd5HexLength> md5{};
};

// Keys of the file map point into this: one allocation per MiB of paths
// instead of one per path, which is most of the load time otherwise.
class PathArena {
 public:
  std::string_view store(std::string_view head, bool slash, std::string_view tail) {
    std::size_t size = head.size() + (slash ? 1 : 0) + tail.size();
    if (chunks_.empty() || used_ + size > chunk_size_) {
      chunk_size_ = std::max(kArenaChunkBytes, size);
      chunks_.push_back(std::make_unique<char[]>(chunk_size_));
      used_ = 0;
    }
    char* out = chunks_.back().get() + used_;
    // memcpy with a null source is undefined even for 0 bytes; {} views are null.
    if (!head.empty()) std::memcpy(out, head.data(), head.size());
    if (slash) out[head.size()] = '/';
    if (!tail.empty()) std::memcpy(out + head.size() + (slash ? 1 : 0), tail.data(), tail.size());
    used_ += size;
    return {out, size};
  }

 private:
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::size_t chunk_size_ = 0;
  std::size_t used_ = 0;
};

using FileMap = std::unordered_map<std::string_view, FileEntry>;

// The md5sums paths of one package, so that its .list lines naming them are
// skipped cheaply: a small open-addressing table stays in cache, unlike the
// big file map, and spares place() for most lines.
class SmallViewSet {
 public:
  // Room for `capacity` views at load <= 1/2. Views must be non-empty.
  void reset(std::size_t capacity) {
    std::size_t slots = 16;
    while (slots < capacity * 2) slots <<= 1;
    slots_.assign(slots, std::string_view());
    used_ = 0;
  }
  void insert(std::string_view view) {
    if ((used_ + 1) * 2 > slots_.size()) return;  // cannot happen within reset()'s bound; stay safe
    std::size_t i = probe(view);
    if (slots_[i].empty()) {
      slots_[i] = view;
      ++used_;
    }
  }
  bool contains(std::string_view view) const { return !slots_.empty() && !slots_[probe(view)].empty(); }

 private:
  std::size_t probe(std::string_view view) const {
    std::size_t mask = slots_.size() - 1;
    std::size_t i = std::hash<std::string_view>{}(view)&mask;
    while (!slots_[i].empty() && slots_[i] != view) i = (i + 1) & mask;
    return i;
  }
  std::vector<std::string_view> slots_;
  std::size_t used_ = 0;
};

struct FileStamp {
  bool exists = false;
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_sec = 0;
  int64_t mtime_nsec = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  FileStamp stamp;
  stamp.exists = true;
  stamp.dev = static_cast<uint64_t>(st.st_dev);
  stamp.ino = static_cast<uint64_t>(st.st_ino);
  stamp.size = st.st_size;
  stamp.mtime_sec = st.st_mtim.tv_sec;
  stamp.mtime_nsec = st.st_mtim.tv_nsec;
  return stamp;
}

// What a reload compares: dpkg rewrites status on every (un)install, and
// dpkg-divert rewrites diversions.
struct Stamp {
  FileStamp status;
  FileStamp diversions;
  bool operator==(const Stamp&) const = default;
};

Stamp stamp_admin_dir(const std::string& admin_dir) {
  return Stamp{stamp_of(admin_dir + "/status"), stamp_of(admin_dir + "/diversions")};
}

// A reusable read buffer, not zero-filled on growth. Not via iostreams: this
// runs ~1600 times per load and must be quick.
class FileReader {
 public:
  // The whole regular file at `path`, if it has at most `max_bytes`.
  std::optional<std::string_view> read(const std::string& path, std::size_t max_bytes) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return std::nullopt;
    std::optional<std::string_view> text = read_fd(fd, max_bytes);
    ::close(fd);
    return text;
  }

 private:
  std::optional<std::string_view> read_fd(int fd, std::size_t max_bytes) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        static_cast<std::size_t>(st.st_size) > max_bytes) {
      return std::nullopt;
    }
    // +1 so that a file growing while we read is noticed without a second pass.
    reserve(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t used = 0;
    while (true) {
      if (used == capacity_) {
        if (capacity_ > max_bytes) return std::nullopt;
        reserve(std::min(capacity_ * 2, max_bytes + 1), used);
      }
      ssize_t n = ::read(fd, buffer_.get() + used, capacity_ - used);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::nullopt;
      if (n == 0) return std::string_view(buffer_.get(), used);
      used += static_cast<std::size_t>(n);
    }
  }

  void reserve(std::size_t bytes, std::size_t keep = 0) {
    if (bytes <= capacity_) return;
    auto bigger = std::make_unique<char[]>(bytes);
    if (keep > 0) std::memcpy(bigger.get(), buffer_.get(), keep);
    buffer_ = std::move(bigger);
    capacity_ = bytes;
  }

  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
};

template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    fn(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

char to_lower_hex(char c) { return (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c; }

// A listed path must be absolute, short enough, free of NULs, and not end in
// a "." or ".." component (the "/." root line is dpkg's own and skipped first).
bool is_plausible_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > kMaxPathLength) return false;
  if (path.find('\0') != std::string_view::npos) return false;
  std::string_view base = path.substr(path.rfind('/') + 1);
  return !base.empty() && base != "." && base != "..";
}

// "libc6:amd64" -> "libc6".
std::string_view package_of_stem(std::string_view stem) { return stem.substr(0, stem.find(':')); }

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// "/usr/bin" -> "/usr"; "/bin" -> "/".
std::string_view parent_of(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return path.substr(0, slash == 0 || slash == std::string_view::npos ? 1 : slash);
}

struct Diversion {
  std::string from;
  std::string to;
  std::string by;  // diverting package, or ":" for a local (admin) diversion
};

// dpkg's diversions file: triples of lines (from, to, diverting package).
std::vector<Diversion> load_diversions(FileReader& reader, const std::string& path, PackageDbStats& stats) {
  std::vector<Diversion> diversions;
  std::optional<std::string_view> text = reader.read(path, kMaxAdminFileBytes);
  if (!text) {
    if (stamp_of(path).exists) ++stats.unreadable_files;  // absent just means no diversions
    return diversions;
  }
  std::vector<std::string_view> lines;
  for_each_line(*text, [&](std::string_view line) { lines.push_back(line); });
  for (std::size_t i = 0; i + 2 < lines.size(); i += 3) {
    if (!is_plausible_path(lines[i]) || !is_plausible_path(lines[i + 1]) || lines[i + 2].empty()) {
      ++stats.skipped_lines;
      continue;
    }
    diversions.push_back(
        Diversion{std::string(lines[i]), std::string(lines[i + 1]), std::string(lines[i + 2])});
  }
  stats.skipped_lines += lines.size() % 3;
  return diversions;
}

// realpath(root + path), made root-relative again; nullopt if it does not
// resolve or a symlink leads out of the root.
std::optional<std::string> realpath_under_root(const std::string& root, const std::string& canonical_root,
                                               const std::string& path) {
  std::string full = root + path;
  char* resolved_c = ::realpath(full.c_str(), nullptr);
  if (resolved_c == nullptr) return std::nullopt;
  std::string resolved(resolved_c);
  std::free(resolved_c);
  if (canonical_root.empty()) return resolved;
  if (resolved == canonical_root) return std::string("/");
  if (resolved.size() > canonical_root.size() && resolved.starts_with(canonical_root) &&
      resolved[canonical_root.size()] == '/') {
    return resolved.substr(canonical_root.size());
  }
  return std::nullopt;
}

// Adds `dir` and all its ancestors to `dirs`.
void add_with_ancestors(StringSet& dirs, std::string_view dir) {
  while (dirs.emplace(dir).second && dir.size() > 1) dir = parent_of(dir);
}

}  // namespace

struct PackageDb::Snapshot {
  std::vector<std::string> packages;
  PathArena arena;  // owns the keys of `files`
  FileMap files;
  PackageDbStats stats;
  Stamp stamp;
};

namespace {

// One load of the admin dir into a fresh snapshot.
class Loader {
 public:
  Loader(const PackageDbOptions& options, std::vector<std::string>& packages, PathArena& arena,
         FileMap& files, PackageDbStats& stats)
      : options_(options), packages_(packages), arena_(arena), files_(files), stats_(stats) {
    if (!options_.root.empty()) {
      char* resolved = ::realpath(options_.root.c_str(), nullptr);
      if (resolved != nullptr) {
        canonical_root_ = resolved;
        std::free(resolved);
      } else {
        root_missing_ = true;
      }
    }
  }

  void load() {
    diversions_ = load_diversions(list_reader_, options_.admin_dir + "/diversions", stats_);
    std::string info_dir = options_.admin_dir + "/info";

    // stem ("libc6:amd64") -> whether .list / .md5sums exist. Sorted, so that
    // "the later package wins" is deterministic.
    std::map<std::string, std::pair<bool, bool>> stems;
    std::error_code error;
    for (std::filesystem::directory_iterator it(info_dir, error), end; !error && it != end;
         it.increment(error)) {
      std::string name = it->path().filename().string();
      if (name.ends_with(".list") && name.size() > 5) {
        stems[name.substr(0, name.size() - 5)].first = true;
      } else if (name.ends_with(".md5sums") && name.size() > 8) {
        stems[name.substr(0, name.size() - 8)].second = true;
      }
    }
    if (error) {
      ++stats_.unreadable_files;
      if (stems.empty()) return;  // else use what was listed before the error
    }
    // ~130k paths on a desktop; rehashing while growing is a visible cost.
    files_.reserve(stems.size() * 160);

    std::map<std::string, uint32_t, std::less<>> package_index;
    for (const auto& [stem, kinds] : stems) {
      std::string_view name = package_of_stem(stem);
      if (name.empty()) continue;
      auto [it, added] =
          package_index.try_emplace(std::string(name), static_cast<uint32_t>(packages_.size()));
      if (added) packages_.emplace_back(name);
      package_ = it->second;
      package_name_ = it->first;
      // md5sums first, so a .list line can tell it was already recorded.
      std::string path = info_dir;
      path.append("/").append(stem);
      // md5sums first, so that the .list lines it covers can be skipped.
      md5_paths_.reset(0);
      if (kinds.second) load_md5sums(path + ".md5sums");
      if (kinds.first) load_list(path + ".list");
    }

    for (const Candidate& candidate : candidates_) {
      if (directories_.contains(candidate.path)) continue;  // some listed path lives below it
      struct stat st {};
      std::string on_disk = options_.root + std::string(candidate.path);
      if (::stat(on_disk.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;  // an empty listed dir
      add_file(candidate.path, FileEntry{candidate.package, false, {}});
    }
    stats_.directories = dir_cache_.size();
  }

 private:
  struct Candidate {
    std::string_view path;  // canonical, in the arena
    uint32_t package;
  };

  // Lines "<32 hex>  <path without leading slash>" ("<hex> *<path>" from md5sum -b).
  void load_md5sums(const std::string& path) {
    // Stays valid while the package's .list is read: md5_paths_ points into it.
    std::optional<std::string_view> text = md5_reader_.read(path, kMaxAdminFileBytes);
    if (!text) {
      ++stats_.unreadable_files;
      return;
    }
    md5_paths_.reset(text->size() / (kMd5HexLength + 3) + 1);  // no more lines than that
    for_each_line(*text, [&](std::string_view line) {
      if (line.size() < kMd5HexLength + 3 || line[kMd5HexLength] != ' ' ||
          (line[kMd5HexLength + 1] != ' ' && line[kMd5HexLength + 1] != '*') ||
          !std::all_of(line.begin(), line.begin() + kMd5HexLength, is_hex)) {
        ++stats_.skipped_lines;
        return;
      }
      std::string_view rel = line.substr(kMd5HexLength + 2);
      while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
      raw_.assign(1, '/');
      raw_.append(rel);
      if (!is_plausible_path(raw_)) {
        ++stats_.skipped_lines;
        return;
      }
      FileEntry entry{package_, true, {}};
      std::transform(line.begin(), line.begin() + kMd5HexLength, entry.md5.begin(), to_lower_hex);
      md5_paths_.insert(rel);
      add_file(arena_.store(place(raw_), false, {}), entry);
    });
  }

  void load_list(const std::string& path) {
    std::optional<std::string_view> text = list_reader_.read(path, kMaxAdminFileBytes);
    if (!text) {
      ++stats_.unreadable_files;
      return;
    }
    for_each_line(*text, [&](std::string_view line) {
      if (line == "/.") return;  // dpkg's entry for the root directory
      if (!is_plausible_path(line)) {
        ++stats_.skipped_lines;
        return;
      }
      if (md5_paths_.contains(line.substr(1))) return;  // recorded from md5sums
      std::string_view placed = place(line);
      // No md5: a directory, symlink or conffile. Whether it is a directory
      // is only known once every package has been read.
      candidates_.push_back(Candidate{arena_.store(placed, false, {}), package_});
    });
  }

  // Where a listed path really is: after dpkg-divert, with its directory
  // canonicalised (usr-merge: /bin/echo -> /usr/bin/echo). The view is valid
  // until the next call.
  std::string_view place(std::string_view raw) {
    for (const Diversion& diversion : diversions_) {
      if (diversion.from == raw && diversion.by != package_name_) {
        raw = diversion.to;
        break;
      }
    }
    std::string_view dir = parent_of(raw);
    std::string_view base = raw.substr(raw.rfind('/') + 1);
    // Consecutive lines mostly share a directory: skip the hash lookup then.
    if (last_dir_ == nullptr || *last_dir_ != dir) {
      auto it = dir_cache_.find(dir);
      if (it == dir_cache_.end()) it = canonicalize_listed_dir(std::string(dir));
      last_dir_ = &it->first;
      last_canonical_dir_ = &it->second;
    }
    const std::string& canonical_dir = *last_canonical_dir_;
    placed_.assign(canonical_dir);
    if (canonical_dir != "/") placed_ += '/';
    placed_.append(base);
    return placed_;
  }

  StringMap<std::string>::iterator canonicalize_listed_dir(const std::string& dir) {
    std::string canonical;
    if (options_.canonicalize_dir) {
      std::optional<std::string> mapped = options_.canonicalize_dir(dir);
      canonical =
          strip_trailing_slashes(mapped && !mapped->empty() && mapped->front() == '/' ? *mapped : dir);
    } else {
      canonical = resolve(dir);
    }
    add_with_ancestors(directories_, dir);
    add_with_ancestors(directories_, canonical);
    return dir_cache_.insert_or_assign(dir, std::move(canonical)).first;
  }

  // realpath() of `dir` under the root, memoised per directory and built on
  // the parent's answer: one lstat per directory instead of one readlink per
  // component. Equivalent because a canonical parent plus a non-symlink,
  // non-dot component is canonical.
  std::string resolve(const std::string& dir) {
    if (root_missing_) return dir;
    // Walk up to the nearest directory already resolved (a loop, not
    // recursion: garbage paths can be 2000 components deep), then back down.
    std::vector<std::string_view> pending;
    std::string canonical = "/";
    for (std::string_view cursor = dir; cursor.size() > 1; cursor = parent_of(cursor)) {
      if (auto it = dir_cache_.find(cursor); it != dir_cache_.end()) {
        canonical = it->second;
        break;
      }
      pending.push_back(cursor);
    }
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      std::string_view base = it->substr(it->rfind('/') + 1);
      std::string joined = canonical;
      if (joined != "/") joined += '/';
      joined += base;
      canonical = joined;
      struct stat st {};
      if (base.empty() || base == "." || base == ".." ||
          (::lstat((options_.root + joined).c_str(), &st) == 0 && S_ISLNK(st.st_mode))) {
        canonical = realpath_under_root(options_.root, canonical_root_, joined).value_or(joined);
      }
      // A missing directory stays as joined: nothing there can be executed anyway.
      dir_cache_.insert_or_assign(std::string(*it), canonical);
    }
    return canonical;
  }

  // Several packages may list one path: one whose md5sums lists it beats one
  // that only lists it; otherwise the later one wins.
  void add_file(std::string_view path, const FileEntry& entry) {
    auto [it, inserted] = files_.try_emplace(path, entry);
    if (!inserted && (entry.has_md5 || !it->second.has_md5)) it->second = entry;
  }

  const PackageDbOptions& options_;
  std::vector<std::string>& packages_;
  PathArena& arena_;
  FileMap& files_;
  PackageDbStats& stats_;
  std::string canonical_root_;  // realpath(root); "" for the host
  bool root_missing_ = false;
  FileReader md5_reader_;
  FileReader list_reader_;
  SmallViewSet md5_paths_;             // this package's md5sums paths, without the leading '/'
  std::vector<Diversion> diversions_;  // a handful: a linear scan beats hashing every path
  StringMap<std::string> dir_cache_;   // listed dir (and its ancestors) -> canonical dir
  const std::string* last_dir_ = nullptr;
  const std::string* last_canonical_dir_ = nullptr;
  StringSet directories_;  // every listed or canonical dir, with ancestors
  std::vector<Candidate> candidates_;
  std::string raw_;     // scratch for md5sums paths
  std::string placed_;  // scratch for place()
  uint32_t package_ = 0;
  std::string package_name_;
};

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

PackageDbOptions with_admin_dir(std::string admin_dir) {
  PackageDbOptions options;
  options.admin_dir = std::move(admin_dir);
  return options;
}

}  // namespace

PackageDb::PackageDb(std::string admin_dir) : PackageDb(with_admin_dir(std::move(admin_dir))) {}

PackageDb::PackageDb(PackageDbOptions options) : options_(std::move(options)) {
  options_.root = strip_trailing_slashes(options_.root);
  if (options_.root == "/") options_.root.clear();
  snapshot_ = load(options_, 1);
  last_check_ns_.store(steady_now_ns());
}

PackageDb::~PackageDb() = default;

std::shared_ptr<const PackageDb::Snapshot> PackageDb::load(const PackageDbOptions& options,
                                                           uint64_t generation) {
  auto started = std::chrono::steady_clock::now();
  auto snapshot = std::make_shared<Snapshot>();
  // Stamp first: a change that lands during the load is then seen next time.
  snapshot->stamp = stamp_admin_dir(options.admin_dir);
  Loader(options, snapshot->packages, snapshot->arena, snapshot->files, snapshot->stats).load();
  PackageDbStats& stats = snapshot->stats;
  stats.packages = snapshot->packages.size();
  stats.files = snapshot->files.size();
  stats.files_with_md5 = static_cast<std::size_t>(std::count_if(
      snapshot->files.begin(), snapshot->files.end(), [](const auto& file) { return file.second.has_md5; }));
  stats.generation = generation;
  stats.load_time =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started);
  return snapshot;
}

std::optional<PackageFile> PackageDb::lookup(std::string_view absolute_path) const {
  maybe_reload();
  std::shared_ptr<const Snapshot> snapshot = current();
  auto it = snapshot->files.find(absolute_path);
  if (it == snapshot->files.end()) return std::nullopt;
  PackageFile file{snapshot->packages[it->second.package], std::nullopt};
  if (it->second.has_md5) file.md5.emplace(it->second.md5.begin(), it->second.md5.end());
  return file;
}

void PackageDb::maybe_reload() const {
  if (options_.reload_check_interval.count() < 0) return;
  // Saturate rather than overflow when converting a huge interval.
  constexpr int64_t kMaxIntervalMs = std::numeric_limits<int64_t>::max() / 1000000;
  int64_t interval_ns = std::min<int64_t>(options_.reload_check_interval.count(), kMaxIntervalMs) * 1000000;
  int64_t now = steady_now_ns();
  int64_t last = last_check_ns_.load(std::memory_order_relaxed);
  if (now - last < interval_ns) return;
  // One thread per interval does the check; the others go on with the old data.
  if (!last_check_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  reload_if_changed();
}

bool PackageDb::reload_if_changed() const {
  std::unique_lock reload_lock(reload_mutex_, std::try_to_lock);
  if (!reload_lock.owns_lock()) return false;
  Stamp now = stamp_admin_dir(options_.admin_dir);
  std::shared_ptr<const Snapshot> old = current();
  if (now == old->stamp) return false;
  // Lookups keep using `old` meanwhile.
  std::shared_ptr<const Snapshot> fresh = load(options_, old->stats.generation + 1);
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_.swap(fresh);
  }
  return true;  // `old` is usually the last reference: the old data is freed here, not in a lookup
}

std::shared_ptr<const PackageDb::Snapshot> PackageDb::current() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

PackageDbStats PackageDb::stats() const { return current()->stats; }

}  // namespace ward::process
