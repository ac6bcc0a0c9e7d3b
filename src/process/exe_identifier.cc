#include "process/exe_identifier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include <openssl/evp.h>

namespace ward::process {
namespace {

constexpr std::size_t kMinReadBuffer = 4u << 10;
constexpr std::size_t kMaxReadBuffer = 1u << 20;

FileStat to_file_stat(const struct stat& st) {
  FileStat out;
  out.dev = static_cast<uint64_t>(st.st_dev);
  out.ino = static_cast<uint64_t>(st.st_ino);
  out.mode = static_cast<uint32_t>(st.st_mode);
  out.uid = static_cast<uint32_t>(st.st_uid);
  out.gid = static_cast<uint32_t>(st.st_gid);
  out.size = static_cast<int64_t>(st.st_size);
  out.mtime = Timespec{static_cast<int64_t>(st.st_mtim.tv_sec), static_cast<uint32_t>(st.st_mtim.tv_nsec)};
  out.ctime = Timespec{static_cast<int64_t>(st.st_ctim.tv_sec), static_cast<uint32_t>(st.st_ctim.tv_nsec)};
  return out;
}

// The fields that change when a file is replaced or rewritten. Mode and
// owner are left out: chmod/chown bump ctime anyway.
bool same_identity(const FileStat& a, const FileStat& b) {
  return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime == b.mtime && a.ctime == b.ctime;
}

class PosixExeFile final : public ExeFile {
 public:
  explicit PosixExeFile(int fd) : fd_(fd) {}
  ~PosixExeFile() override { ::close(fd_); }
  PosixExeFile(const PosixExeFile&) = delete;
  PosixExeFile& operator=(const PosixExeFile&) = delete;

  std::optional<FileStat> stat() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return std::nullopt;
    return to_file_stat(st);
  }

  ssize_t read(std::span<unsigned char> buffer) override {
    while (true) {
      ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n >= 0 || errno != EINTR) return n;
    }
  }

 private:
  int fd_;
};

class PosixExeFileOpener final : public ExeFileOpener {
 public:
  explicit PosixExeFileOpener(std::string root) : root_(std::move(root)) {}

  std::unique_ptr<ExeFile> open(const std::string& path) override {
    // NOFOLLOW: the kernel reports the resolved path, so a symlink here was
    // put in after the exec. NONBLOCK: a FIFO must not hang us before fstat.
    std::string full = root_ + path;
    int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return nullptr;
    return std::make_unique<PosixExeFile>(fd);
  }

 private:
  std::string root_;
};

std::string to_hex(const unsigned char* bytes, unsigned int size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(static_cast<std::size_t>(size) * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    hex[2 * i] = kDigits[bytes[i] >> 4];
    hex[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return hex;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

MdCtx start_digest(const EVP_MD* md) {
  if (md == nullptr) return nullptr;
  MdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return nullptr;
  return ctx;
}

std::optional<std::string> finish_digest(EVP_MD_CTX* ctx) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx, out, &size) != 1) return std::nullopt;
  return to_hex(out, size);
}

uint64_t mix(uint64_t h, uint64_t v) {
  // boost::hash_combine's constant, widened: good enough for a cache index.
  return h ^ (v + 0x9e3779b97f4a7c15ull + (h << 12) + (h >> 4));
}

}  // namespace

std::unique_ptr<ExeFileOpener> make_posix_exe_file_opener(std::string root) {
  while (!root.empty() && root.back() == '/') root.pop_back();
  return std::make_unique<PosixExeFileOpener>(std::move(root));
}

// Fetched once: EVP_MD_fetch looks the algorithm up in the provider tables,
// which is not free, and a fetched EVP_MD may be shared between threads.
struct CachingExeIdentifier::Digests {
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);  // null under FIPS: nothing is a platform binary then
  Digests() = default;
  Digests(const Digests&) = delete;
  Digests& operator=(const Digests&) = delete;
  ~Digests() {
    EVP_MD_free(sha256);
    EVP_MD_free(md5);
  }
};

std::size_t CachingExeIdentifier::CacheKeyHash::operator()(const CacheKey& key) const noexcept {
  uint64_t h = mix(0, key.dev);
  h = mix(h, key.ino);
  h = mix(h, static_cast<uint64_t>(key.size));
  h = mix(h, static_cast<uint64_t>(key.mtime.sec));
  h = mix(h, key.mtime.nsec);
  h = mix(h, static_cast<uint64_t>(key.ctime.sec));
  h = mix(h, key.ctime.nsec);
  return static_cast<std::size_t>(h);
}

CachingExeIdentifier::CachingExeIdentifier(std::shared_ptr<const PackageDb> db, ExeIdentifierOptions options,
                                           std::unique_ptr<ExeFileOpener> opener)
    : db_(std::move(db)),
      options_(options),
      opener_(opener ? std::move(opener) : make_posix_exe_file_opener()),
      digests_(std::make_unique<Digests>()) {
  options_.read_buffer_bytes = std::clamp(options_.read_buffer_bytes, kMinReadBuffer, kMaxReadBuffer);
}

