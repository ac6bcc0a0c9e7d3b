#include "process/process_tree.h"

#include <gtest/gtest.h>

#include "../fakes/fake_procfs.h"

namespace ward::process {
namespace {

using sensors::RawExec;
using sensors::RawExit;
using sensors::RawFork;
using sensors::RawProc;

constexpr uint64_t kSec = 1'000'000'000;

RawProc proc(pid_t pid, pid_t ppid, uint64_t start_ns) {
  RawProc p;
  p.tgid = pid;
  p.ppid = ppid;
  p.pgid = pid;
  p.sid = pid;
  p.start_boot_ns = start_ns;
  return p;
}

RawFork fork_of(pid_t parent, uint64_t parent_start, pid_t child, uint64_t child_start) {
  RawFork f;
  f.child = proc(child, parent, child_start);
  f.parent_tgid = parent;
  f.parent_start_boot_ns = parent_start;
  return f;
}

RawExec exec_of(pid_t pid, pid_t ppid, uint64_t start, std::string exe, std::vector<std::string> args = {}) {
  RawExec e;
  e.proc = proc(pid, ppid, start);
  e.exe_path = std::move(exe);
  e.args = std::move(args);
  return e;
}

RawExit exit_of(pid_t pid, pid_t ppid, uint64_t start, int status = 0) {
  RawExit x;
  x.proc = proc(pid, ppid, start);
  x.status = status;
  return x;
}

class ProcessTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs.add(1, 0, "/usr/lib/systemd/systemd", 1 * kSec);
    fs.add(100, 1, "/usr/bin/bash", 10 * kSec);
    ids.table["/usr/bin/echo"] = ExeIdentity{std::string(64, 'a'), "coreutils", true};
    tree.seed(fs);
  }
  testing::FakeProcFs fs;
  testing::FakeExeIdentifier ids;
  ProcessTree tree{&ids, 1000 * static_cast<int64_t>(kSec)};
};

TEST_F(ProcessTreeTest, SeedsFromProc) {
  ASSERT_NE(tree.find(1), nullptr);
  ASSERT_NE(tree.find(100), nullptr);
  EXPECT_EQ(tree.find(100)->ppid, 1);
  EXPECT_EQ(tree.find(100)->executable.path, "/usr/bin/bash");
  EXPECT_EQ(tree.find(100)->parent_audit_token->pid, 1);
  EXPECT_EQ(tree.find(100)->start_time.ns, 1010 * kSec);
}

TEST_F(ProcessTreeTest, ForkInheritsImageWithNewVersion) {
  auto bash = tree.find(100);
  // The /proc start time has tick precision; the kernel's has ns.
  auto change = tree.on_fork(fork_of(100, 10 * kSec + 3'000'000, 200, 20 * kSec));
  EXPECT_EQ(change.parent, bash) << "parent matched despite tick vs ns start time";
  ASSERT_NE(change.child, nullptr);
  EXPECT_EQ(change.child->audit_token.pid, 200);
  EXPECT_NE(change.child->audit_token.pidversion, bash->audit_token.pidversion);
  EXPECT_EQ(change.child->executable.path, "/usr/bin/bash");
  EXPECT_EQ(change.child->ppid, 100);
  EXPECT_EQ(change.child->original_ppid, 100);
  EXPECT_EQ(change.child->parent_audit_token, bash->audit_token);
}

TEST_F(ProcessTreeTest, ExecInSamePidGetsNewVersionAndAncestry) {
  tree.on_fork(fork_of(100, 10 * kSec, 200, 20 * kSec));
  auto before = tree.find(200);
  auto change = tree.on_exec(exec_of(200, 100, 20 * kSec, "/usr/bin/echo", {"/bin/echo", "hi"}));
  EXPECT_EQ(change.before, before);
  EXPECT_EQ(change.after->audit_token.pid, 200);
  EXPECT_NE(change.after->audit_token.pidversion, before->audit_token.pidversion);
  EXPECT_EQ(change.after->executable.path, "/usr/bin/echo");
  EXPECT_EQ(change.after->package, "coreutils");
  EXPECT_TRUE(change.after->is_platform_binary);
  ASSERT_EQ(change.after->ancestors.size(), 2u);
  EXPECT_EQ(change.after->ancestors[0].audit_token.pid, 100);
  EXPECT_EQ(change.after->ancestors[0].path, "/usr/bin/bash");
  EXPECT_EQ(change.after->ancestors[1].audit_token.pid, 1);
  // The stored image is the new one, without the ancestry copy.
  EXPECT_EQ(tree.find(200)->executable.path, "/usr/bin/echo");
  EXPECT_TRUE(tree.find(200)->ancestors.empty());
  // A second exec: another version again.
  auto again = tree.on_exec(exec_of(200, 100, 20 * kSec, "/usr/bin/true"));
  EXPECT_NE(again.after->audit_token.pidversion, change.after->audit_token.pidversion);
  EXPECT_FALSE(again.after->package.has_value());
}

