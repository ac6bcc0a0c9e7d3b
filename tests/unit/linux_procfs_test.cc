// LinuxProcFs and its parsers, over fixture /proc and /sys trees.
#include "process/linux_procfs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ward::process {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

// A stat line with every field up to starttime (22) and a few after.
std::string stat_line(const std::string& pid_and_comm, const std::string& ppid, const std::string& tty_nr,
                      const std::string& starttime) {
  return pid_and_comm + " S " + ppid + " 4000 4001 " + tty_nr + " 4000 4194304 100 0 0 0 1 2 0 0 20 -5 1 0 " +
         starttime + " 3133440 390 18446744073709551615\n";
}

constexpr char kStatusText[] =
    "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t1\n"
    "TracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\nGid:\t2000\t2001\t2002\t2003\nFDSize:\t256\n";

TEST(ParseProcStat, CommWithParenthesesAndSpaces) {
  auto fields = parse_proc_stat(stat_line("4242 (a) (b c)", "1", "34816", "74713"));
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->pid, 4242);
  EXPECT_EQ(fields->comm, "a) (b c");
  EXPECT_EQ(fields->state, 'S');
  EXPECT_EQ(fields->ppid, 1);
  EXPECT_EQ(fields->pgrp, 4000);
  EXPECT_EQ(fields->session, 4001);
  EXPECT_EQ(fields->tty_nr, 34816u);
  EXPECT_EQ(fields->start_ticks, 74713u);
}

TEST(ParseProcStat, EmptyCommAndCommEndingInParen) {
  auto empty = parse_proc_stat(stat_line("7 ()", "0", "0", "5"));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->comm, "");
  auto paren = parse_proc_stat(stat_line("7 (x))", "0", "0", "5"));
  ASSERT_TRUE(paren);
  EXPECT_EQ(paren->comm, "x)");
}

TEST(ParseProcStat, NegativeTtyNrKeepsItsBits) {
  // Minor 0xfff00 makes the printed int negative.
  auto fields = parse_proc_stat(stat_line("7 (x)", "1", "-2147448832", "5"));
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->tty_nr, 0x80008800u);
}

TEST(ParseProcStat, RejectsBrokenInput) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("garbage"));
  EXPECT_FALSE(parse_proc_stat("12 (x"));
  EXPECT_FALSE(parse_proc_stat("12 x) S 1 2 3 4"));
  EXPECT_FALSE(parse_proc_stat("abc (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19"));
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2 3 4"));  // cut before starttime
  EXPECT_FALSE(parse_proc_stat(stat_line("12 (x)", "one", "0", "5")));
  EXPECT_FALSE(parse_proc_stat(stat_line("12 (x)", "1", "0", "-5")));
  EXPECT_FALSE(parse_proc_stat(") 12 (x"));
}

TEST(ParseProcStatus, ReadsTgidAndIdTriples) {
  auto ids = parse_proc_status(kStatusText);
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->tgid, 4242);
  EXPECT_EQ(ids->ruid, 1000u);
  EXPECT_EQ(ids->euid, 1001u);
  EXPECT_EQ(ids->suid, 1002u);
  EXPECT_EQ(ids->rgid, 2000u);
  EXPECT_EQ(ids->egid, 2001u);
  EXPECT_EQ(ids->sgid, 2002u);
}

TEST(ParseProcStatus, NeedsBothUidAndGid) {
  EXPECT_FALSE(parse_proc_status("Uid:\t1\t2\t3\t4\n"));
  EXPECT_FALSE(parse_proc_status("Gid:\t1\t2\t3\t4\n"));
  EXPECT_FALSE(parse_proc_status("Uid:\t1\t2\nGid:\t1\t2\t3\t4\n"));
  EXPECT_FALSE(parse_proc_status("Uid:\t1\tx\t3\t4\nGid:\t1\t2\t3\t4\n"));
  EXPECT_FALSE(parse_proc_status(""));
  auto no_tgid = parse_proc_status("Uid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8");  // no final newline
  ASSERT_TRUE(no_tgid);
  EXPECT_EQ(no_tgid->tgid, 0);
  EXPECT_EQ(no_tgid->sgid, 7u);
}

