// The file, process, system and network events end to end: each test does
// the operation from a known child process in a test-owned directory and
// checks the event `ward log` (or an in-process client) reports. Kernel
// muting, network AUTH in the kernel and drop accounting are tested here too.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "e2e_util.h"
#include "ward/ward.h"

namespace ward::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// Runs body in a forked child (exit status = its return value) and reaps it.
struct Child {
  pid_t pid = -1;
  int status = -1;
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }
};
Child run_child(const std::function<int()>& body) {
  Child c;
  c.pid = fork();
  if (c.pid == 0) _exit(body());
  waitpid(c.pid, &c.status, 0);
  return c;
}

bool is_event(const json& e, const char* key, pid_t pid) {
  return e.contains("event") && e["event"].contains(key) && e["process"]["audit_token"]["pid"] == pid;
}

// One `ward log` per suite, subscribed to the suite's types: starting one is
// the slow part, and every test matches only its own child's events.
class SharedLog {
 public:
  void start(std::vector<std::string> events) {
    log_ = std::make_unique<WardLog>(std::move(events));
    ready_ = log_->wait_ready(seconds(90));
  }
  void stop() { log_.reset(); }
  bool ready() const { return ready_; }
  std::string stderr_text() const { return log_ ? log_->stderr_text() : ""; }
  std::size_t count(const char* key, pid_t pid, const std::function<bool(const json&)>& also) {
    std::size_t n = 0;
    for (const auto& e : log_->events()) n += is_event(e, key, pid) && also(e["event"][key]);
    return n;
  }
  std::optional<json> find(const char* key, pid_t pid,
                           const std::function<bool(const json&)>& also = nullptr) {
    return log_->wait_for(
        [&](const json& e) { return is_event(e, key, pid) && (!also || also(e["event"][key])); },
        seconds(15));
  }

 private:
  std::unique_ptr<WardLog> log_;
  bool ready_ = false;
};

// ---------------------------------------------------------------- file events

class FileEventsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    log_.start({"open", "close", "write", "create", "unlink", "rename", "link", "truncate", "setmode",
                "setowner", "utimes", "setextattr", "deleteextattr", "mmap", "mprotect"});
  }
  static void TearDownTestSuite() { log_.stop(); }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
    ASSERT_TRUE(log_.ready()) << log_.stderr_text();
  }
  static SharedLog log_;
  TempDir dir_;
};
SharedLog FileEventsTest::log_;

TEST_F(FileEventsTest, RelativeOpenAfterChdirIsAbsoluteAndFirstWriteIsReportedOnce) {
  std::string sub = dir_.path() + "/sub";
  mkdir(sub.c_str(), 0755);
  Child c = run_child([&] {
    if (chdir(sub.c_str()) != 0) return 1;
    int fd = open("../notes.txt", O_RDWR | O_CREAT | O_APPEND, 0640);
    if (fd < 0) return 2;
    if (write(fd, "a", 1) != 1 || write(fd, "b", 1) != 1) return 3;
    close(fd);
    return 0;
  });
  ASSERT_EQ(c.exit_code(), 0);
  std::string path = dir_.path() + "/notes.txt";
  auto open = log_.find("open", c.pid, [&](const json& e) { return e["file"]["path"] == path; });
  ASSERT_TRUE(open) << "no open of " << path;
  EXPECT_EQ((*open)["event_type"], 10);
  int fflag = (*open)["event"]["open"]["fflag"];
  EXPECT_EQ(fflag & (kFflagRead | kFflagWrite), kFflagRead | kFflagWrite);
  EXPECT_TRUE(fflag & kFflagCreate);
  EXPECT_TRUE(fflag & kFflagAppend);
  EXPECT_EQ((*open)["event"]["open"]["file"]["stat"]["st_mode"], 0100640);
  auto create = log_.find("create", c.pid, [&](const json& e) { return e["destination"]["path"] == path; });
  ASSERT_TRUE(create);
  EXPECT_EQ((*create)["event"]["create"]["mode"], 0100640);
  auto close = log_.find("close", c.pid, [&](const json& e) { return e["target"]["path"] == path; });
  ASSERT_TRUE(close);
  EXPECT_EQ((*close)["event"]["close"]["modified"], true);
  auto write_ev = log_.find("write", c.pid, [&](const json& e) { return e["target"]["path"] == path; });
  ASSERT_TRUE(write_ev);
  // Two writes through one open file: one event.
  EXPECT_EQ(log_.count("write", c.pid, [&](const json& e) { return e["target"]["path"] == path; }), 1u);
  EXPECT_EQ((*open)["process"]["executable"]["path"],
            std::filesystem::read_symlink("/proc/self/exe").string());
}