TEST_F(ProcessTreeTest, PidReuseNeverMixesTwoPrograms) {
  tree.on_fork(fork_of(100, 10 * kSec, 300, 30 * kSec));
  auto first = tree.on_exec(exec_of(300, 100, 30 * kSec, "/usr/bin/echo")).after;
  tree.on_exit(exit_of(300, 100, 30 * kSec));
  EXPECT_EQ(tree.find(300), nullptr);
  // Same pid, a later start: a different process.
  auto second = tree.on_fork(fork_of(100, 10 * kSec, 300, 40 * kSec)).child;
  EXPECT_NE(second->audit_token.pidversion, first->audit_token.pidversion);
  EXPECT_EQ(second->executable.path, "/usr/bin/bash");
}

TEST_F(ProcessTreeTest, MissedExitIsDetectedByStartTime) {
  tree.on_fork(fork_of(100, 10 * kSec, 400, 40 * kSec));
  auto old_image = tree.on_exec(exec_of(400, 100, 40 * kSec, "/usr/bin/echo")).after;
  // The exit of 400 was lost; pid 400 is reused and execs without a fork seen.
  auto change = tree.on_exec(exec_of(400, 1, 50 * kSec, "/usr/bin/true"));
  EXPECT_NE(change.before->audit_token.pidversion, old_image->audit_token.pidversion);
  EXPECT_NE(change.before->executable.path, "/usr/bin/echo") << "stale image used as instigator";
}

TEST_F(ProcessTreeTest, ReparentingKeepsOriginalPpid) {
  tree.on_fork(fork_of(100, 10 * kSec, 500, 50 * kSec));
  tree.on_fork(fork_of(500, 50 * kSec, 501, 51 * kSec));
  tree.on_exit(exit_of(500, 100, 50 * kSec));
  EXPECT_EQ(tree.find(501)->ppid, 500) << "not reparented until the kernel says so";
  // The orphan's next event reports its new parent, init.
  auto gone = tree.on_exit(exit_of(501, 1, 51 * kSec, 0x0900));
  EXPECT_EQ(gone->ppid, 1);
  EXPECT_EQ(gone->original_ppid, 500);
  EXPECT_EQ(gone->parent_audit_token->pid, 1);
}

TEST_F(ProcessTreeTest, ExitOfParentLeavesChildrenAndAncestryStops) {
  tree.on_fork(fork_of(100, 10 * kSec, 600, 60 * kSec));
  tree.on_fork(fork_of(600, 60 * kSec, 601, 61 * kSec));
  tree.on_exit(exit_of(600, 100, 60 * kSec));
  ASSERT_NE(tree.find(601), nullptr);
  auto change = tree.on_exec(exec_of(601, 1, 61 * kSec, "/usr/bin/echo"));
  ASSERT_EQ(change.after->ancestors.size(), 1u);
  EXPECT_EQ(change.after->ancestors[0].audit_token.pid, 1);
}

TEST_F(ProcessTreeTest, UnknownProcessesAreAdopted) {
  auto change = tree.on_exec(exec_of(700, 100, 70 * kSec, "/usr/bin/echo"));
  ASSERT_NE(change.before, nullptr);
  EXPECT_EQ(change.before->audit_token.pid, 700);
  EXPECT_EQ(change.after->ppid, 100);
  auto gone = tree.on_exit(exit_of(800, 1, 80 * kSec));
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->audit_token.pid, 800);
  EXPECT_EQ(tree.find(800), nullptr);
}

TEST_F(ProcessTreeTest, SetuidExecKeepsOldCredentialsOnInstigator) {
  tree.on_fork(fork_of(100, 10 * kSec, 900, 90 * kSec));
  auto e = exec_of(900, 100, 90 * kSec, "/usr/bin/sudo");
  e.proc.euid = 0;
  e.proc.ruid = 1000;
  tree.find(900);
  auto change = tree.on_exec(e);
  EXPECT_EQ(change.after->audit_token.euid, 0u);
  EXPECT_EQ(change.after->audit_token.ruid, 1000u);
  EXPECT_EQ(change.before->audit_token.ruid, 0u) << "instigator keeps the credentials it had";
}

}  // namespace
}  // namespace ward::process
