// Self-protection's pure parts: the policy → LSM exec plan, the guard record
// decoder, the unlock token check and the unlock channel (a socket in a temp
// directory; no root needed).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <thread>

#include "sensors/bpf/lsm_policy.h"
#include "sensors/bpf/lsm_records.h"
#include "tamper/unlock.h"
#include "ward_guard_wire.h"

namespace ward {
namespace {

using sensors::bpf::decode_guard_record;
using sensors::bpf::GuardNames;

const std::string kHashA(64, 'a');
const std::string kHashB = "00ff" + std::string(60, '1');

policy::BinaryRule hash_rule(std::string id, std::string sha, policy::BinaryPolicy p) {
  policy::BinaryRule r;
  r.id = std::move(id);
  r.kind = policy::BinaryRule::Kind::Sha256;
  r.value = std::move(sha);
  r.policy = p;
  return r;
}

TEST(LsmExecPlan, TakesTheSha256RulesInFileOrder) {
  policy::Policy p;
  p.mode = policy::Mode::Lockdown;
  p.binary_rules.push_back(hash_rule("allow-a", kHashA, policy::BinaryPolicy::Allow));
  policy::BinaryRule by_path;
  by_path.id = "by-path";
  by_path.kind = policy::BinaryRule::Kind::Path;
  p.binary_rules.push_back(by_path);
  p.binary_rules.push_back(hash_rule("block-b", kHashB, policy::BinaryPolicy::SilentBlock));
  auto plan = sensors::bpf::lsm_exec_plan(p);
  ASSERT_EQ(plan.rules.size(), 2u);
  EXPECT_EQ(plan.mode, static_cast<uint32_t>(WARD_EXEC_ENFORCE));
  EXPECT_EQ(plan.rule_ids, (std::vector<std::string>{"allow-a", "block-b"}));
  EXPECT_EQ(plan.rules[0].policy, static_cast<uint32_t>(WARD_EXEC_RULE_ALLOW));
  EXPECT_EQ(plan.rules[1].policy, static_cast<uint32_t>(WARD_EXEC_RULE_SILENT_BLOCK));
  EXPECT_EQ(plan.rules[1].index, 1u);
  EXPECT_EQ(plan.rules[1].sha256[0], 0x00);
  EXPECT_EQ(plan.rules[1].sha256[1], 0xff);
  EXPECT_EQ(plan.rules[1].sha256[2], 0x11);
  EXPECT_FALSE(plan.complete) << "a path rule stays with fanotify";
}

TEST(LsmExecPlan, MonitorModeOnlyReportsAndIsCompleteWithHashesOnly) {
  policy::Policy p;
  p.mode = policy::Mode::Monitor;
  p.binary_rules.push_back(hash_rule("block-a", kHashA, policy::BinaryPolicy::Block));
  auto plan = sensors::bpf::lsm_exec_plan(p);
  EXPECT_EQ(plan.mode, static_cast<uint32_t>(WARD_EXEC_MONITOR));
  EXPECT_TRUE(plan.complete);
  p.mode = policy::Mode::Lockdown;
  EXPECT_FALSE(sensors::bpf::lsm_exec_plan(p).complete) << "lockdown denies by default: not expressible";
}

ward_guard_rec sample(uint32_t kind, uint32_t verdict) {
  ward_guard_rec r{};
  r.kind = kind;
  r.verdict = verdict;
  r.boot_ns = 42;
  r.tid = 101;
  r.tgid = 100;
  r.ppid = 1;
  r.euid = 0;
  std::strcpy(r.comm, "bash");
  r.rule_index = -1;
  return r;
}

std::span<const uint8_t> bytes(const ward_guard_rec& r) {
  return {reinterpret_cast<const uint8_t*>(&r), sizeof(r)};
}

TEST(GuardRecords, ADeniedSignalNamesTheAgentAndTheSignal) {
  GuardNames names;
  names.set_agent(77, "/usr/sbin/wardd");
  auto r = sample(WARD_GUARD_SIGNAL, WARD_GUARD_DENIED);
  r.target_tgid = 77;
  r.arg = 9;
  auto d = decode_guard_record(bytes(r), names, "lsm");
  ASSERT_TRUE(d);
  const auto& e = std::get<AuthResultEvent>(d->notify.payload);
  EXPECT_EQ(d->notify.type, EventType::NotifyAuthResult);
  EXPECT_EQ(e.auth_event_type, 7u);  // ES AUTH_SIGNAL
  EXPECT_EQ(e.target, "/usr/sbin/wardd");
  EXPECT_EQ(e.result, "deny");
  EXPECT_EQ(e.decided_by, "lsm");
  EXPECT_EQ(e.rule, "ward-self-protection:SIGKILL");
  EXPECT_FALSE(e.would_deny);
  EXPECT_EQ(d->notify.proc.tgid, 100);
  EXPECT_EQ(d->notify.proc.comm, "bash");
  EXPECT_EQ(d->description, "tamper: SIGKILL to the agent (pid 77) by pid 100 (bash, uid 0): denied");
}

TEST(GuardRecords, AnObservedSignalIsAnAllowThatWouldHaveBeenDenied) {
  GuardNames names;
  auto r = sample(WARD_GUARD_SIGNAL, WARD_GUARD_OBSERVED);
  r.arg = 15;
  auto d = decode_guard_record(bytes(r), names, "recorder");
  ASSERT_TRUE(d);
  const auto& e = std::get<AuthResultEvent>(d->notify.payload);
  EXPECT_EQ(e.result, "allow");
  EXPECT_TRUE(e.would_deny);
  EXPECT_EQ(e.decided_by, "recorder");
  EXPECT_NE(d->description.find("NOT denied"), std::string::npos) << d->description;
}

TEST(GuardRecords, FilesAreNamedByTheInodeUserSpaceProtected) {
  GuardNames names;
  names.add_inode(sensors::bpf::kernel_dev_of(makedev(8, 1)), 1234, "/etc/ward/wardd.yaml");
  names.add_inode(sensors::bpf::kernel_dev_of(makedev(8, 1)), 99, "/var/lib/ward");
  auto r = sample(WARD_GUARD_UNLINK, WARD_GUARD_DENIED);
  r.dev = (8u << 20) | 1u;
  r.ino = 1234;
  std::strcpy(r.name, "wardd.yaml");
  auto d = decode_guard_record(bytes(r), names, "lsm");
  ASSERT_TRUE(d);
  const auto& e = std::get<AuthResultEvent>(d->notify.payload);
  EXPECT_EQ(e.target, "/etc/ward/wardd.yaml");
  EXPECT_EQ(e.auth_event_type, 8u);  // ES AUTH_UNLINK
  EXPECT_EQ(e.rule, "ward-self-protection");
  EXPECT_EQ(d->notify.targets, std::vector<std::string>{"/etc/ward/wardd.yaml"});

  // An entry of a protected directory: the directory's path and its name.
  auto w = sample(WARD_GUARD_OPEN_WRITE, WARD_GUARD_DENIED);
  w.dev = (8u << 20) | 1u;
  w.ino = 99;
  std::strcpy(w.name, "events.db");
  auto dw = decode_guard_record(bytes(w), names, "lsm");
  ASSERT_TRUE(dw);
  EXPECT_EQ(std::get<AuthResultEvent>(dw->notify.payload).target, "/var/lib/ward/events.db");
}

TEST(GuardRecords, AnExecDenialCarriesItsRuleAndPath) {
  GuardNames names;
  names.set_rules({"allow-x", "block-nc"});
  auto r = sample(WARD_GUARD_EXEC, WARD_GUARD_WOULD_DENY);
  r.rule_index = 1;
  std::strcpy(r.path, "/srv/bin/nc");
  auto d = decode_guard_record(bytes(r), names, "lsm");
  ASSERT_TRUE(d);
  const auto& e = std::get<AuthResultEvent>(d->notify.payload);
  EXPECT_EQ(e.auth_event_type, 0u);
  EXPECT_EQ(e.target, "/srv/bin/nc");
  EXPECT_EQ(e.rule, "block-nc");
  EXPECT_EQ(e.result, "allow");
  EXPECT_TRUE(e.would_deny);
}

TEST(GuardRecords, MalformedRecordsAreRejected) {
  GuardNames names;
  auto r = sample(99, WARD_GUARD_DENIED);
  EXPECT_FALSE(decode_guard_record(bytes(r), names, "lsm"));
  EXPECT_FALSE(decode_guard_record(bytes(r).first(10), names, "lsm"));
}

TEST(GuardRecords, KernelDevNumbers) {
  EXPECT_EQ(sensors::bpf::kernel_dev_of(makedev(8, 1)), (8ull << 20) | 1);
  EXPECT_EQ(sensors::bpf::kernel_dev_of(makedev(259, 300)), (259ull << 20) | 300);
  EXPECT_EQ(sensors::bpf::signal_name(19), "SIGSTOP");
  EXPECT_EQ(sensors::bpf::signal_name(40), "signal 40");
}

TEST(Unlock, TheTokenIsCheckedAgainstItsSha256) {
  EXPECT_EQ(tamper::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string hash = tamper::sha256_hex("s3cret-token");
  EXPECT_TRUE(tamper::unlock_token_matches("s3cret-token", hash));
  std::string upper = hash;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(tamper::unlock_token_matches("s3cret-token", upper));
  EXPECT_FALSE(tamper::unlock_token_matches("s3cret-tokeN", hash));
  EXPECT_FALSE(tamper::unlock_token_matches("", tamper::sha256_hex("")));
  EXPECT_FALSE(tamper::unlock_token_matches("s3cret-token", hash.substr(1)));
}

TEST(Unlock, TheChannelSaysOkOnlyForTheRightToken) {
  char dir[] = "/tmp/ward-unlock-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string socket = std::string(dir) + "/run/unlock.sock";
  const std::string hash = tamper::sha256_hex("right");
  int unlocks = 0;
  tamper::UnlockServer server;
  ASSERT_TRUE(server.start(socket, [&](std::string_view token, const tamper::UnlockPeer& peer) {
    EXPECT_EQ(peer.uid, geteuid());
    bool ok = tamper::unlock_token_matches(token, hash);
    unlocks += ok;
    return ok;
  }));
  EXPECT_FALSE(tamper::request_unlock(socket, "wrong"));
  EXPECT_EQ(unlocks, 0);
  EXPECT_TRUE(tamper::request_unlock(socket, "right"));
  EXPECT_EQ(unlocks, 1);
  EXPECT_FALSE(tamper::request_unlock(socket, "two\nlines"));
  server.stop();
  EXPECT_FALSE(std::filesystem::exists(socket));
  EXPECT_FALSE(tamper::request_unlock(socket, "right")) << "nobody listens any more";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ward