TEST_F(FileEventsTest, RenameAcrossDirectoriesShowsSourceAndDestination) {
  std::string a = dir_.path() + "/a", b = dir_.path() + "/b";
  mkdir(a.c_str(), 0755);
  mkdir(b.c_str(), 0755);
  std::ofstream(a + "/draft.txt") << "x";
  int bfd = ::open(b.c_str(), O_RDONLY | O_DIRECTORY);
  Child c = run_child([&] {
    if (chdir(a.c_str()) != 0) return 1;
    return renameat(AT_FDCWD, "draft.txt", bfd, "final.txt") == 0 ? 0 : 2;
  });
  ::close(bfd);
  ASSERT_EQ(c.exit_code(), 0);
  auto e = log_.find("rename", c.pid);
  ASSERT_TRUE(e);
  const json& r = (*e)["event"]["rename"];
  EXPECT_EQ(r["source"]["path"], a + "/draft.txt");
  EXPECT_EQ(r["destination"]["path"], b + "/final.txt");
  EXPECT_EQ(r["source"]["path_truncated"], false);
  EXPECT_EQ((*e)["event_type"], 25);
}

TEST_F(FileEventsTest, UnlinkShowsPathAndParent) {
  std::string victim = dir_.path() + "/victim", gone = dir_.path() + "/gone";
  std::ofstream(victim) << "x";
  mkdir(gone.c_str(), 0755);
  int dfd = ::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  Child c = run_child([&] {
    if (unlinkat(dfd, "victim", 0) != 0) return 1;
    return unlinkat(dfd, "./gone/../gone", AT_REMOVEDIR) == 0 ? 0 : 2;
  });
  ::close(dfd);
  ASSERT_EQ(c.exit_code(), 0);
  auto u = log_.find("unlink", c.pid, [&](const json& e) { return e["target"]["path"] == victim; });
  ASSERT_TRUE(u) << "no unlink of " << victim;
  EXPECT_EQ((*u)["event"]["unlink"]["parent_dir"]["path"], dir_.path());
  EXPECT_EQ((*u)["event"]["unlink"]["is_directory"], false);
  auto d = log_.find("unlink", c.pid, [&](const json& e) { return e["target"]["path"] == gone; });
  ASSERT_TRUE(d) << "'./gone/../gone' should resolve to " << gone;
  EXPECT_EQ((*d)["event"]["unlink"]["is_directory"], true);
}

