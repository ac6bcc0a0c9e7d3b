#include "process/package_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ward::process {
namespace {

namespace fs = std::filesystem;

constexpr char kMd5Hello[] = "0bee89b07a248e27c83fc3d5951213c1";  // any 32 hex digits do here
constexpr char kMd5Other[] = "11111111111111111111111111111111";

// A throwaway file system root holding a dpkg admin dir at var/lib/dpkg.
class FakeRoot {
 public:
  FakeRoot() {
    std::string pattern = (fs::temp_directory_path() / "ward_package_db_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    root_ = pattern;
    fs::create_directories(root_ + "/var/lib/dpkg/info");
    write("var/lib/dpkg/status", "Package: base-files\n");
    set_status_mtime(1000000000);
  }
  ~FakeRoot() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  FakeRoot(const FakeRoot&) = delete;
  FakeRoot& operator=(const FakeRoot&) = delete;

  const std::string& root() const { return root_; }
  std::string admin_dir() const { return root_ + "/var/lib/dpkg"; }

  void write(const std::string& relative, std::string_view content) const {
    fs::path path = fs::path(root_) / relative;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  void mkdirs(const std::string& relative) const { fs::create_directories(fs::path(root_) / relative); }
  void symlink(const std::string& target, const std::string& relative) const {
    fs::create_symlink(target, fs::path(root_) / relative);
  }
  void list(const std::string& stem, std::string_view content) const {
    write("var/lib/dpkg/info/" + stem + ".list", content);
  }
  void md5sums(const std::string& stem, std::string_view content) const {
    write("var/lib/dpkg/info/" + stem + ".md5sums", content);
  }
  // Explicit times, not "now": two writes within one timestamp tick must
  // still read as a change.
  void set_status_mtime(int64_t sec) const {
    timespec times[2] = {{sec, 0}, {sec, 0}};
    std::string status = admin_dir() + "/status";
    if (::utimensat(AT_FDCWD, status.c_str(), times, 0) != 0) std::abort();
  }

  PackageDbOptions options() const {
    PackageDbOptions options;
    options.admin_dir = admin_dir();
    options.root = root_;
    options.reload_check_interval = std::chrono::hours(1);
    return options;
  }

 private:
  std::string root_;
};

std::string md5_line(const std::string& md5, const std::string& path) { return md5 + "  " + path + "\n"; }

TEST(PackageDbTest, LooksUpOwnerAndMd5OfListedFiles) {
  FakeRoot fake;
  fake.write("usr/bin/hello", "hello");
  fake.list("hello",
            "/.\n/usr\n/usr/bin\n/usr/bin/hello\n/usr/share\n/usr/share/doc\n/usr/share/doc/hello\n"
            "/usr/share/doc/hello/copyright\n");
  fake.md5sums("hello",
               md5_line(kMd5Hello, "usr/bin/hello") + md5_line(kMd5Other, "usr/share/doc/hello/copyright"));
  PackageDb db(fake.options());

  EXPECT_EQ(db.lookup("/usr/bin/hello"), (PackageFile{"hello", kMd5Hello}));
  EXPECT_EQ(db.lookup("/usr/share/doc/hello/copyright"), (PackageFile{"hello", kMd5Other}));
  EXPECT_EQ(db.lookup("/usr/bin/goodbye"), std::nullopt);
  EXPECT_EQ(db.lookup("usr/bin/hello"), std::nullopt);
  EXPECT_EQ(db.lookup(""), std::nullopt);
  PackageDbStats stats = db.stats();
  EXPECT_EQ(stats.packages, 1u);
  EXPECT_EQ(stats.files, 2u);
  EXPECT_EQ(stats.files_with_md5, 2u);
  EXPECT_EQ(stats.skipped_lines, 0u);
  EXPECT_EQ(stats.unreadable_files, 0u);
  EXPECT_EQ(stats.generation, 1u);
}

TEST(PackageDbTest, PackageNameIsTheFileStemBeforeTheArchitecture) {
  FakeRoot fake;
  fake.list("libfoo1:amd64", "/usr/lib/libfoo.so.1\n");
  fake.md5sums("libfoo1:amd64", md5_line(kMd5Hello, "usr/lib/libfoo.so.1"));
  fake.list("python3.11", "/usr/bin/python3.11\n");
  fake.md5sums("python3.11", md5_line(kMd5Other, "usr/bin/python3.11"));
  PackageDb db(fake.options());

  EXPECT_EQ(db.lookup("/usr/lib/libfoo.so.1"), (PackageFile{"libfoo1", kMd5Hello}));
  EXPECT_EQ(db.lookup("/usr/bin/python3.11"), (PackageFile{"python3.11", kMd5Other}));
}

TEST(PackageDbTest, DirectoriesAreNotRecordedAsFiles) {
  FakeRoot fake;
  fake.mkdirs("usr/lib/hello/empty");  // listed, nothing listed below it
  fake.write("etc/hello.conf", "x=1\n");
  fake.list("hello",
            "/.\n/etc\n/etc/hello.conf\n/usr\n/usr/lib\n/usr/lib/hello\n/usr/lib/hello/empty\n"
            "/usr/lib/hello/libhello.so\n");
  fake.md5sums("hello", md5_line(kMd5Hello, "usr/lib/hello/libhello.so"));
  PackageDb db(fake.options());

  for (const char* dir : {"/", "/.", "/etc", "/usr", "/usr/lib", "/usr/lib/hello", "/usr/lib/hello/empty"}) {
    EXPECT_EQ(db.lookup(dir), std::nullopt) << dir;
  }
  // A conffile: owned, but dpkg keeps its md5 elsewhere.
  EXPECT_EQ(db.lookup("/etc/hello.conf"), (PackageFile{"hello", std::nullopt}));
  EXPECT_EQ(db.lookup("/usr/lib/hello/libhello.so"), (PackageFile{"hello", kMd5Hello}));
  EXPECT_EQ(db.stats().files, 2u);
}

TEST(PackageDbTest, UsrMergedDirectoriesAreCanonicalised) {
  FakeRoot fake;
  fake.mkdirs("usr/bin");
  fake.mkdirs("usr/lib/x86_64-linux-gnu");
  fake.mkdirs("usr/libexec/real");
  fake.symlink("usr/bin", "bin");
  fake.symlink("usr/lib", "lib");
  fake.symlink("real", "usr/libexec/alias");  // a symlink below the top level too
  fake.list("coreutils",
            "/.\n/bin\n/bin/echo\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libfoo.so.1\n"
            "/usr\n/usr/libexec\n/usr/libexec/alias\n/usr/libexec/alias/helper\n");
  fake.md5sums("coreutils", md5_line(kMd5Hello, "bin/echo") +
                                md5_line(kMd5Other, "lib/x86_64-linux-gnu/libfoo.so.1") +
                                md5_line(kMd5Other, "usr/libexec/alias/helper"));
  PackageDb db(fake.options());

  EXPECT_EQ(db.lookup("/usr/bin/echo"), (PackageFile{"coreutils", kMd5Hello}));
  EXPECT_EQ(db.lookup("/usr/lib/x86_64-linux-gnu/libfoo.so.1"), (PackageFile{"coreutils", kMd5Other}));
  EXPECT_EQ(db.lookup("/usr/libexec/real/helper"), (PackageFile{"coreutils", kMd5Other}));
  // Lookups take kernel-resolved paths; the listed spelling is not kept.
  EXPECT_EQ(db.lookup("/bin/echo"), std::nullopt);
  // The symlinked directories themselves are not files.
  EXPECT_EQ(db.lookup("/bin"), std::nullopt);
  EXPECT_EQ(db.lookup("/lib"), std::nullopt);
  EXPECT_EQ(db.lookup("/usr/libexec/alias"), std::nullopt);
}

TEST(PackageDbTest, SymlinkLeavingTheRootKeepsTheListedDirectory) {
  FakeRoot fake;
  fake.symlink("/usr/bin", "bin");  // absolute: would resolve on the host, outside the fake root
  fake.list("coreutils", "/bin/echo\n");
  fake.md5sums("coreutils", md5_line(kMd5Hello, "bin/echo"));
  PackageDb db(fake.options());

  EXPECT_EQ(db.lookup("/bin/echo"), (PackageFile{"coreutils", kMd5Hello}));
}

TEST(PackageDbTest, CanonicalisationCanBeReplacedAndRunsOncePerDirectory) {
  FakeRoot fake;
  fake.list("coreutils", "/bin/echo\n/bin/cat\n/usr/bin/env\n");
  fake.md5sums("coreutils", md5_line(kMd5Hello, "bin/echo") + md5_line(kMd5Hello, "bin/cat") +
                                md5_line(kMd5Other, "usr/bin/env"));
  auto calls = std::make_shared<std::vector<std::string>>();
  PackageDbOptions options = fake.options();
  options.canonicalize_dir = [calls](const std::string& dir) -> std::optional<std::string> {
    calls->push_back(dir);
    if (dir == "/bin") return "/usr/bin";
    return std::nullopt;
  };
  PackageDb db(options);

  EXPECT_EQ(db.lookup("/usr/bin/echo"), (PackageFile{"coreutils", kMd5Hello}));
  EXPECT_EQ(db.lookup("/usr/bin/cat"), (PackageFile{"coreutils", kMd5Hello}));
  EXPECT_EQ(db.lookup("/usr/bin/env"), (PackageFile{"coreutils", kMd5Other}));
  EXPECT_EQ(*calls, (std::vector<std::string>{"/bin", "/usr/bin"}));
}

TEST(PackageDbTest, PackageWhoseMd5sumsListsAFileBeatsOneThatOnlyListsIt) {
  FakeRoot fake;
  fake.write("usr/bin/first", "1");
  fake.write("usr/bin/second", "2");
  fake.write("usr/bin/both", "3");
  // Packages load in name order, so "zzz" is the later one.
  fake.list("aaa", "/usr/bin/first\n/usr/bin/second\n/usr/bin/both\n");
  fake.md5sums("aaa", md5_line(kMd5Hello, "usr/bin/first") + md5_line(kMd5Hello, "usr/bin/both"));
  fake.list("zzz", "/usr/bin/first\n/usr/bin/second\n/usr/bin/both\n");
  fake.md5sums("zzz", md5_line(kMd5Other, "usr/bin/second") + md5_line(kMd5Other, "usr/bin/both"));
  PackageDb db(fake.options());

  EXPECT_EQ(db.lookup("/usr/bin/first"), (PackageFile{"aaa", kMd5Hello}));
  EXPECT_EQ(db.lookup("/usr/bin/second"), (PackageFile{"zzz", kMd5Other}));
  EXPECT_EQ(db.lookup("/usr/bin/both"), (PackageFile{"zzz", kMd5Other}));  // both have md5: later wins
}

TEST(PackageDbTest, DivertedFilesAreFoundWhereDpkgPutThem) {
  FakeRoot fake;
  // libpq-dev ships /usr/bin/pg_config; postgresql-common diverts it away
  // and installs its own at the original name.
  fake.list("libpq-dev", "/usr/bin/pg_config\n");
  fake.md5sums("libpq-dev", md5_line(kMd5Hello, "usr/bin/pg_config"));
  fake.list("postgresql-common", "/usr/bin/pg_config\n");
  fake.md5sums("postgresql-common", md5_line(kMd5Other, "usr/bin/pg_config"));
  // A local (admin) diversion, by ":", moves every package's file.
  fake.list("tool", "/usr/bin/tool\n");
  fake.md5sums("tool", md5_line(kMd5Hello, "usr/bin/tool"));
  fake.write("var/lib/dpkg/diversions",
             "/usr/bin/pg_config\n/usr/bin/pg_config.libpq-dev\npostgresql-common\n"
             "/usr/bin/tool\n/usr/bin/tool.distrib\n:\n");
  PackageDb db(fake.options());

  EXPECT_EQ(db.lookup("/usr/bin/pg_config"), (PackageFile{"postgresql-common", kMd5Other}));
  EXPECT_EQ(db.lookup("/usr/bin/pg_config.libpq-dev"), (PackageFile{"libpq-dev", kMd5Hello}));
  EXPECT_EQ(db.lookup("/usr/bin/tool.distrib"), (PackageFile{"tool", kMd5Hello}));
  EXPECT_EQ(db.lookup("/usr/bin/tool"), std::nullopt);
}

TEST(PackageDbTest, GarbageLinesAreSkippedAndCounted) {
  FakeRoot fake;
  fake.write("usr/bin/good", "g");
  std::string huge = "/" + std::string(1 << 20, 'a');
  std::string with_nul = std::string("/usr/bin/nul") + '\0' + "byte";
  fake.list("messy",
            "relative/path\n\n" + huge + "\n" + with_nul + "\n/usr/bin/..\n/usr/bin/good\n/usr/bin/conf");
  fake.md5sums("messy",
               "not a line at all\n"
               "short\n"
               "0123456789abcdef0123456789abcdeX  usr/bin/badhex\n"
               "0123456789abcdef0123456789abcdef\n"
               "0123456789abcdef0123456789abcdef  \n"
               "0123456789abcdef0123456789abcdef" +
                   std::string("-usr/bin/badsep\n") + "0123456789ABCDEF0123456789ABCDEF  " +
                   "usr/bin/good\n" + "fedcba9876543210fedcba9876543210 *usr/bin/binary\n");
  PackageDb db(fake.options());

  // md5sums hex is normalised to lowercase; "<hex> *<path>" is md5sum's binary mode.
  EXPECT_EQ(db.lookup("/usr/bin/good"), (PackageFile{"messy", "0123456789abcdef0123456789abcdef"}));
  EXPECT_EQ(db.lookup("/usr/bin/binary"), (PackageFile{"messy", "fedcba9876543210fedcba9876543210"}));
  EXPECT_EQ(db.lookup("/usr/bin/conf"), (PackageFile{"messy", std::nullopt}));  // last line, no newline
  EXPECT_EQ(db.lookup("/usr/bin/badhex"), std::nullopt);
  PackageDbStats stats = db.stats();
  EXPECT_EQ(stats.skipped_lines, 5u + 6u);  // 5 in .list, 6 in .md5sums
  EXPECT_EQ(stats.files, 3u);
}

TEST(PackageDbTest, DeeplyNestedPathsAreHandled) {
  FakeRoot fake;
  std::string deep;
  while (deep.size() < 4000) deep += "/d";
  fake.list("deep", deep + "/file\n");
  fake.md5sums("deep", md5_line(kMd5Hello, deep.substr(1) + "/file"));
  PackageDb db(fake.options());
  EXPECT_EQ(db.lookup(deep + "/file"), (PackageFile{"deep", kMd5Hello}));
}

TEST(PackageDbTest, BinaryGarbageDoesNotCrash) {
  FakeRoot fake;
  std::string noise;
  uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1103515245u + 12345u;
    noise.push_back(static_cast<char>(state >> 24));
  }
  fake.list("noise", noise);
  fake.md5sums("noise", noise);
  fake.write("var/lib/dpkg/diversions", noise);
  fake.list("fine", "/usr/bin/fine\n");
  PackageDb db(fake.options());

  EXPECT_EQ(db.lookup("/usr/bin/fine"), (PackageFile{"fine", std::nullopt}));
  EXPECT_GT(db.stats().skipped_lines, 0u);
}

TEST(PackageDbTest, UnreadableInputIsCountedNotFatal) {
  {
    PackageDbOptions options;
    options.admin_dir = "/nonexistent/ward/dpkg";
    PackageDb db(options);
    EXPECT_EQ(db.lookup("/usr/bin/echo"), std::nullopt);
    EXPECT_EQ(db.stats().unreadable_files, 1u);
    EXPECT_FALSE(db.reload_if_changed());
  }
  FakeRoot fake;
  fake.mkdirs("var/lib/dpkg/info/adir.list");                     // not a regular file
  fake.symlink("nowhere", "var/lib/dpkg/info/dangling.md5sums");  // dangling
  fake.mkdirs("var/lib/dpkg/diversions");                         // unreadable diversions
  fake.list("fine", "/usr/bin/fine\n");
  PackageDb db(fake.options());
  EXPECT_EQ(db.lookup("/usr/bin/fine"), (PackageFile{"fine", std::nullopt}));
  EXPECT_EQ(db.stats().unreadable_files, 3u);
}

TEST(PackageDbTest, ReloadsWhenStatusChanges) {
  FakeRoot fake;
  PackageDbOptions options = fake.options();
  options.reload_check_interval = std::chrono::milliseconds(0);  // check on every lookup
  PackageDb db(options);
  EXPECT_EQ(db.lookup("/usr/bin/new"), std::nullopt);

  // dpkg writes info/ before status: no reload until status changes.
  fake.list("newpkg", "/usr/bin/new\n");
  fake.md5sums("newpkg", md5_line(kMd5Hello, "usr/bin/new"));
  EXPECT_EQ(db.lookup("/usr/bin/new"), std::nullopt);
  EXPECT_EQ(db.stats().generation, 1u);

  fake.set_status_mtime(1000000001);
  EXPECT_EQ(db.lookup("/usr/bin/new"), (PackageFile{"newpkg", kMd5Hello}));
  EXPECT_EQ(db.stats().generation, 2u);
  EXPECT_EQ(db.lookup("/usr/bin/new"), (PackageFile{"newpkg", kMd5Hello}));
  EXPECT_EQ(db.stats().generation, 2u);  // unchanged status: no further reload
}

TEST(PackageDbTest, ChecksForChangesAtMostOncePerInterval) {
  FakeRoot fake;
  PackageDb db(fake.options());  // one hour
  fake.list("newpkg", "/usr/bin/new\n");
  fake.set_status_mtime(1000000001);
  EXPECT_EQ(db.lookup("/usr/bin/new"), std::nullopt);

  EXPECT_TRUE(db.reload_if_changed());
  EXPECT_EQ(db.lookup("/usr/bin/new"), (PackageFile{"newpkg", std::nullopt}));
  EXPECT_FALSE(db.reload_if_changed());

  // dpkg-divert changes diversions, not status.
  fake.write("var/lib/dpkg/diversions", "/usr/bin/new\n/usr/bin/new.orig\n:\n");
  EXPECT_TRUE(db.reload_if_changed());
  EXPECT_EQ(db.lookup("/usr/bin/new.orig"), (PackageFile{"newpkg", std::nullopt}));
  EXPECT_EQ(db.stats().generation, 3u);
}

TEST(PackageDbTest, NegativeIntervalLeavesReloadingToTheCaller) {
  FakeRoot fake;
  PackageDbOptions options = fake.options();
  options.reload_check_interval = std::chrono::milliseconds(-1);
  PackageDb db(options);
  fake.list("newpkg", "/usr/bin/new\n");
  fake.set_status_mtime(1000000001);
  EXPECT_EQ(db.lookup("/usr/bin/new"), std::nullopt);
  EXPECT_TRUE(db.reload_if_changed());
  EXPECT_EQ(db.lookup("/usr/bin/new"), (PackageFile{"newpkg", std::nullopt}));

  options.reload_check_interval = std::chrono::milliseconds::max();  // must not overflow into "always"
  PackageDb patient(options);
  fake.list("later", "/usr/bin/later\n");
  fake.set_status_mtime(1000000002);
  EXPECT_EQ(patient.lookup("/usr/bin/later"), std::nullopt);
}

TEST(PackageDbTest, LookupsDuringReloadsSeeOldOrNewDataNeverGarbage) {
  FakeRoot fake;
  fake.list("stable", "/usr/bin/stable\n");
  fake.md5sums("stable", md5_line(kMd5Hello, "usr/bin/stable"));
  PackageDbOptions options = fake.options();
  options.reload_check_interval = std::chrono::milliseconds(0);
  PackageDb db(options);

  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  readers.reserve(4);
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (db.lookup("/usr/bin/stable") != PackageFile{"stable", kMd5Hello}) ++wrong;
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    fake.list("extra" + std::to_string(i), "/usr/bin/extra" + std::to_string(i) + "\n");
    fake.set_status_mtime(1000000001 + i);
    db.reload_if_changed();  // false if a reader is checking right now: fine either way
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop.store(true);
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(wrong.load(), 0);
  db.reload_if_changed();
  EXPECT_EQ(db.lookup("/usr/bin/extra19"), (PackageFile{"extra19", std::nullopt}));
}

TEST(PackageDbTest, RealHostDatabase) {
  if (::access("/var/lib/dpkg/info/coreutils.list", R_OK) != 0) {
    GTEST_SKIP() << "no dpkg database on this host (/var/lib/dpkg/info/coreutils.list absent)";
  }
  PackageDb db;
  std::optional<PackageFile> echo = db.lookup("/usr/bin/echo");
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->package, "coreutils");
  EXPECT_TRUE(echo->md5.has_value());
  EXPECT_EQ(db.lookup("/usr/bin"), std::nullopt);
  PackageDbStats stats = db.stats();
  RecordProperty("load_ms", std::to_string(stats.load_time.count() / 1000000));
  RecordProperty("files", std::to_string(stats.files));
}

}  // namespace
}  // namespace ward::process