TEST(SplitCmdline, TrailingNulEndsTheLastArgument) {
  using Args = std::vector<std::string>;
  EXPECT_EQ(split_cmdline("/bin/echo\0hi\0"s), (Args{"/bin/echo", "hi"}));
  EXPECT_EQ(split_cmdline("/bin/echo\0hi"s), (Args{"/bin/echo", "hi"}));
  EXPECT_EQ(split_cmdline(""s), Args{});
  EXPECT_EQ(split_cmdline("\0"s), Args{""});
  EXPECT_EQ(split_cmdline("a\0\0"s), (Args{"a", ""}));
  EXPECT_EQ(split_cmdline("a\0\0b\0"s), (Args{"a", "", "b"}));
  EXPECT_EQ(split_cmdline("nginx: worker process"s), Args{"nginx: worker process"});
}

TEST(ParseU32Text, LoginuidForms) {
  EXPECT_EQ(parse_u32_text("4294967295"), 4294967295u);
  EXPECT_EQ(parse_u32_text("1000\n"), 1000u);
  EXPECT_FALSE(parse_u32_text(""));
  EXPECT_FALSE(parse_u32_text("-1"));
  EXPECT_FALSE(parse_u32_text("4294967296"));
}

TEST(StripDeletedSuffix, OnlyTheSuffix) {
  std::string deleted = "/usr/bin/foo (deleted)";
  EXPECT_TRUE(strip_deleted_suffix(deleted));
  EXPECT_EQ(deleted, "/usr/bin/foo");
  std::string plain = "/usr/bin/foo";
  EXPECT_FALSE(strip_deleted_suffix(plain));
  EXPECT_EQ(plain, "/usr/bin/foo");
  std::string inside = "/a (deleted)/b";
  EXPECT_FALSE(strip_deleted_suffix(inside));
}