TEST_F(FileEventsTest, ChmodShowsTheNewMode) {
  std::string f = dir_.path() + "/tool";
  std::ofstream(f) << "x";
  Child c = run_child([&] {
    if (chmod(f.c_str(), 04751) != 0) return 1;
    int fd = ::open(f.c_str(), O_RDONLY);
    int r = fchmod(fd, 0600);
    ::close(fd);
    return r == 0 ? 0 : 2;
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto m = log_.find("setmode", c.pid, [](const json& e) { return e["mode"] == 04751; });
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["event"]["setmode"]["target"]["path"], f);
  auto fm = log_.find("setmode", c.pid, [](const json& e) { return e["mode"] == 0600; });
  ASSERT_TRUE(fm) << "fchmod";
  EXPECT_EQ((*fm)["event"]["setmode"]["target"]["path"], f);
  EXPECT_FALSE((*fm)["event"]["setmode"]["target"]["stat"].is_null()) << "an fd names the inode";
}

TEST_F(FileEventsTest, LinkSymlinkAndMkdir) {
  std::string src = dir_.path() + "/src", links = dir_.path() + "/links";
  std::ofstream(src) << "x";
  Child c = run_child([&] {
    if (mkdir(links.c_str(), 0750) != 0) return 1;
    if (link(src.c_str(), (links + "/hard").c_str()) != 0) return 2;
    return symlink("../src", (links + "/soft").c_str()) == 0 ? 0 : 3;
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto mk = log_.find("create", c.pid, [&](const json& e) { return e["destination"]["path"] == links; });
  ASSERT_TRUE(mk);
  EXPECT_EQ((*mk)["event"]["create"]["mode"], 040750);
  auto ln = log_.find("link", c.pid);
  ASSERT_TRUE(ln);
  EXPECT_EQ((*ln)["event"]["link"]["source"]["path"], src);
  EXPECT_EQ((*ln)["event"]["link"]["target_dir"]["path"], links);
  EXPECT_EQ((*ln)["event"]["link"]["target_filename"], "hard");
  auto sym =
      log_.find("create", c.pid, [&](const json& e) { return e["destination"]["path"] == links + "/soft"; });
  ASSERT_TRUE(sym);
  EXPECT_EQ((*sym)["event"]["create"]["symlink_target"], "../src");
  EXPECT_EQ((*sym)["event"]["create"]["mode"], 0120777);
}

TEST_F(FileEventsTest, TruncateChownUtimesAndXattrs) {
  std::string f = dir_.path() + "/data";
  std::ofstream(f) << "0123456789";
  Child c = run_child([&] {
    if (truncate(f.c_str(), 4) != 0) return 1;
    if (chown(f.c_str(), 1234, static_cast<gid_t>(-1)) != 0) return 2;
    timespec times[2] = {{0, UTIME_OMIT}, {1600000000, 250}};
    if (utimensat(AT_FDCWD, f.c_str(), times, 0) != 0) return 3;
    if (setxattr(f.c_str(), "user.ward", "1", 1, 0) != 0) return 4;
    return removexattr(f.c_str(), "user.ward") == 0 ? 0 : 5;
  });
  ASSERT_EQ(c.exit_code(), 0) << "xattrs need a file system with user xattrs (ext4, tmpfs)";
  auto t = log_.find("truncate", c.pid);
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)["event"]["truncate"]["target"]["path"], f);
  EXPECT_EQ((*t)["event"]["truncate"]["length"], 4);
  auto o = log_.find("setowner", c.pid);
  ASSERT_TRUE(o);
  EXPECT_EQ((*o)["event"]["setowner"]["uid"], 1234);
  EXPECT_EQ((*o)["event"]["setowner"]["gid"], 4294967295u);
  auto u = log_.find("utimes", c.pid);
  ASSERT_TRUE(u);
  EXPECT_TRUE((*u)["event"]["utimes"]["atime"].is_null()) << "UTIME_OMIT leaves atime";
  EXPECT_EQ((*u)["event"]["utimes"]["mtime"], "2020-09-13T12:26:40.000000250Z");
  auto sx = log_.find("setextattr", c.pid);
  ASSERT_TRUE(sx);
  EXPECT_EQ((*sx)["event"]["setextattr"]["extattr"], "user.ward");
  EXPECT_EQ((*sx)["event"]["setextattr"]["target"]["path"], f);
  auto dx = log_.find("deleteextattr", c.pid);
  ASSERT_TRUE(dx);
  EXPECT_EQ((*dx)["event"]["deleteextattr"]["extattr"], "user.ward");
}

TEST_F(FileEventsTest, ExecutableMappingAndMprotectAddingExec) {
  std::string lib = dir_.path() + "/blob.so";
  std::filesystem::copy_file("/usr/bin/true", lib);
  Child c = run_child([&] {
    int fd = ::open(lib.c_str(), O_RDONLY);
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return 1;
    void* anon = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (anon == MAP_FAILED) return 2;
    return mprotect(anon, 8192, PROT_READ | PROT_EXEC) == 0 ? 0 : 3;
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto m = log_.find("mmap", c.pid, [&](const json& e) { return e["source"]["path"] == lib; });
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["event"]["mmap"]["protection"], PROT_READ | PROT_EXEC);
  EXPECT_EQ((*m)["event"]["mmap"]["flags"].get<int>() & MAP_PRIVATE, MAP_PRIVATE);
  auto mp = log_.find("mprotect", c.pid);
  ASSERT_TRUE(mp);
  EXPECT_EQ((*mp)["event"]["mprotect"]["protection"], PROT_READ | PROT_EXEC);
  EXPECT_EQ((*mp)["event"]["mprotect"]["size"], 8192);
}

TEST_F(FileEventsTest, OpenThroughASymlinkShowsWhatTheKernelOpened) {
  std::string real = dir_.path() + "/real", alias = dir_.path() + "/alias";
  mkdir(real.c_str(), 0755);
  std::ofstream(real + "/f") << "x";
  ASSERT_EQ(symlink(real.c_str(), alias.c_str()), 0);
  Child c = run_child([&] {
    int fd = ::open((alias + "/f").c_str(), O_RDONLY);
    return fd >= 0 ? 0 : 1;
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto o = log_.find("open", c.pid, [&](const json& e) { return e["file"]["path"] == real + "/f"; });
  EXPECT_TRUE(o) << "the open should name " << real << "/f";
}

// ---------------------------------------------------------------- process and system events

class SystemEventsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    log_.start({"signal", "trace", "setuid", "setgid", "seteuid", "setegid", "setreuid", "setregid", "chdir",
                "chroot", "proc_check", "kextload", "mount", "unmount", "settime", "bpf", "memfd_create"});
  }
  static void TearDownTestSuite() { log_.stop(); }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
    ASSERT_TRUE(log_.ready()) << log_.stderr_text();
  }
  static SharedLog log_;
  TempDir dir_;
};
SharedLog SystemEventsTest::log_;

pid_t sleeper() {
  pid_t p = fork();
  if (p == 0) {
    for (;;) pause();
  }
  return p;
}

void reap(pid_t p) {
  kill(p, SIGKILL);
  waitpid(p, nullptr, 0);
}

TEST_F(SystemEventsTest, KillShowsSignalAndTarget) {
  pid_t target = sleeper();
  Child c = run_child([&] { return kill(target, SIGUSR2) == 0 ? 0 : 1; });
  reap(target);
  ASSERT_EQ(c.exit_code(), 0);
  auto e =
      log_.find("signal", c.pid, [&](const json& s) { return s["target"]["audit_token"]["pid"] == target; });
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["event"]["signal"]["sig"], SIGUSR2);
  EXPECT_EQ((*e)["event_type"], 31);
}

