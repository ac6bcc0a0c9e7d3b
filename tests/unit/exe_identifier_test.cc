#include "process/exe_identifier.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace ward::process {
namespace {

namespace fs = std::filesystem;

constexpr char kAbcSha256[] = "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb";  // "abc\n"
constexpr char kAbcMd5[] = "0bee89b07a248e27c83fc3d5951213c1";
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// A one-shot digest, independent of the identifier's streaming code.
std::string digest_hex(const char* algorithm, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_MD* md = EVP_MD_fetch(nullptr, algorithm, nullptr);
  EXPECT_NE(md, nullptr);
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out, &size, md, nullptr), 1);
  EVP_MD_free(md);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", out[i]);
    hex += byte;
  }
  return hex;
}

FileStat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  FileStat out;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.mode = st.st_mode;
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  out.size = st.st_size;
  out.mtime = {st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec)};
  out.ctime = {st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec)};
  return out;
}

// A throwaway root with a fake dpkg admin dir; paths given to the
// identifier are root-relative, as in PackageDbOptions::root.
class FakeSystem {
 public:
  FakeSystem() {
    std::string pattern = (fs::temp_directory_path() / "ward_exe_identifier_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    root_ = pattern;
    fs::create_directories(root_ + "/var/lib/dpkg/info");
    write("/var/lib/dpkg/status", "");
  }
  ~FakeSystem() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  FakeSystem(const FakeSystem&) = delete;
  FakeSystem& operator=(const FakeSystem&) = delete;

  std::string host_path(const std::string& path) const { return root_ + path; }
  FileStat stat(const std::string& path) const { return stat_of(host_path(path)); }

  void write(const std::string& path, std::string_view content) const {
    fs::create_directories(fs::path(host_path(path)).parent_path());
    std::ofstream out(host_path(path), std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  // Writes a new file and renames it over `path`, as package managers do.
  void replace(const std::string& path, std::string_view content) const {
    write(path + ".new", content);
    fs::rename(host_path(path + ".new"), host_path(path));
  }
  // Records `path` as owned by `package`, with `md5` if given.
  void own(const std::string& package, const std::string& path, std::optional<std::string> md5) {
    lists_[package] += path + "\n";
    if (md5) md5sums_[package] += *md5 + "  " + path.substr(1) + "\n";
  }
  std::shared_ptr<const PackageDb> db() const {
    for (const auto& [package, text] : lists_) write("/var/lib/dpkg/info/" + package + ".list", text);
    for (const auto& [package, text] : md5sums_) write("/var/lib/dpkg/info/" + package + ".md5sums", text);
    PackageDbOptions options;
    options.admin_dir = host_path("/var/lib/dpkg");
    options.root = root_;
    return std::make_shared<PackageDb>(options);
  }
  std::unique_ptr<ExeFileOpener> opener() const { return make_posix_exe_file_opener(root_); }

 private:
  std::string root_;
  std::map<std::string, std::string> lists_;
  std::map<std::string, std::string> md5sums_;
};

struct IoCounts {
  std::atomic<int> opens{0};
  std::atomic<int> reads{0};
};

// The real opener, counting what passes through it.
class CountingOpener final : public ExeFileOpener {
 public:
  CountingOpener(std::unique_ptr<ExeFileOpener> inner, std::shared_ptr<IoCounts> counts)
      : inner_(std::move(inner)), counts_(std::move(counts)) {}

  std::unique_ptr<ExeFile> open(const std::string& path) override {
    ++counts_->opens;
    std::unique_ptr<ExeFile> file = inner_->open(path);
    if (file == nullptr) return nullptr;
    return std::make_unique<CountingFile>(std::move(file), counts_);
  }

 private:
  class CountingFile final : public ExeFile {
   public:
    CountingFile(std::unique_ptr<ExeFile> inner, std::shared_ptr<IoCounts> counts)
        : inner_(std::move(inner)), counts_(std::move(counts)) {}
    std::optional<FileStat> stat() override { return inner_->stat(); }
    ssize_t read(std::span<unsigned char> buffer) override {
      ++counts_->reads;
      return inner_->read(buffer);
    }

   private:
    std::unique_ptr<ExeFile> inner_;
    std::shared_ptr<IoCounts> counts_;
  };

  std::unique_ptr<ExeFileOpener> inner_;
  std::shared_ptr<IoCounts> counts_;
};

// A file that exists only in memory, for what disks will not do on cue.
class ScriptedFile final : public ExeFile {
 public:
  ScriptedFile(std::string content, std::vector<FileStat> stats, bool fail_reads)
      : content_(std::move(content)), stats_(std::move(stats)), fail_reads_(fail_reads) {}
  std::optional<FileStat> stat() override {
    FileStat st = stats_[std::min(stat_calls_, stats_.size() - 1)];
    ++stat_calls_;
    return st;
  }
  ssize_t read(std::span<unsigned char> buffer) override {
    if (fail_reads_) return -1;
    std::size_t n = std::min(buffer.size(), content_.size() - offset_);
    std::copy_n(content_.data() + offset_, n, buffer.data());
    offset_ += n;
    return static_cast<ssize_t>(n);
  }

 private:
  std::string content_;
  std::vector<FileStat> stats_;  // one per stat() call; the last repeats
  bool fail_reads_;
  std::size_t stat_calls_ = 0;
  std::size_t offset_ = 0;
};

class ScriptedOpener final : public ExeFileOpener {
 public:
  ScriptedOpener(std::string content, std::vector<FileStat> stats, bool fail_reads)
      : content_(std::move(content)), stats_(std::move(stats)), fail_reads_(fail_reads) {}
  std::unique_ptr<ExeFile> open(const std::string&) override {
    return std::make_unique<ScriptedFile>(content_, stats_, fail_reads_);
  }

 private:
  std::string content_;
  std::vector<FileStat> stats_;
  bool fail_reads_;
};

FileStat regular_file_stat(int64_t size, int64_t mtime_sec) {
  FileStat st;
  st.dev = 2049;
  st.ino = 77;
  st.mode = S_IFREG | 0755;
  st.size = size;
  st.mtime = {mtime_sec, 0};
  st.ctime = {mtime_sec, 0};
  return st;
}

class ExeIdentifierTest : public ::testing::Test {
 protected:
  // Built after the test has set up the fake system's files and packages.
  CachingExeIdentifier& identifier(ExeIdentifierOptions options = {}) {
    identifier_ = std::make_unique<CachingExeIdentifier>(
        system_.db(), options, std::make_unique<CountingOpener>(system_.opener(), counts_));
    return *identifier_;
  }
  int reads() const { return counts_->reads.load(); }

  FakeSystem system_;
  std::shared_ptr<IoCounts> counts_ = std::make_shared<IoCounts>();
  std::unique_ptr<CachingExeIdentifier> identifier_;
};

TEST_F(ExeIdentifierTest, Sha256MatchesKnownVectors) {
  system_.write("/opt/abc", "abc\n");
  system_.write("/opt/empty", "");
  CachingExeIdentifier& ids = identifier();

  ExeIdentity abc = ids.identify("/opt/abc", system_.stat("/opt/abc"));
  EXPECT_EQ(abc.sha256, kAbcSha256);
  EXPECT_EQ(abc.package, std::nullopt);  // not in any package
  EXPECT_FALSE(abc.is_platform_binary);
  EXPECT_EQ(ids.identify("/opt/empty", std::nullopt).sha256, kEmptySha256);
}

TEST_F(ExeIdentifierTest, Sha256OfFilesSpanningManyReadsMatchesOneShotDigest) {
  std::string big;
  for (int i = 0; big.size() < (1u << 20) + 123; ++i) big += std::to_string(i * 7919) + ",";
  system_.write("/opt/big", big);
  for (std::size_t buffer : {std::size_t{1}, std::size_t{64} << 10, std::size_t{256} << 10}) {
    ExeIdentifierOptions options;
    options.read_buffer_bytes = buffer;  // 1 is clamped up to the minimum
    EXPECT_EQ(identifier(options).identify("/opt/big", std::nullopt).sha256, digest_hex("SHA256", big))
        << buffer;
  }
}

TEST_F(ExeIdentifierTest, PackagedFileWithMatchingMd5IsAPlatformBinary) {
  system_.write("/usr/bin/tool", "abc\n");
  system_.own("tool", "/usr/bin/tool", kAbcMd5);
  ExeIdentity identity = identifier().identify("/usr/bin/tool", system_.stat("/usr/bin/tool"));

  EXPECT_EQ(identity.sha256, kAbcSha256);
  EXPECT_EQ(identity.package, "tool");
  EXPECT_TRUE(identity.is_platform_binary);
}

TEST_F(ExeIdentifierTest, ModifiedPackagedFileIsNotAPlatformBinary) {
  system_.write("/usr/bin/tool", "tampered\n");
  system_.own("tool", "/usr/bin/tool", kAbcMd5);
  ExeIdentity identity = identifier().identify("/usr/bin/tool", system_.stat("/usr/bin/tool"));

  EXPECT_EQ(identity.sha256, digest_hex("SHA256", "tampered\n"));
  EXPECT_EQ(identity.package, "tool");
  EXPECT_FALSE(identity.is_platform_binary);
}

TEST_F(ExeIdentifierTest, PackagedFileWithoutRecordedMd5IsNotAPlatformBinary) {
  system_.write("/usr/bin/script", "abc\n");
  system_.own("tool", "/usr/bin/script", std::nullopt);
  ExeIdentity identity = identifier().identify("/usr/bin/script", std::nullopt);

  EXPECT_EQ(identity.sha256, kAbcSha256);
  EXPECT_EQ(identity.package, "tool");
  EXPECT_FALSE(identity.is_platform_binary);
}

TEST_F(ExeIdentifierTest, SameFileIdentityIsServedFromTheCache) {
  system_.write("/usr/bin/tool", "abc\n");
  system_.own("tool", "/usr/bin/tool", kAbcMd5);
  CachingExeIdentifier& ids = identifier();

  ExeIdentity first = ids.identify("/usr/bin/tool", system_.stat("/usr/bin/tool"));
  int reads_after_first = reads();
  EXPECT_GT(reads_after_first, 0);
  ExeIdentity second = ids.identify("/usr/bin/tool", system_.stat("/usr/bin/tool"));
  EXPECT_EQ(reads(), reads_after_first);  // not read again
  EXPECT_EQ(second.sha256, first.sha256);
  EXPECT_EQ(second.package, first.package);
  EXPECT_TRUE(second.is_platform_binary);
  EXPECT_EQ(ids.stats().cache_hits, 1u);
  EXPECT_EQ(ids.stats().cache_misses, 1u);
}

TEST_F(ExeIdentifierTest, RewrittenFileIsHashedAgain) {
  system_.write("/usr/bin/tool", "abc\n");
  system_.own("tool", "/usr/bin/tool", kAbcMd5);
  CachingExeIdentifier& ids = identifier();
  EXPECT_TRUE(ids.identify("/usr/bin/tool", std::nullopt).is_platform_binary);

  // In place, same inode; a different size so the change cannot hide inside
  // one timestamp tick.
  system_.write("/usr/bin/tool", "abcd\n");
  int reads_before = reads();
  ExeIdentity identity = ids.identify("/usr/bin/tool", std::nullopt);
  EXPECT_GT(reads(), reads_before);
  EXPECT_EQ(identity.sha256, digest_hex("SHA256", "abcd\n"));
  EXPECT_FALSE(identity.is_platform_binary);
}

TEST_F(ExeIdentifierTest, HardLinksShareHashesButNotTheOwner) {
  system_.write("/usr/bin/tool", "abc\n");
  system_.own("tool", "/usr/bin/tool", kAbcMd5);
  fs::create_directories(system_.host_path("/opt"));
  fs::create_hard_link(system_.host_path("/usr/bin/tool"), system_.host_path("/opt/copy"));
  CachingExeIdentifier& ids = identifier();

  ExeIdentity copy = ids.identify("/opt/copy", std::nullopt);
  EXPECT_EQ(copy.sha256, kAbcSha256);
  EXPECT_EQ(copy.package, std::nullopt);
  EXPECT_FALSE(copy.is_platform_binary);

  // Cached without md5 (nobody needed it): the owned path must hash again.
  int reads_before = reads();
  ExeIdentity owned = ids.identify("/usr/bin/tool", std::nullopt);
  EXPECT_GT(reads(), reads_before);
  EXPECT_EQ(owned.package, "tool");
  EXPECT_TRUE(owned.is_platform_binary);

  reads_before = reads();
  EXPECT_EQ(ids.identify("/opt/copy", std::nullopt).package, std::nullopt);
  EXPECT_TRUE(ids.identify("/usr/bin/tool", std::nullopt).is_platform_binary);
  EXPECT_EQ(reads(), reads_before);
}

TEST_F(ExeIdentifierTest, CacheEvictsTheLeastRecentlyUsed) {
  for (const char* name : {"/opt/a", "/opt/b", "/opt/c"}) system_.write(name, name);
  ExeIdentifierOptions options;
  options.max_entries = 2;
  CachingExeIdentifier& ids = identifier(options);

  ids.identify("/opt/a", std::nullopt);
  ids.identify("/opt/b", std::nullopt);
  ids.identify("/opt/a", std::nullopt);  // a is now the most recent
  ids.identify("/opt/c", std::nullopt);  // evicts b
  EXPECT_EQ(ids.stats().evictions, 1u);

  int reads_before = reads();
  EXPECT_EQ(ids.identify("/opt/a", std::nullopt).sha256, digest_hex("SHA256", "/opt/a"));
  EXPECT_EQ(ids.identify("/opt/c", std::nullopt).sha256, digest_hex("SHA256", "/opt/c"));
  EXPECT_EQ(reads(), reads_before);
  EXPECT_EQ(ids.identify("/opt/b", std::nullopt).sha256, digest_hex("SHA256", "/opt/b"));
  EXPECT_GT(reads(), reads_before);
}

TEST_F(ExeIdentifierTest, ReplacedFileReportsNothing) {
  system_.write("/usr/bin/tool", "abc\n");
  system_.own("tool", "/usr/bin/tool", kAbcMd5);
  FileStat what_ran = system_.stat("/usr/bin/tool");
  CachingExeIdentifier& ids = identifier();

  system_.replace("/usr/bin/tool", "abc\n");  // same content, different inode
  ExeIdentity identity = ids.identify("/usr/bin/tool", what_ran);
  EXPECT_EQ(identity.sha256, std::nullopt);
  EXPECT_EQ(identity.package, std::nullopt);
  EXPECT_FALSE(identity.is_platform_binary);

  // The identity of the file that is there now is fine.
  EXPECT_TRUE(ids.identify("/usr/bin/tool", system_.stat("/usr/bin/tool")).is_platform_binary);
}

TEST_F(ExeIdentifierTest, ExpectedIdentityMismatchInAnyKeyFieldReportsNothing) {
  system_.write("/opt/abc", "abc\n");
  FileStat actual = system_.stat("/opt/abc");
  CachingExeIdentifier& ids = identifier();
  ASSERT_EQ(ids.identify("/opt/abc", actual).sha256, kAbcSha256);

  std::vector<FileStat> variants(5, actual);
  variants[0].dev += 1;
  variants[1].ino += 1;
  variants[2].size += 1;
  variants[3].mtime.nsec ^= 1;
  variants[4].ctime.sec += 1;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    EXPECT_EQ(ids.identify("/opt/abc", variants[i]).sha256, std::nullopt) << i;
  }
  FileStat other_mode = actual;
  other_mode.mode ^= 0111;  // not part of the identity
  EXPECT_EQ(ids.identify("/opt/abc", other_mode).sha256, kAbcSha256);
}

TEST_F(ExeIdentifierTest, NonRegularOrMissingFilesReportNothing) {
  system_.write("/opt/abc", "abc\n");
  system_.own("tool", "/opt/abc", kAbcMd5);
  fs::create_directories(system_.host_path("/opt/dir"));
  fs::create_symlink("abc", system_.host_path("/opt/link"));
  ASSERT_EQ(::mkfifo(system_.host_path("/opt/fifo").c_str(), 0600), 0);  // must not block the open
  CachingExeIdentifier& ids = identifier();

  for (const char* path : {"/opt/dir", "/opt/link", "/opt/fifo", "/opt/missing", "opt/abc", ""}) {
    ExeIdentity identity = ids.identify(path, std::nullopt);
    EXPECT_EQ(identity.sha256, std::nullopt) << path;
    EXPECT_EQ(identity.package, std::nullopt) << path;
    EXPECT_FALSE(identity.is_platform_binary) << path;
  }
  EXPECT_TRUE(ids.identify("/opt/abc", std::nullopt).is_platform_binary);
}

TEST_F(ExeIdentifierTest, FilesOverTheSizeLimitAreNotHashed) {
  system_.write("/usr/bin/huge", "0123456789abcdef");
  system_.own("huge", "/usr/bin/huge", digest_hex("MD5", "0123456789abcdef"));
  ExeIdentifierOptions options;
  options.max_hash_bytes = 15;
  ExeIdentity identity = identifier(options).identify("/usr/bin/huge", std::nullopt);

  EXPECT_EQ(identity.sha256, std::nullopt);
  EXPECT_EQ(identity.package, "huge");
  EXPECT_FALSE(identity.is_platform_binary);
  EXPECT_EQ(reads(), 0);

  options.max_hash_bytes = 16;
  EXPECT_TRUE(identifier(options).identify("/usr/bin/huge", std::nullopt).is_platform_binary);
}

TEST_F(ExeIdentifierTest, WithoutAPackageDbOnlyTheHashIsReported) {
  system_.write("/opt/abc", "abc\n");
  CachingExeIdentifier ids(nullptr, {}, system_.opener());
  ExeIdentity identity = ids.identify("/opt/abc", std::nullopt);
  EXPECT_EQ(identity.sha256, kAbcSha256);
  EXPECT_EQ(identity.package, std::nullopt);
  EXPECT_FALSE(identity.is_platform_binary);
}

TEST_F(ExeIdentifierTest, FileChangingWhileHashedReportsNothingAndIsNotCached) {
  system_.own("tool", "/usr/bin/tool", kAbcMd5);
  FileStat before = regular_file_stat(4, 100);
  FileStat after = regular_file_stat(4, 101);  // written to during the read
  CachingExeIdentifier ids(system_.db(), {},
                           std::make_unique<ScriptedOpener>("abc\n", std::vector{before, after},
                                                            /*fail_reads=*/false));
  ExeIdentity identity = ids.identify("/usr/bin/tool", before);
  EXPECT_EQ(identity.sha256, std::nullopt);
  EXPECT_EQ(identity.package, std::nullopt);
  EXPECT_FALSE(identity.is_platform_binary);
  // Nothing was remembered: the next (stable) look misses the cache again.
  ids.identify("/usr/bin/tool", before);
  EXPECT_EQ(ids.stats().cache_hits, 0u);
}

TEST_F(ExeIdentifierTest, ReadErrorReportsTheOwnerButNoHash) {
  system_.own("tool", "/usr/bin/tool", kAbcMd5);
  FileStat st = regular_file_stat(4, 100);
  CachingExeIdentifier ids(system_.db(), {},
                           std::make_unique<ScriptedOpener>("abc\n", std::vector{st}, /*fail_reads=*/true));
  ExeIdentity identity = ids.identify("/usr/bin/tool", st);
  EXPECT_EQ(identity.sha256, std::nullopt);
  EXPECT_EQ(identity.package, "tool");
  EXPECT_FALSE(identity.is_platform_binary);
}

TEST_F(ExeIdentifierTest, ConcurrentIdentifyGivesConsistentAnswers) {
  std::vector<std::string> paths;
  for (int i = 0; i < 6; ++i) {
    paths.push_back("/usr/bin/tool" + std::to_string(i));
    system_.write(paths.back(), "content " + std::to_string(i));
    system_.own("pkg" + std::to_string(i), paths.back(), digest_hex("MD5", "content " + std::to_string(i)));
  }
  ExeIdentifierOptions options;
  options.max_entries = 3;  // keep evicting while threads race
  CachingExeIdentifier& ids = identifier(options);

  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(6);
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 100; ++round) {
        std::size_t i = static_cast<std::size_t>((t + round) % 6);
        ExeIdentity identity = ids.identify(paths[i], std::nullopt);
        if (identity.sha256 != digest_hex("SHA256", "content " + std::to_string(i)) ||
            identity.package != "pkg" + std::to_string(i) || !identity.is_platform_binary) {
          ++wrong;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ExeIdentifierRealHostTest, UsrBinEchoIsACoreutilsPlatformBinary) {
  if (::access("/var/lib/dpkg/info/coreutils.list", R_OK) != 0) {
    GTEST_SKIP() << "no dpkg database on this host (/var/lib/dpkg/info/coreutils.list absent)";
  }
  std::unique_ptr<ExeIdentifier> ids = make_exe_identifier(std::make_shared<PackageDb>());
  ExeIdentity echo = ids->identify("/usr/bin/echo", stat_of("/usr/bin/echo"));

  std::string expected;
  if (FILE* pipe = ::popen("sha256sum /usr/bin/echo", "r")) {
    char line[256] = {};
    if (std::fgets(line, sizeof(line), pipe) != nullptr) expected = std::string(line).substr(0, 64);
    ::pclose(pipe);
  }
  ASSERT_EQ(expected.size(), 64u) << "sha256sum did not run";
  EXPECT_EQ(echo.package, "coreutils");
  EXPECT_TRUE(echo.is_platform_binary);
  EXPECT_EQ(echo.sha256, expected);
}

}  // namespace
}  // namespace ward::process