// Kernel encoding of a device number (new_encode_dev).
uint32_t encode_dev(uint32_t major, uint32_t minor) {
  return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

TEST(TtyNames, DecodeTtyNr) {
  EXPECT_EQ(decode_tty_nr(0), (TtyDevice{0, 0}));
  EXPECT_EQ(decode_tty_nr(34816), (TtyDevice{136, 0}));
  EXPECT_EQ(decode_tty_nr(encode_dev(136, 300)), (TtyDevice{136, 300}));
  EXPECT_EQ(decode_tty_nr(encode_dev(4095, 0xfffff)), (TtyDevice{4095, 0xfffff}));
}

TEST(TtyNames, Table) {
  struct Case {
    uint32_t major, minor;
    const char* name;
  };
  const Case cases[] = {
      {136, 0, "/dev/pts/0"},     {136, 7, "/dev/pts/7"},   {136, 255, "/dev/pts/255"},
      {136, 300, "/dev/pts/300"}, {137, 0, "/dev/pts/256"}, {143, 255, "/dev/pts/2047"},
      {4, 0, "/dev/tty0"},        {4, 1, "/dev/tty1"},      {4, 63, "/dev/tty63"},
      {4, 64, "/dev/ttyS0"},      {4, 70, "/dev/ttyS6"},    {4, 255, "/dev/ttyS191"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(well_known_tty_name(encode_dev(c.major, c.minor)), std::optional<std::string>(c.name));
    EXPECT_EQ(tty_name(encode_dev(c.major, c.minor), "/nonexistent"), std::optional<std::string>(c.name));
  }
  EXPECT_EQ(well_known_tty_name(0), std::nullopt);
  EXPECT_EQ(tty_name(0, "/nonexistent"), std::nullopt);
  EXPECT_EQ(well_known_tty_name(encode_dev(5, 1)), std::nullopt);  // needs /sys
  EXPECT_EQ(well_known_tty_name(encode_dev(135, 0)), std::nullopt);
  EXPECT_EQ(well_known_tty_name(encode_dev(144, 0)), std::nullopt);
}

TEST(TtyNames, DevnameFromUevent) {
  EXPECT_EQ(devname_from_uevent("MAJOR=5\nMINOR=1\nDEVNAME=console\n"), "/dev/console");
  EXPECT_EQ(devname_from_uevent("MAJOR=188\nDEVNAME=ttyUSB0"), "/dev/ttyUSB0");
  EXPECT_EQ(devname_from_uevent("MAJOR=5\nMINOR=1\n"), std::nullopt);
  EXPECT_EQ(devname_from_uevent("DEVNAME=\n"), std::nullopt);
  EXPECT_EQ(devname_from_uevent(""), std::nullopt);
}

TEST(TicksToNs, ExactForAnyTickRate) {
  EXPECT_EQ(ticks_to_ns(74713, 100), 747'130'000'000u);
  EXPECT_EQ(ticks_to_ns(1, 250), 4'000'000u);
  EXPECT_EQ(ticks_to_ns(1001, 1000), 1'001'000'000u);
  EXPECT_EQ(ticks_to_ns(4, 3), 1'333'333'333u);
  EXPECT_EQ(ticks_to_ns(0, 100), 0u);
  // A year of uptime at 1000 Hz still fits.
  EXPECT_EQ(ticks_to_ns(31'536'000'000ull, 1000), 31'536'000'000'000'000ull);
}

class ProcFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ward_procfs_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    fs::create_directories(proc() / "4242");
    fs::create_directories(sys() / "dev/char/5:1");
    fs::create_directories(root_ / "files/work dir");
    write(root_ / "files/bash", "#!binary");
    write(sys() / "dev/char/5:1/uevent", "MAJOR=5\nMINOR=1\nDEVNAME=console\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path proc() const { return root_ / "proc"; }
  fs::path sys() const { return root_ / "sys"; }
  fs::path pid_dir() const { return proc() / "4242"; }

  static void write(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }

  // A complete process: stat, status, loginuid, sessionid, exe, cwd, cmdline.
  void write_full_process(const std::string& tty_nr = "34816") {
    write(pid_dir() / "stat", stat_line("4242 (a) (b c)", "1", tty_nr, "74713"));
    write(pid_dir() / "status", kStatusText);
    write(pid_dir() / "loginuid", "1000");
    write(pid_dir() / "sessionid", "3");
    write(pid_dir() / "cmdline", "bash\0-c\0echo hi\0"s);
    fs::create_symlink(root_ / "files/bash", pid_dir() / "exe");
    fs::create_symlink(root_ / "files/work dir", pid_dir() / "cwd");
  }

  std::unique_ptr<ProcFs> procfs() const { return make_linux_procfs(proc().string(), sys().string()); }

  fs::path root_;
};

TEST_F(ProcFixture, ReadsACompleteProcess) {
  write_full_process();
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  const sensors::RawProc& proc = snap->proc;
  EXPECT_EQ(proc.tgid, 4242);
  EXPECT_EQ(proc.ppid, 1);
  EXPECT_EQ(proc.pgid, 4000);
  EXPECT_EQ(proc.sid, 4001);
  EXPECT_EQ(proc.ruid, 1000u);
  EXPECT_EQ(proc.euid, 1001u);
  EXPECT_EQ(proc.suid, 1002u);
  EXPECT_EQ(proc.rgid, 2000u);
  EXPECT_EQ(proc.egid, 2001u);
  EXPECT_EQ(proc.sgid, 2002u);
  EXPECT_EQ(proc.auid, 1000u);
  EXPECT_EQ(proc.sessionid, 3u);
  EXPECT_EQ(proc.comm, "a) (b c");
  EXPECT_EQ(proc.tty, "/dev/pts/0");
  EXPECT_TRUE(proc.start_from_ticks);
  EXPECT_EQ(proc.start_boot_ns, ticks_to_ns(74713, static_cast<uint64_t>(::sysconf(_SC_CLK_TCK))));

  EXPECT_EQ(snap->exe_path, (root_ / "files/bash").string());
  EXPECT_EQ(snap->cwd, (root_ / "files/work dir").string());
  EXPECT_EQ(snap->args, (std::vector<std::string>{"bash", "-c", "echo hi"}));

  struct stat st {};
  ASSERT_EQ(::stat((root_ / "files/bash").c_str(), &st), 0);
  ASSERT_TRUE(snap->exe_stat);
  EXPECT_EQ(snap->exe_stat->dev, st.st_dev);
  EXPECT_EQ(snap->exe_stat->ino, st.st_ino);
  EXPECT_EQ(snap->exe_stat->mode, st.st_mode);
  EXPECT_EQ(snap->exe_stat->uid, st.st_uid);
  EXPECT_EQ(snap->exe_stat->gid, st.st_gid);
  EXPECT_EQ(snap->exe_stat->size, 8);
  EXPECT_EQ(snap->exe_stat->mtime.sec, st.st_mtim.tv_sec);
  EXPECT_EQ(snap->exe_stat->mtime.nsec, static_cast<uint32_t>(st.st_mtim.tv_nsec));
  EXPECT_EQ(snap->exe_stat->ctime.sec, st.st_ctim.tv_sec);
  EXPECT_EQ(snap->exe_stat->ctime.nsec, static_cast<uint32_t>(st.st_ctim.tv_nsec));
}

TEST_F(ProcFixture, TtyResolvedThroughSys) {
  write_full_process(std::to_string(encode_dev(5, 1)));
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->proc.tty, "/dev/console");
}

TEST_F(ProcFixture, TtyWithoutSysEntryNamedByNumber) {
  write_full_process(std::to_string(encode_dev(188, 3)));
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->proc.tty, "/dev/char/188:3");
}

TEST_F(ProcFixture, NoTty) {
  write_full_process("0");
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->proc.tty, std::nullopt);
}

TEST_F(ProcFixture, MissingPidIsGone) { EXPECT_FALSE(procfs()->read(4243)); }

TEST_F(ProcFixture, NonPositivePidIsGone) {
  EXPECT_FALSE(procfs()->read(0));
  EXPECT_FALSE(procfs()->read(-1));
}

TEST_F(ProcFixture, MissingStatIsGone) {
  write_full_process();
  fs::remove(pid_dir() / "stat");
  EXPECT_FALSE(procfs()->read(4242));
}

TEST_F(ProcFixture, GarbledStatIsGone) {
  write_full_process();
  write(pid_dir() / "stat", "4242 (bash");
  EXPECT_FALSE(procfs()->read(4242));
}

TEST_F(ProcFixture, MissingStatusIsGone) {
  write_full_process();
  fs::remove(pid_dir() / "status");
  EXPECT_FALSE(procfs()->read(4242));
}

TEST_F(ProcFixture, MissingAuditFilesMeanUnset) {
  write_full_process();
  fs::remove(pid_dir() / "loginuid");
  fs::remove(pid_dir() / "sessionid");
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->proc.auid, 0xffffffffu);
  EXPECT_EQ(snap->proc.sessionid, 0xffffffffu);
}

TEST_F(ProcFixture, UnreadableLinksAndCmdlineLeaveFieldsEmpty) {
  write_full_process();
  fs::remove(pid_dir() / "exe");
  fs::remove(pid_dir() / "cwd");
  fs::remove(pid_dir() / "cmdline");
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->exe_path, "");
  EXPECT_FALSE(snap->exe_stat);
  EXPECT_EQ(snap->cwd, "");
  EXPECT_TRUE(snap->args.empty());
  EXPECT_EQ(snap->proc.comm, "a) (b c");  // the rest is still there
}

TEST_F(ProcFixture, CmdlineWithoutTrailingNul) {
  write_full_process();
  write(pid_dir() / "cmdline", "nginx: master process");
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->args, std::vector<std::string>{"nginx: master process"});
}