TEST_F(SystemEventsTest, PtraceAttachShowsTheTarget) {
  pid_t target = sleeper();
  Child c = run_child([&] {
    if (ptrace(PTRACE_ATTACH, target, nullptr, nullptr) != 0) return 1;
    waitpid(target, nullptr, 0);
    ptrace(PTRACE_DETACH, target, nullptr, nullptr);
    return 0;
  });
  reap(target);
  ASSERT_EQ(c.exit_code(), 0);
  auto e = log_.find("trace", c.pid);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["event"]["trace"]["target"]["audit_token"]["pid"], target);
  EXPECT_EQ((*e)["event"]["trace"]["request"], PTRACE_ATTACH);
  EXPECT_EQ((*e)["event"]["trace"]["result"], 0);
}

TEST_F(SystemEventsTest, SetuidFamilyShowsTheIds) {
  Child c = run_child([] {
    if (setgid(4321) != 0 || setegid(4322) != 0 || setregid(4323, 4324) != 0) return 1;
    if (seteuid(4325) != 0 || seteuid(0) != 0 || setreuid(4326, 4327) != 0) return 2;
    return setuid(4328) == -1 ? 0 : 3;  // no longer root: refused, and still reported
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto g = log_.find("setgid", c.pid);
  ASSERT_TRUE(g);
  EXPECT_EQ((*g)["event"]["setgid"]["gid"], 4321);
  auto eg = log_.find("setegid", c.pid);
  ASSERT_TRUE(eg);
  EXPECT_EQ((*eg)["event"]["setegid"]["egid"], 4322);
  auto rg = log_.find("setregid", c.pid);
  ASSERT_TRUE(rg);
  EXPECT_EQ((*rg)["event"]["setregid"]["rgid"], 4323);
  EXPECT_EQ((*rg)["event"]["setregid"]["egid"], 4324);
  auto eu = log_.find("seteuid", c.pid, [](const json& e) { return e["euid"] == 4325; });
  ASSERT_TRUE(eu);
  auto ru = log_.find("setreuid", c.pid);
  ASSERT_TRUE(ru);
  EXPECT_EQ((*ru)["event"]["setreuid"]["ruid"], 4326);
  EXPECT_EQ((*ru)["event"]["setreuid"]["euid"], 4327);
  auto u = log_.find("setuid", c.pid);
  ASSERT_TRUE(u);
  EXPECT_EQ((*u)["event"]["setuid"]["uid"], 4328);
  EXPECT_EQ((*u)["event"]["setuid"]["result"], -EPERM);
}

TEST_F(SystemEventsTest, ChdirAndChroot) {
  std::string jail = dir_.path() + "/jail";
  mkdir(jail.c_str(), 0755);
  Child c = run_child([&] {
    if (chdir(dir_.path().c_str()) != 0 || chdir("jail/.") != 0) return 1;
    return chroot(".") == 0 ? 0 : 2;
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto cd = log_.find("chdir", c.pid, [&](const json& e) { return e["target"]["path"] == jail; });
  ASSERT_TRUE(cd) << "chdir(\"jail/.\") should resolve to " << jail;
  auto cr = log_.find("chroot", c.pid);
  ASSERT_TRUE(cr);
  EXPECT_EQ((*cr)["event"]["chroot"]["target"]["path"], jail);
}

TEST_F(SystemEventsTest, ProcCheckOfAnotherProcessMemory) {
  pid_t target = sleeper();
  static int secret = 42;
  Child c = run_child([&] {
    int copy = 0;
    iovec local{&copy, sizeof(copy)}, remote{&secret, sizeof(secret)};
    if (process_vm_readv(target, &local, 1, &remote, 1, 0) != sizeof(copy)) return 1;
    std::string mem = "/proc/" + std::to_string(target) + "/mem";
    int fd = ::open(mem.c_str(), O_RDONLY);
    ::close(fd);
    return fd >= 0 ? 0 : 2;
  });
  reap(target);
  ASSERT_EQ(c.exit_code(), 0);
  auto vm = log_.find("proc_check", c.pid, [](const json& e) { return e["type"] == kProcCheckVmRead; });
  ASSERT_TRUE(vm);
  EXPECT_EQ((*vm)["event"]["proc_check"]["target"]["audit_token"]["pid"], target);
  EXPECT_EQ((*vm)["event"]["proc_check"]["result"], 4);
  auto mem = log_.find("proc_check", c.pid, [](const json& e) { return e["type"] == kProcCheckMemOpen; });
  ASSERT_TRUE(mem);
  EXPECT_EQ((*mem)["event"]["proc_check"]["target"]["audit_token"]["pid"], target);
}

TEST_F(SystemEventsTest, ModuleLoadAttemptShowsTheFile) {
  std::string notmod = dir_.path() + "/not-a-module.ko";
  std::ofstream(notmod) << "this is not an ELF module";
  Child c = run_child([&] {
    int fd = ::open(notmod.c_str(), O_RDONLY);
    long r = syscall(SYS_finit_module, fd, "", 0);
    return r != 0 ? 0 : 1;  // must fail
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto e = log_.find("kextload", c.pid);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["event"]["kextload"]["file"]["path"], notmod);
  EXPECT_EQ((*e)["event"]["kextload"]["identifier"], "not-a-module");
  EXPECT_LT((*e)["event"]["kextload"]["result"], 0);
}

TEST_F(SystemEventsTest, MountAndUnmountInAPrivateNamespace) {
  std::string mnt = dir_.path() + "/mnt";
  mkdir(mnt.c_str(), 0755);
  Child c = run_child([&] {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return 1;
    if (chdir(dir_.path().c_str()) != 0) return 2;
    if (mount("ward-e2e", "mnt", "tmpfs", MS_NOSUID, "size=1m") != 0) return 3;
    return umount2("./mnt", MNT_DETACH) == 0 ? 0 : 4;
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto m = log_.find("mount", c.pid, [](const json& e) { return e["fstype"] == "tmpfs"; });
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["event"]["mount"]["mountpoint"]["path"], mnt);
  EXPECT_EQ((*m)["event"]["mount"]["source"], "ward-e2e");
  EXPECT_EQ((*m)["event"]["mount"]["flags"], MS_NOSUID);
  EXPECT_EQ((*m)["event"]["mount"]["result"], 0);
  auto u = log_.find("unmount", c.pid);
  ASSERT_TRUE(u);
  EXPECT_EQ((*u)["event"]["unmount"]["mountpoint"]["path"], mnt);
  EXPECT_EQ((*u)["event"]["unmount"]["flags"], MNT_DETACH);
}

TEST_F(SystemEventsTest, SettimeAttemptIsReportedWithoutChangingTheClock) {
  Child c = run_child([] {
    timespec bad{};
    clock_gettime(CLOCK_REALTIME, &bad);
    bad.tv_nsec = 2'000'000'000;  // invalid: the kernel refuses, the clock stays
    return syscall(SYS_clock_settime, CLOCK_REALTIME, &bad) == -1 && errno == EINVAL ? 0 : 1;
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto e = log_.find("settime", c.pid);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["event"]["settime"]["clock_id"], CLOCK_REALTIME);
  EXPECT_EQ((*e)["event"]["settime"]["result"], -EINVAL);
}

TEST_F(SystemEventsTest, BpfMapCreateAndMemfd) {
  Child c = run_child([] {
    bpf_attr attr{};
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    std::strcpy(attr.map_name, "ward_e2e_map");
    long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
    if (fd < 0) return 1;
    ::close(static_cast<int>(fd));
    int m = memfd_create("ward-e2e-memfd", MFD_CLOEXEC);
    return m >= 0 ? 0 : 2;
  });
  ASSERT_EQ(c.exit_code(), 0);
  auto b = log_.find("bpf", c.pid, [](const json& e) { return e["name"] == "ward_e2e_map"; });
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)["event"]["bpf"]["cmd"], BPF_MAP_CREATE);
  EXPECT_EQ((*b)["event"]["bpf"]["type"], BPF_MAP_TYPE_ARRAY);
  EXPECT_GE((*b)["event"]["bpf"]["result"], 0);
  auto m = log_.find("memfd_create", c.pid);
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["event"]["memfd_create"]["name"], "ward-e2e-memfd");
  EXPECT_EQ((*m)["event"]["memfd_create"]["flags"], MFD_CLOEXEC);
}

// ---------------------------------------------------------------- network events

class NetworkEventsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    log_.start({"connect", "bind", "accept", "uipc_connect", "uipc_bind"});
  }
  static void TearDownTestSuite() { log_.stop(); }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
    ASSERT_TRUE(log_.ready()) << log_.stderr_text();
  }
  static SharedLog log_;
  TempDir dir_;
};
SharedLog NetworkEventsTest::log_;

// A TCP listener on 127.0.0.1 and a free port.
TEST_F(NetworkEventsTest, ConnectBindAcceptShowAddressesAndPorts) {
  pid_t self = getpid();
  Listener l;
  Child c = run_child([&] { return connect_loopback(l.port) == 0 ? 0 : 1; });
  ASSERT_EQ(c.exit_code(), 0);
  int a = accept(l.fd, nullptr, nullptr);
  ASSERT_GE(a, 0);
  close(a);
  auto con = log_.find("connect", c.pid);
  ASSERT_TRUE(con);
  const json& ce = (*con)["event"]["connect"];
  EXPECT_EQ(ce["remote"]["address"], "127.0.0.1");
  EXPECT_EQ(ce["remote"]["port"], l.port);
  EXPECT_EQ(ce["remote"]["family"], AF_INET);
  EXPECT_EQ(ce["protocol"], IPPROTO_TCP);
  EXPECT_EQ(ce["result"], 0);
  uint32_t client_port = ce["local"]["port"];
  EXPECT_NE(client_port, 0u);
  auto b = log_.find("bind", self, [&](const json& e) { return e["local"]["port"] == l.port; });
  ASSERT_TRUE(b) << "the listener's bind";
  EXPECT_EQ((*b)["event"]["bind"]["local"]["address"], "127.0.0.1");
  auto acc = log_.find("accept", self, [&](const json& e) { return e["local"]["port"] == l.port; });
  ASSERT_TRUE(acc);
  EXPECT_EQ((*acc)["event"]["accept"]["remote"]["port"], client_port);
}

TEST_F(NetworkEventsTest, UnixSocketBindAndConnect) {
  std::string sock = dir_.path() + "/app.sock";
  int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  Child b = run_child([&] {
    if (chdir(dir_.path().c_str()) != 0) return 1;
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, "app.sock");
    return bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && listen(srv, 1) == 0 ? 0 : 2;
  });
  ASSERT_EQ(b.exit_code(), 0);
  Child c = run_child([&] {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, sock.c_str(), sizeof(a.sun_path) - 1);
    return connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 ? 0 : 1;
  });
  close(srv);
  ASSERT_EQ(c.exit_code(), 0);
  auto ub = log_.find("uipc_bind", b.pid);
  ASSERT_TRUE(ub);
  EXPECT_EQ((*ub)["event"]["uipc_bind"]["dir"]["path"], dir_.path());
  EXPECT_EQ((*ub)["event"]["uipc_bind"]["filename"], "app.sock");
  auto uc = log_.find("uipc_connect", c.pid);
  ASSERT_TRUE(uc);
  EXPECT_EQ((*uc)["event"]["uipc_connect"]["file"]["path"], sock);
  EXPECT_EQ((*uc)["event"]["uipc_connect"]["type"], SOCK_STREAM);
}