CachingExeIdentifier::~CachingExeIdentifier() = default;

ExeIdentity CachingExeIdentifier::identify(const std::string& path, const std::optional<FileStat>& expected) {
  if (path.empty() || path.front() != '/') return {};
  std::unique_ptr<ExeFile> file = opener_->open(path);
  if (file == nullptr) return {};
  std::optional<FileStat> before = file->stat();
  if (!before || !S_ISREG(before->mode)) return {};
  // A different file now sits at the path: what ran is unknown, and
  // reporting this one's hash or package would vouch for the wrong file.
  if (expected && !same_identity(*expected, *before)) return {};

  ExeIdentity identity;
  std::optional<PackageFile> owner = db_ ? db_->lookup(path) : std::nullopt;
  if (owner) identity.package = owner->package;
  if (before->size > options_.max_hash_bytes) return identity;

  // The package comes from the path and the hashes from the inode, so only
  // the hashes are cached: a hard link elsewhere shares them, not the owner.
  bool check_md5 = owner && owner->md5 && digests_->md5 != nullptr;
  CacheKey key{before->dev, before->ino, before->size, before->mtime, before->ctime};
  std::optional<Hashes> hashes = cached(key, check_md5);
  if (!hashes) {
    hashes = hash_file(*file, check_md5);
    std::optional<FileStat> after = file->stat();
    if (!after || !same_identity(*before, *after)) return {};  // rewritten while we read it
    if (!hashes) return identity;                              // read error: owner known, contents not
    remember(key, *hashes);
  }
  identity.sha256 = hashes->sha256;
  identity.is_platform_binary = check_md5 && hashes->md5 == owner->md5;
  return identity;
}

std::optional<CachingExeIdentifier::Hashes> CachingExeIdentifier::hash_file(ExeFile& file, bool with_md5) {
  MdCtx sha256 = start_digest(digests_->sha256);
  MdCtx md5 = with_md5 ? start_digest(digests_->md5) : nullptr;
  if (sha256 == nullptr || (with_md5 && md5 == nullptr)) return std::nullopt;

  // One pass feeds both digests. Heap, not stack: threads may have small stacks.
  std::vector<unsigned char> buffer(options_.read_buffer_bytes);
  uint64_t total = 0;
  while (true) {
    ssize_t n = file.read(buffer);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    std::size_t size = static_cast<std::size_t>(n);
    if (EVP_DigestUpdate(sha256.get(), buffer.data(), size) != 1) return std::nullopt;
    if (md5 && EVP_DigestUpdate(md5.get(), buffer.data(), size) != 1) return std::nullopt;
    total += size;
    // Grew past the limit while we read: give up rather than hash forever.
    if (total > static_cast<uint64_t>(options_.max_hash_bytes)) return std::nullopt;
  }

  Hashes hashes;
  std::optional<std::string> sha256_hex = finish_digest(sha256.get());
  if (!sha256_hex) return std::nullopt;
  hashes.sha256 = std::move(*sha256_hex);
  if (md5) {
    hashes.md5 = finish_digest(md5.get());
    if (!hashes.md5) return std::nullopt;
  }
  std::lock_guard lock(cache_mutex_);
  stats_.bytes_hashed += total;
  return hashes;
}

std::optional<CachingExeIdentifier::Hashes> CachingExeIdentifier::cached(const CacheKey& key, bool need_md5) {
  std::lock_guard lock(cache_mutex_);
  auto it = index_.find(key);
  if (it == index_.end() || (need_md5 && !it->second->second.md5)) {
    ++stats_.cache_misses;
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++stats_.cache_hits;
  return it->second->second;
}

void CachingExeIdentifier::remember(const CacheKey& key, Hashes hashes) {
  if (options_.max_entries == 0) return;
  std::lock_guard lock(cache_mutex_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    // Another thread hashed it too, or it is gaining its md5: keep the richer one.
    if (hashes.md5 || !it->second->second.md5) it->second->second = std::move(hashes);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(key, std::move(hashes));
  index_.emplace(key, lru_.begin());
  while (lru_.size() > options_.max_entries) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
    ++stats_.evictions;
  }
}

ExeIdentifierStats CachingExeIdentifier::stats() const {
  std::lock_guard lock(cache_mutex_);
  return stats_;
}

std::unique_ptr<ExeIdentifier> make_exe_identifier(std::shared_ptr<const PackageDb> db,
                                                   std::size_t max_entries) {
  ExeIdentifierOptions options;
  options.max_entries = max_entries;
  return std::make_unique<CachingExeIdentifier>(std::move(db), options);
}

}  // namespace ward::process