TEST_F(ProcFixture, DeletedExecutableLosesTheMarker) {
  write_full_process();
  fs::remove(pid_dir() / "exe");
  fs::create_symlink("/nonexistent/ward-test-bin (deleted)", pid_dir() / "exe");
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->exe_path, "/nonexistent/ward-test-bin");
  EXPECT_FALSE(snap->exe_stat);
}

TEST_F(ProcFixture, FileReallyNamedDeletedKeepsItsName) {
  write_full_process();
  write(root_ / "files/odd (deleted)", "x");
  fs::remove(pid_dir() / "exe");
  fs::create_symlink(root_ / "files/odd (deleted)", pid_dir() / "exe");
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->exe_path, (root_ / "files/odd (deleted)").string());
  EXPECT_TRUE(snap->exe_stat);
}

TEST_F(ProcFixture, DeletedCwdLosesTheMarker) {
  write_full_process();
  fs::remove(pid_dir() / "cwd");
  fs::create_symlink("/nonexistent/gone (deleted)", pid_dir() / "cwd");
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->cwd, "/nonexistent/gone");
}

TEST_F(ProcFixture, LongLinkTargetsAreNotCut) {
  write_full_process();
  std::string long_target = "/" + std::string(1000, 'd') + "/" + std::string(200, 'x');
  fs::remove(pid_dir() / "cwd");
  fs::create_symlink(long_target, pid_dir() / "cwd");
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->cwd, long_target);
}