// ---------------------------------------------------------------- muting in the kernel

// An in-process client: its stats say what the kernel filtered.
class Collector {
 public:
  explicit Collector(std::vector<EventType> types) {
    auto c = Client::create([this](const Message& m) {
      std::lock_guard lock(mu_);
      messages_.push_back(m);
    });
    if (!c) throw std::runtime_error(c.status().message());
    client_ = std::move(c.value());
    types_ = std::move(types);
  }
  Status subscribe() { return client_->subscribe(std::span(types_.data(), types_.size())); }
  Client& client() { return *client_; }
  // Messages naming a path under `prefix` (any file-ish field).
  std::vector<Message> under(const std::string& prefix) {
    std::lock_guard lock(mu_);
    std::vector<Message> out;
    for (const auto& m : messages_)
      if (path_of(m).rfind(prefix, 0) == 0) out.push_back(m);
    return out;
  }
  std::vector<Message> all() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  static std::string path_of(const Message& m) {
    if (auto* o = m.as<OpenEvent>()) return o->file.path;
    if (auto* c = m.as<CreateEvent>()) return c->destination.path;
    if (auto* c = m.as<CloseEvent>()) return c->target.path;
    if (auto* w = m.as<WriteEvent>()) return w->target.path;
    if (auto* u = m.as<UnlinkEvent>()) return u->target.path;
    if (auto* r = m.as<RenameEvent>()) return r->source.path;
    return {};
  }

 private:
  std::mutex mu_;
  std::vector<Message> messages_;
  std::unique_ptr<Client> client_;
  std::vector<EventType> types_;
};

// n files created, written and closed in dir by a child; its pid.
pid_t file_burst(const std::string& dir, int n, const std::string& exe = "") {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(dir + "/f" + std::to_string(i));
  if (!exe.empty()) {
    // The given program does the work (its executable is what is muted).
    std::vector<std::string> argv = {exe};
    argv.insert(argv.end(), names.begin(), names.end());
    return run(argv).pid;
  }
  return run_child([&] {
           for (const auto& f : names) {
             int fd = open(f.c_str(), O_CREAT | O_WRONLY, 0644);
             if (fd < 0 || write(fd, "x", 1) != 1) return 1;
             close(fd);
           }
           return 0;
         })
      .pid;
}

class KernelMutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
  }
  const std::vector<EventType> kFile = {EventType::NotifyOpen, EventType::NotifyCreate,
                                        EventType::NotifyWrite, EventType::NotifyClose};
  TempDir dir_;
};

TEST_F(KernelMutingTest, MutedTargetPrefixNeverCrossesTheRingBuffer) {
  Collector c(kFile);
  ASSERT_TRUE(c.client().mute_path(dir_.path() + "/", MutePathType::TargetPrefix));
  ASSERT_TRUE(c.subscribe());
  uint64_t filtered_before = c.client().stats().kernel_filtered;
  constexpr int kFiles = 50;
  pid_t pid = file_burst(dir_.path(), kFiles);
  sleep(1);
  EXPECT_TRUE(c.under(dir_.path() + "/").empty()) << "muted events were delivered";
  uint64_t filtered = c.client().stats().kernel_filtered - filtered_before;
  // open + create + write + close per file, all dropped in the kernel.
  EXPECT_GE(filtered, 4u * kFiles) << "the kernel should have filtered them (pid " << pid << ")";
  std::printf("kernel filtered %llu events of a %d-file burst\n", static_cast<unsigned long long>(filtered),
              kFiles);

  // Unmuted, the same work is seen.
  ASSERT_TRUE(c.client().unmute_path(dir_.path() + "/", MutePathType::TargetPrefix));
  std::string after = dir_.path() + "/after";
  mkdir(after.c_str(), 0755);
  file_burst(after, 3);
  sleep(1);
  EXPECT_GE(c.under(after).size(), 3u * 4);
}