TEST_F(ProcFixture, TgidComesFromStatus) {
  // A thread's directory: stat names the thread, status names its group.
  write_full_process();
  write(pid_dir() / "status", "Tgid:\t4000\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
  auto snap = procfs()->read(4242);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->proc.tgid, 4000);
}

TEST_F(ProcFixture, ListPidsOnlyNumericEntries) {
  fs::create_directories(proc() / "1");
  fs::create_directories(proc() / "977");
  fs::create_directories(proc() / "sys");
  fs::create_directories(proc() / "12a");
  fs::create_directories(proc() / "0");
  fs::create_directory_symlink(proc() / "977", proc() / "self");
  write(proc() / "uptime", "1.0 2.0\n");
  EXPECT_EQ(procfs()->list_pids(), (std::vector<pid_t>{1, 977, 4242}));
}

TEST_F(ProcFixture, ListPidsOfMissingRootIsEmpty) {
  EXPECT_TRUE(make_linux_procfs((root_ / "nope").string())->list_pids().empty());
}

TEST(LinuxProcFs, BootTimeIsBootClock) {
  auto procfs = make_linux_procfs();
  timespec before{};
  ::clock_gettime(CLOCK_BOOTTIME, &before);
  uint64_t now = procfs->boot_time_ns_now();
  timespec after{};
  ::clock_gettime(CLOCK_BOOTTIME, &after);
  auto ns = [](const timespec& ts) { return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec; };
  EXPECT_LE(ns(before), now);
  EXPECT_LE(now, ns(after));
}

// The real /proc: this test process is always there to read.
TEST(LinuxProcFs, ReadsSelfFromRealProc) {
  auto procfs = make_linux_procfs();
  auto snap = procfs->read(::getpid());
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->proc.tgid, ::getpid());
  EXPECT_EQ(snap->proc.ppid, ::getppid());
  EXPECT_EQ(snap->proc.pgid, ::getpgrp());
  EXPECT_EQ(snap->proc.ruid, ::getuid());
  EXPECT_EQ(snap->proc.euid, ::geteuid());
  EXPECT_EQ(snap->exe_path, fs::read_symlink("/proc/self/exe").string());
  ASSERT_TRUE(snap->exe_stat);
  EXPECT_EQ(snap->cwd, fs::current_path().string());
  EXPECT_FALSE(snap->args.empty());
  EXPECT_GT(snap->proc.start_boot_ns, 0u);
  EXPECT_LE(snap->proc.start_boot_ns, procfs->boot_time_ns_now());
  auto pids = procfs->list_pids();
  EXPECT_NE(std::find(pids.begin(), pids.end(), ::getpid()), pids.end());
}

}  // namespace
}  // namespace ward::process