TEST_F(KernelMutingTest, InvertedTargetMutingDeliversOnlyTheSelection) {
  std::string sel = dir_.path() + "/selected", other = dir_.path() + "/other";
  mkdir(sel.c_str(), 0755);
  mkdir(other.c_str(), 0755);
  Collector c(kFile);
  ASSERT_TRUE(c.client().invert_muting(MuteInversionType::TargetPath));
  ASSERT_TRUE(c.client().mute_path(sel, MutePathType::TargetPrefix));
  ASSERT_TRUE(c.subscribe());
  uint64_t filtered_before = c.client().stats().kernel_filtered;
  file_burst(sel, 5);
  file_burst(other, 5);
  sleep(1);
  EXPECT_GE(c.under(sel).size(), 5u * 4);
  EXPECT_TRUE(c.under(other).empty());
  for (const auto& m : c.under("/"))
    EXPECT_EQ(Collector::path_of(m).rfind(sel, 0), 0u)
        << "delivered outside the selection: " << Collector::path_of(m);
  EXPECT_GE(c.client().stats().kernel_filtered - filtered_before, 5u * 4) << "the other directory's events";
}

TEST_F(KernelMutingTest, MutedExecutablePathIsFilteredByTheKernel) {
  std::string bin = dir_.path() + "/bin";
  mkdir(bin.c_str(), 0755);
  std::string touch = bin + "/mytouch";
  std::filesystem::copy_file("/usr/bin/touch", touch);
  chmod(touch.c_str(), 0755);
  std::string work = dir_.path() + "/work";
  mkdir(work.c_str(), 0755);
  Collector c(kFile);
  ASSERT_TRUE(c.client().mute_path(touch, MutePathType::Literal));
  ASSERT_TRUE(c.subscribe());
  uint64_t filtered_before = c.client().stats().kernel_filtered;
  file_burst(work, 10, touch);
  sleep(1);
  EXPECT_TRUE(c.under(work).empty());
  EXPECT_GE(c.client().stats().kernel_filtered - filtered_before, 10u) << "touch's opens and creates";
}

TEST_F(KernelMutingTest, KernelDropsOnlyWhatEveryClientMutes) {
  Collector muting(kFile), watching(kFile);
  ASSERT_TRUE(muting.client().mute_path(dir_.path(), MutePathType::TargetPrefix));
  ASSERT_TRUE(muting.subscribe());
  ASSERT_TRUE(watching.subscribe());
  file_burst(dir_.path(), 10);
  sleep(1);
  EXPECT_TRUE(muting.under(dir_.path()).empty()) << "user space still applies each client's mutes";
  EXPECT_GE(watching.under(dir_.path()).size(), 10u * 4) << "the kernel must not drop what one client wants";
}

TEST_F(KernelMutingTest, MutedProcessIsFilteredByTheKernel) {
  Collector c({EventType::NotifyFork, EventType::NotifyOpen, EventType::NotifyCreate, EventType::NotifyClose,
               EventType::NotifyWrite});
  ASSERT_TRUE(c.subscribe());
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  std::string f = dir_.path() + "/by-muted";
  pid_t child = fork();
  if (child == 0) {
    char b;
    if (read(go[0], &b, 1) != 1) _exit(1);
    for (int i = 0; i < 10; ++i) {
      int fd = open((f + std::to_string(i)).c_str(), O_CREAT | O_WRONLY, 0644);
      close(fd);
    }
    _exit(0);
  }
  // The child's token, from its fork event.
  std::optional<AuditToken> token;
  for (int i = 0; i < 100 && !token; ++i) {
    usleep(100'000);
    for (const auto& m : c.all())
      if (auto* fe = m.as<ForkEvent>(); fe && fe->child->audit_token.pid == child)
        token = fe->child->audit_token;
  }
  ASSERT_TRUE(token) << "no fork event for the child";
  ASSERT_TRUE(c.client().mute_process(*token));
  uint64_t filtered_before = c.client().stats().kernel_filtered;
  ASSERT_EQ(write(go[1], "g", 1), 1);
  waitpid(child, nullptr, 0);
  close(go[0]);
  close(go[1]);
  sleep(1);
  EXPECT_TRUE(c.under(f).empty());
  EXPECT_GE(c.client().stats().kernel_filtered - filtered_before, 10u * 3);
}

// ---------------------------------------------------------------- network AUTH in the kernel

TEST(NetworkAuthTest, DeniedConnectFailsWithEpermAndIsLogged) {
  if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
  TestCgroup cg;
  ASSERT_FALSE(cg.path().empty()) << "no cgroup v2 hierarchy to make a test cgroup in";
  Listener denied, allowed, by_exe;
  Collector c({EventType::NotifyAuthResult, EventType::NotifyConnect});
  ASSERT_TRUE(c.subscribe());
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  NetworkPolicy policy;
  policy.cgroup = cg.path();
  policy.rules.push_back({"deny-port", NetworkDirection::Connect, NetworkProtocol::Tcp, "127.0.0.0/8",
                          denied.port, 0, std::nullopt, std::nullopt});
  policy.rules.push_back({"deny-this-exe", NetworkDirection::Connect, NetworkProtocol::Any, "", by_exe.port,
                          0, self, std::nullopt});
  Status s = c.client().set_network_policy(policy);
  ASSERT_TRUE(s) << s.message();

  Child child = run_child([&] {
    if (!cg.enter()) return 10;
    int err = 0;
    if (connect_loopback(denied.port, &err) == 0 || err != EPERM) return 1;
    if (connect_loopback(allowed.port) != 0) return 2;
    if (connect_loopback(by_exe.port, &err) == 0 || err != EPERM) return 3;
    return 0;
  });
  // Outside the cgroup nothing is denied.
  EXPECT_EQ(connect_loopback(denied.port), 0);
  EXPECT_EQ(child.exit_code(), 0) << "1: not denied, 2: allowed connect refused, 3: exe rule, 10: cgroup";
  sleep(1);
  int denials = 0;
  bool saw_port_rule = false, saw_exe_rule = false, saw_failed_connect = false;
  for (const auto& m : c.all()) {
    if (auto* r = m.as<AuthResultEvent>()) {
      if (m.process->audit_token.pid != child.pid) continue;
      ++denials;
      EXPECT_EQ(r->result, "deny");
      EXPECT_EQ(r->decided_by, "kernel");
      if (r->rule == "deny-port") {
        saw_port_rule = true;
        EXPECT_EQ(r->target, "tcp://127.0.0.1:" + std::to_string(denied.port));
      }
      saw_exe_rule = saw_exe_rule || r->rule == "deny-this-exe";
    }
    if (auto* ce = m.as<ConnectEvent>();
        ce && m.process->audit_token.pid == child.pid && ce->remote.port == denied.port)
      saw_failed_connect = ce->result == -EPERM;
  }
  EXPECT_EQ(denials, 2);
  EXPECT_TRUE(saw_port_rule);
  EXPECT_TRUE(saw_exe_rule);
  EXPECT_TRUE(saw_failed_connect) << "the connect event shows -EPERM";
  EXPECT_TRUE(c.client().clear_network_policy());
}

// ---------------------------------------------------------------- drops and the CLI

TEST(ActivityDropsTest, FileStormDropsAreReportedAndMatchSeqGaps) {
  if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
  TempDir dir;
  constexpr int kFiles = 3000;
  WardLog log({"--queue-size", "64", "create"});
  ASSERT_TRUE(log.wait_ready(seconds(90))) << log.stderr_text();
  log.pause_reading(true);  // stdout fills, the client queue overflows
  pid_t pid = file_burst(dir.path(), kFiles);
  log.pause_reading(false);
  sleep(2);
  Child marker = run_child([&] {
    int fd = open((dir.path() + "/marker").c_str(), O_CREAT | O_WRONLY, 0644);
    return fd >= 0 ? 0 : 1;
  });
  ASSERT_TRUE(log.wait_for([&](const json& e) { return is_event(e, "create", marker.pid); }, seconds(60)));
  log.stop();
  uint64_t drops = 0, gaps = 0, seen = 0;
  std::optional<uint64_t> last;
  for (const auto& e : log.events()) {
    if (e.contains("drop")) {
      if (e["drop"]["event_type"] == 13) drops += e["drop"]["count"].get<uint64_t>();
      continue;
    }
    if (!e["event"].contains("create")) continue;
    uint64_t seq = e["seq_num"];
    if (last && seq > *last) gaps += seq - *last - 1;
    last = seq;
    if (e["process"]["audit_token"]["pid"] == pid) ++seen;
  }
  EXPECT_GT(drops, 0u) << "the test should have forced drops";
  EXPECT_EQ(gaps, drops) << "every gap reported, nothing reported that was not a gap";
  EXPECT_GE(seen + drops, static_cast<uint64_t>(kFiles)) << "lost without a drop record";
}

TEST(ActivityCliTest, LogListsEveryEventNameAndAcceptsThem) {
  std::string out = shell_output(bin_path("ward") + " log --list");
  for (const auto& info : kEventTypes)
    EXPECT_NE(out.find(std::string(info.name) + " "), std::string::npos) << info.name;
  RunResult bad = run({bin_path("ward"), "log", "rename", "no-such-event"});
  EXPECT_TRUE(WIFEXITED(bad.status) && WEXITSTATUS(bad.status) == 2);
}

}  // namespace
}  // namespace ward::e2e
