// The proc connector sensor without a socket: decoding of crafted netlink
// datagrams, sequence-gap accounting, and translation into RawEvents over a
// fake /proc.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>

#include "sensors/proc_connector/proc_connector_sensor.h"

namespace ward::sensors {
namespace {

constexpr uint32_t kFork = 0x1, kExec = 0x2, kUid = 0x4, kComm = 0x200, kExit = 0x80000000, kNone = 0;

// Writes little-endian-native integers at byte offsets: the wire layout is
// spelled out here independently of the kernel headers the decoder uses.
class Bytes {
 public:
  template <typename T>
  void put(size_t offset, T value) {
    if (data_.size() < offset + sizeof(T)) data_.resize(offset + sizeof(T));
    std::memcpy(data_.data() + offset, &value, sizeof(T));
  }
  std::vector<uint8_t>& data() { return data_; }

 private:
  std::vector<uint8_t> data_;
};

// nlmsghdr (16) + cn_msg (20) + proc_event (16 header + 24 union) = 76 bytes.
constexpr size_t kNl = 0, kCn = 16, kEv = 36, kEvData = kEv + 16, kMessageSize = kEv + 40;

struct Message {
  uint32_t what = kNone;
  uint32_t cpu = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint64_t timestamp_ns = 0;
  std::vector<uint32_t> data;  // event_data, as 32-bit words
  uint32_t cn_idx = 1, cn_val = 1;
  uint16_t nl_type = 3;  // NLMSG_DONE
};

std::vector<uint8_t> encode(const Message& m) {
  Bytes b;
  b.put<uint32_t>(kNl + 0, kMessageSize);
  b.put<uint16_t>(kNl + 4, m.nl_type);
  b.put<uint16_t>(kNl + 6, 0);
  b.put<uint32_t>(kNl + 8, m.seq);
  b.put<uint32_t>(kNl + 12, 0);
  b.put<uint32_t>(kCn + 0, m.cn_idx);
  b.put<uint32_t>(kCn + 4, m.cn_val);
  b.put<uint32_t>(kCn + 8, m.seq);
  b.put<uint32_t>(kCn + 12, m.ack);
  b.put<uint16_t>(kCn + 16, 40);
  b.put<uint16_t>(kCn + 18, 0);
  b.put<uint32_t>(kEv + 0, m.what);
  b.put<uint32_t>(kEv + 4, m.cpu);
  b.put<uint64_t>(kEv + 8, m.timestamp_ns);
  for (size_t i = 0; i < m.data.size(); ++i) b.put<uint32_t>(kEvData + 4 * i, m.data[i]);
  b.data().resize(kMessageSize);
  return b.data();
}

Message fork_message(int parent_pid, int parent_tgid, int child_pid, int child_tgid) {
  Message m;
  m.what = kFork;
  m.data = {static_cast<uint32_t>(parent_pid), static_cast<uint32_t>(parent_tgid),
            static_cast<uint32_t>(child_pid), static_cast<uint32_t>(child_tgid)};
  return m;
}

Message exec_message(int pid, int tgid) {
  Message m;
  m.what = kExec;
  m.data = {static_cast<uint32_t>(pid), static_cast<uint32_t>(tgid)};
  return m;
}

Message exit_message(int pid, int tgid, uint32_t code, int parent_tgid) {
  Message m;
  m.what = kExit;
  m.data = {static_cast<uint32_t>(pid),         static_cast<uint32_t>(tgid),       code, 17,
            static_cast<uint32_t>(parent_tgid), static_cast<uint32_t>(parent_tgid)};
  return m;
}

DecodedBuffer decode(const std::vector<uint8_t>& bytes) { return decode_proc_connector_buffer(bytes); }

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(DecodeProcConnector, ForkOfAProcess) {
  Message m = fork_message(100, 100, 200, 200);
  m.cpu = 3;
  m.seq = 77;
  m.timestamp_ns = 123456789;
  auto out = decode(encode(m));
  EXPECT_EQ(out.malformed, 0u);
  ASSERT_EQ(out.events.size(), 1u);
  const DecodedProcEvent& e = out.events[0];
  EXPECT_EQ(e.what, kFork);
  EXPECT_EQ(e.cpu, 3u);
  EXPECT_EQ(e.seq, 77u);
  EXPECT_EQ(e.timestamp_ns, 123456789u);
  EXPECT_EQ(e.parent_pid, 100);
  EXPECT_EQ(e.parent_tgid, 100);
  EXPECT_EQ(e.child_pid, 200);
  EXPECT_EQ(e.child_tgid, 200);
}

TEST(DecodeProcConnector, ForkOfAThread) {
  auto out = decode(encode(fork_message(101, 100, 201, 100)));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].child_pid, 201);
  EXPECT_EQ(out.events[0].child_tgid, 100);
}

TEST(DecodeProcConnector, Exec) {
  auto out = decode(encode(exec_message(300, 300)));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].what, kExec);
  EXPECT_EQ(out.events[0].process_pid, 300);
  EXPECT_EQ(out.events[0].process_tgid, 300);
}

TEST(DecodeProcConnector, ExitOfLeaderAndOfThread) {
  auto out = decode(concat({encode(exit_message(300, 300, 0x100, 1)), encode(exit_message(301, 300, 9, 1))}));
  EXPECT_EQ(out.malformed, 0u);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].process_pid, 300);
  EXPECT_EQ(out.events[0].exit_code, 0x100u);
  EXPECT_EQ(out.events[0].exit_signal, 17u);
  EXPECT_EQ(out.events[0].parent_tgid, 1);
  EXPECT_EQ(out.events[1].process_pid, 301);
  EXPECT_EQ(out.events[1].process_tgid, 300);
  EXPECT_EQ(out.events[1].exit_code, 9u);
}

TEST(DecodeProcConnector, AckCarriesErrorAndAckNumber) {
  Message m;
  m.what = kNone;
  m.cpu = 0xffffffff;
  m.ack = 43;
  m.data = {1};  // EPERM
  auto out = decode(encode(m));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].what, kNone);
  EXPECT_EQ(out.events[0].ack, 43u);
  EXPECT_EQ(out.events[0].ack_error, 1u);
}

TEST(DecodeProcConnector, OtherKindsKeepTheirProcess) {
  Message uid;
  uid.what = kUid;
  uid.data = {55, 55, 1000, 0};
  Message unknown;
  unknown.what = 0x400;  // a kind newer than the decoder
  auto out = decode(concat({encode(uid), encode(unknown)}));
  EXPECT_EQ(out.malformed, 0u);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].what, kUid);
  EXPECT_EQ(out.events[0].process_tgid, 55);
  EXPECT_EQ(out.events[1].what, 0x400u);
}

TEST(DecodeProcConnector, ManyMessagesInOneBuffer) {
  auto buffer = concat({encode(fork_message(1, 1, 2, 2)), encode(exec_message(2, 2)),
                        encode(exit_message(2, 2, 0, 1)), encode(fork_message(1, 1, 3, 3))});
  auto out = decode(buffer);
  EXPECT_EQ(out.malformed, 0u);
  ASSERT_EQ(out.events.size(), 4u);
  EXPECT_EQ(out.events[0].what, kFork);
  EXPECT_EQ(out.events[1].what, kExec);
  EXPECT_EQ(out.events[2].what, kExit);
  EXPECT_EQ(out.events[3].child_tgid, 3);
}

TEST(DecodeProcConnector, UnalignedBufferDecodes) {
  auto bytes = encode(exec_message(9, 9));
  std::vector<uint8_t> shifted(bytes.size() + 1);
  std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
  auto out = decode_proc_connector_buffer(std::span<const uint8_t>(shifted).subspan(1));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].process_tgid, 9);
}

TEST(DecodeProcConnector, EmptyBufferIsNothing) {
  auto out = decode({});
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(out.malformed, 0u);
}

TEST(DecodeProcConnector, EveryTruncationIsMalformedNotACrash) {
  auto whole = encode(exit_message(300, 300, 0, 1));
  for (size_t len = 1; len < whole.size(); ++len) {
    SCOPED_TRACE(len);
    std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<long>(len));
    auto out = decode(cut);
    EXPECT_TRUE(out.events.empty());
    EXPECT_EQ(out.malformed, 1u);
  }
}

TEST(DecodeProcConnector, TruncationAfterAGoodMessageKeepsTheGoodOne) {
  auto buffer = concat({encode(exec_message(5, 5)), encode(exec_message(6, 6))});
  buffer.resize(kMessageSize + 30);
  auto out = decode(buffer);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].process_tgid, 5);
  EXPECT_EQ(out.malformed, 1u);
}

TEST(DecodeProcConnector, NetlinkLengthsThatLie) {
  auto too_long = encode(exec_message(5, 5));
  Bytes b;
  b.data() = too_long;
  b.put<uint32_t>(kNl, kMessageSize + 4);
  EXPECT_EQ(decode(b.data()).malformed, 1u);
  EXPECT_TRUE(decode(b.data()).events.empty());

  b.put<uint32_t>(kNl, 8);  // shorter than its own header
  EXPECT_EQ(decode(b.data()).malformed, 1u);

  b.put<uint32_t>(kNl, 20);  // room for the netlink header, not the cn_msg
  auto out = decode(b.data());
  EXPECT_TRUE(out.events.empty());
  EXPECT_GE(out.malformed, 1u);
}

TEST(DecodeProcConnector, ConnectorLengthsThatLie) {
  Bytes b;
  b.data() = encode(exec_message(5, 5));
  b.put<uint16_t>(kCn + 16, 200);  // more than the message holds
  auto out = decode(b.data());
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(out.malformed, 1u);

  b.put<uint16_t>(kCn + 16, 8);  // less than the event header
  out = decode(b.data());
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(out.malformed, 1u);
}

TEST(DecodeProcConnector, EventTooShortForItsKind) {
  Bytes b;
  b.data() = encode(fork_message(1, 1, 2, 2));
  b.put<uint16_t>(kCn + 16, 16 + 8);  // a fork needs 16 bytes of data
  auto out = decode(b.data());
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(out.malformed, 1u);

  b.data() = encode(exec_message(1, 1));
  b.put<uint16_t>(kCn + 16, 16 + 8);  // an exec needs only 8
  out = decode(b.data());
  EXPECT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.malformed, 0u);
}

TEST(DecodeProcConnector, OldKernelExitWithoutParentFields) {
  Bytes b;
  b.data() = encode(exit_message(7, 7, 0x200, 1));
  b.put<uint16_t>(kCn + 16, 16 + 16);
  auto out = decode(b.data());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].exit_code, 0x200u);
  EXPECT_EQ(out.events[0].parent_tgid, 0);  // not sent: not read from the bytes after
}

TEST(DecodeProcConnector, OtherConnectorsAndControlMessagesAreSkipped) {
  Message other = exec_message(5, 5);
  other.cn_idx = 2;  // CN_IDX_CIFS
  Message noop = exec_message(6, 6);
  noop.nl_type = 1;  // NLMSG_NOOP
  Message error = exec_message(7, 7);
  error.nl_type = 2;  // NLMSG_ERROR
  auto out = decode(concat({encode(other), encode(noop), encode(error), encode(exec_message(8, 8))}));
  EXPECT_EQ(out.malformed, 0u);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].process_tgid, 8);
}

TEST(DecodeProcConnector, UnalignedNetlinkLengthIsPaddedOver) {
  // A message whose length is not a multiple of 4, padded, then another.
  Bytes b;
  b.data() = encode(exec_message(5, 5));
  b.put<uint32_t>(kNl, kMessageSize - 1);
  b.put<uint16_t>(kCn + 16, 39);
  auto buffer = concat({b.data(), encode(exec_message(6, 6))});
  auto out = decode(buffer);
  EXPECT_EQ(out.malformed, 0u);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[1].process_tgid, 6);
}

TEST(DecodeProcConnector, RandomGarbageNeverCrashes) {
  std::mt19937 rng(12345);
  auto valid = concat({encode(fork_message(1, 1, 2, 2)), encode(exit_message(2, 2, 0, 1))});
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> buffer;
    if (round % 2 == 0) {
      buffer.resize(rng() % 300);
      for (auto& byte : buffer) byte = static_cast<uint8_t>(rng());
    } else {
      // Valid messages with a few bytes flipped: reaches deeper code.
      buffer = valid;
      for (int flips = 0; flips < 4; ++flips) buffer[rng() % buffer.size()] ^= static_cast<uint8_t>(rng());
      buffer.resize(rng() % (buffer.size() + 1));
    }
    auto out = decode(buffer);
    EXPECT_LE(out.events.size(), buffer.size() / kMessageSize + 1);
  }
}

TEST(ProcSeqTracker, CountsHolesPerCpu) {
  ProcSeqTracker tracker;
  EXPECT_EQ(tracker.observe(0, 10), 0u);  // first sight: a baseline
  EXPECT_EQ(tracker.observe(1, 500), 0u);
  EXPECT_EQ(tracker.observe(0, 11), 0u);
  EXPECT_EQ(tracker.observe(0, 14), 2u);
  EXPECT_EQ(tracker.observe(1, 501), 0u);  // CPUs are independent
  EXPECT_EQ(tracker.observe(1, 505), 3u);
}

TEST(ProcSeqTracker, WrapsAndRestarts) {
  ProcSeqTracker tracker;
  tracker.observe(0, 0xfffffffe);
  EXPECT_EQ(tracker.observe(0, 0xffffffff), 0u);
  EXPECT_EQ(tracker.observe(0, 0), 0u);
  EXPECT_EQ(tracker.observe(0, 2), 1u);
  EXPECT_EQ(tracker.observe(0, 1), 0u);  // backwards: a new baseline, not a loss
  EXPECT_EQ(tracker.observe(0, 2), 0u);
}

TEST(ProcSeqTracker, PrepaidLossesAreNotReportedTwice) {
  ProcSeqTracker tracker;
  tracker.observe(0, 1);
  tracker.observe(1, 1);
  tracker.prepay(2);                       // two ENOBUFS, each reported as one
  EXPECT_EQ(tracker.observe(0, 3), 0u);    // a hole of 1: covered
  EXPECT_EQ(tracker.observe(1, 50), 47u);  // a hole of 48: 1 still prepaid
  EXPECT_EQ(tracker.observe(1, 53), 2u);   // nothing prepaid any more
  tracker.prepay(5);
  tracker.reset();
  EXPECT_EQ(tracker.observe(0, 1000), 0u);
  EXPECT_EQ(tracker.observe(0, 1003), 2u);  // reset forgot the prepayment
}

class FakeProcFs : public process::ProcFs {
 public:
  std::vector<pid_t> list_pids() override {
    std::vector<pid_t> pids;
    for (const auto& [pid, snap] : snapshots) pids.push_back(pid);
    return pids;
  }
  std::optional<process::ProcSnapshot> read(pid_t pid) override {
    reads.push_back(pid);
    auto it = snapshots.find(pid);
    if (it == snapshots.end()) return std::nullopt;
    return it->second;
  }
  uint64_t boot_time_ns_now() override { return 0; }

  std::map<pid_t, process::ProcSnapshot> snapshots;
  std::vector<pid_t> reads;
};

process::ProcSnapshot snapshot(pid_t tgid, pid_t ppid, pid_t pgid, uint64_t start_boot_ns) {
  process::ProcSnapshot s;
  s.proc.tgid = tgid;
  s.proc.ppid = ppid;
  s.proc.pgid = pgid;
  s.proc.sid = pgid;
  s.proc.ruid = s.proc.euid = s.proc.suid = 1000;
  s.proc.rgid = s.proc.egid = s.proc.sgid = 100;
  s.proc.auid = 1000;
  s.proc.sessionid = 2;
  s.proc.start_boot_ns = start_boot_ns;
  s.proc.start_from_ticks = true;
  s.proc.comm = "comm" + std::to_string(tgid);
  s.proc.tty = "/dev/pts/1";
  s.exe_path = "/usr/bin/prog" + std::to_string(tgid);
  s.exe_stat = FileStat{};
  s.exe_stat->dev = 2049;
  s.exe_stat->ino = static_cast<uint64_t>(tgid);
  s.cwd = "/home/u";
  s.args = {"prog", std::to_string(tgid)};
  return s;
}

DecodedProcEvent decoded(const Message& m) {
  auto out = decode(encode(m));
  EXPECT_EQ(out.events.size(), 1u);
  return out.events.at(0);
}

class TranslatorTest : public ::testing::Test {
 protected:
  TranslatorTest() : procfs_(std::make_shared<FakeProcFs>()), translator_(procfs_) {
    translator_.set_monotonic_to_boot_offset(kOffset);
  }

  std::vector<RawEvent> translate(Message m) {
    m.timestamp_ns = kEventMonotonicNs;
    m.cpu = 0;
    m.seq = next_seq_++;
    std::vector<RawEvent> out;
    translator_.translate(decoded(m), [&](RawEvent&& e) { out.push_back(std::move(e)); });
    return out;
  }

  static constexpr int64_t kOffset = 5'000'000'000;
  static constexpr uint64_t kEventMonotonicNs = 100'000'000'000;
  static constexpr uint64_t kEventBootNs = kEventMonotonicNs + kOffset;
  std::shared_ptr<FakeProcFs> procfs_;
  ProcEventTranslator translator_;
  uint32_t next_seq_ = 0;
};

TEST_F(TranslatorTest, ForkOfAProcessIsEnrichedFromTheChild) {
  procfs_->snapshots[200] = snapshot(200, 1, 77, kEventBootNs - 1000);  // reparented to 1 since
  auto out = translate(fork_message(101, 100, 200, 200));
  ASSERT_EQ(out.size(), 1u);
  const auto& fork = std::get<RawFork>(out[0]);
  EXPECT_EQ(fork.boot_ns, kEventBootNs);
  EXPECT_EQ(fork.tid, 101);
  EXPECT_EQ(fork.parent_tgid, 100);
  EXPECT_EQ(fork.child.tgid, 200);
  EXPECT_EQ(fork.child.ppid, 100);  // the parent at fork
  EXPECT_EQ(fork.child.pgid, 77);
  EXPECT_EQ(fork.child.euid, 1000u);
  EXPECT_EQ(fork.child.tty, "/dev/pts/1");
  EXPECT_EQ(fork.child.start_boot_ns, kEventBootNs - 1000);
  EXPECT_TRUE(fork.child.start_from_ticks);
}

TEST_F(TranslatorTest, ForkOfAThreadIsNothing) {
  procfs_->snapshots[100] = snapshot(100, 1, 100, 0);
  EXPECT_TRUE(translate(fork_message(100, 100, 201, 100)).empty());
  EXPECT_TRUE(procfs_->reads.empty());  // and costs no /proc read
}

TEST_F(TranslatorTest, ForkWhoseChildIsGoneUsesTheParent) {
  procfs_->snapshots[100] = snapshot(100, 1, 100, 42);
  auto out = translate(fork_message(100, 100, 200, 200));
  ASSERT_EQ(out.size(), 1u);
  const auto& fork = std::get<RawFork>(out[0]);
  EXPECT_EQ(fork.child.tgid, 200);
  EXPECT_EQ(fork.child.ppid, 100);
  EXPECT_EQ(fork.child.pgid, 100);
  EXPECT_EQ(fork.child.comm, "comm100");
  EXPECT_EQ(fork.child.start_boot_ns, kEventBootNs);
  EXPECT_FALSE(fork.child.start_from_ticks);
  EXPECT_EQ(fork.parent_start_boot_ns, 42u);
}

TEST_F(TranslatorTest, ForkWithBothGoneStillReported) {
  auto out = translate(fork_message(100, 100, 200, 200));
  ASSERT_EQ(out.size(), 1u);
  const auto& fork = std::get<RawFork>(out[0]);
  EXPECT_EQ(fork.child.tgid, 200);
  EXPECT_EQ(fork.child.ppid, 100);
  EXPECT_EQ(fork.child.start_boot_ns, 0u);
}

TEST_F(TranslatorTest, ExecIsEnrichedFromProc) {
  procfs_->snapshots[300] = snapshot(300, 100, 300, kEventBootNs - 5'000'000);
  auto out = translate(exec_message(300, 300));
  ASSERT_EQ(out.size(), 1u);
  const auto& exec = std::get<RawExec>(out[0]);
  EXPECT_EQ(exec.boot_ns, kEventBootNs);
  EXPECT_EQ(exec.tid, 300);
  EXPECT_EQ(exec.proc.tgid, 300);
  EXPECT_EQ(exec.proc.ppid, 100);
  EXPECT_EQ(exec.exe_path, "/usr/bin/prog300");
  ASSERT_TRUE(exec.exe_stat);
  EXPECT_EQ(exec.exe_stat->ino, 300u);
  EXPECT_EQ(exec.cwd, "/home/u");
  EXPECT_EQ(exec.args, (std::vector<std::string>{"prog", "300"}));
}

TEST_F(TranslatorTest, ExecOfAVanishedProcessIsStillReported) {
  auto out = translate(exec_message(300, 300));
  ASSERT_EQ(out.size(), 1u);
  const auto& exec = std::get<RawExec>(out[0]);
  EXPECT_EQ(exec.proc.tgid, 300);
  EXPECT_EQ(exec.tid, 300);
  EXPECT_EQ(exec.boot_ns, kEventBootNs);
  EXPECT_EQ(exec.exe_path, "");
  EXPECT_TRUE(exec.args.empty());
}

TEST_F(TranslatorTest, ReusedPidIsNotTakenForTheEventsProcess) {
  // /proc now shows a process that started after the event: another owner.
  procfs_->snapshots[300] = snapshot(300, 100, 300, kEventBootNs + 50'000'000);
  auto out = translate(exec_message(300, 300));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<RawExec>(out[0]).exe_path, "");
}

TEST_F(TranslatorTest, ExitOfTheLeaderCarriesTheStatus) {
  auto out = translate(exit_message(300, 300, 0x100, 100));
  ASSERT_EQ(out.size(), 1u);
  const auto& exit = std::get<RawExit>(out[0]);
  EXPECT_EQ(exit.boot_ns, kEventBootNs);
  EXPECT_EQ(exit.tid, 300);
  EXPECT_EQ(exit.proc.tgid, 300);
  EXPECT_EQ(exit.proc.ppid, 100);
  EXPECT_EQ(exit.status, 0x100);
  EXPECT_TRUE(procfs_->reads.empty());
}

TEST_F(TranslatorTest, ExitOfAThreadIsNothing) {
  EXPECT_TRUE(translate(exit_message(301, 300, 0, 100)).empty());
}

TEST_F(TranslatorTest, OtherKindsAreNothing) {
  Message comm;
  comm.what = kComm;
  comm.data = {5, 5};
  EXPECT_TRUE(translate(comm).empty());
  Message ack;
  ack.what = kNone;
  EXPECT_TRUE(translate(ack).empty());
}

TEST_F(TranslatorTest, MutedTgid) {
  translator_.mute_tgid(100);
  procfs_->snapshots[100] = snapshot(100, 1, 100, 0);
  EXPECT_TRUE(translate(fork_message(100, 100, 200, 200)).empty());  // muted parent's fork
  EXPECT_TRUE(translate(exec_message(100, 100)).empty());
  EXPECT_TRUE(translate(exit_message(100, 100, 0, 1)).empty());
  // Its pid, once exited, is someone else's.
  EXPECT_EQ(translate(exec_message(100, 100)).size(), 1u);
}

TEST_F(TranslatorTest, MutedPgidOnceKnown) {
  translator_.mute_pgid(900);
  procfs_->snapshots[300] = snapshot(300, 1, 900, 0);
  procfs_->snapshots[301] = snapshot(301, 1, 901, 0);
  EXPECT_TRUE(translate(exec_message(300, 300)).empty());
  EXPECT_EQ(translate(exec_message(301, 301)).size(), 1u);
  // A fork into the muted group, seen through the child.
  procfs_->snapshots[302] = snapshot(302, 300, 900, 0);
  EXPECT_TRUE(translate(fork_message(300, 300, 302, 302)).empty());
  // Exits carry no pgid: remembered from the exec.
  EXPECT_TRUE(translate(exit_message(300, 300, 0, 1)).empty());
  EXPECT_TRUE(translate(exit_message(302, 302, 0, 1)).empty());
  EXPECT_EQ(translate(exit_message(301, 301, 0, 1)).size(), 1u);
}

TEST_F(TranslatorTest, SequenceHoleIsReportedBeforeTheEvent) {
  translate(exec_message(1, 1));
  next_seq_ += 3;
  auto out = translate(exit_message(1, 1, 0, 0));
  ASSERT_EQ(out.size(), 2u);
  const auto& lost = std::get<RawLost>(out[0]);
  EXPECT_EQ(lost.source, "proc_connector");
  EXPECT_EQ(lost.kind, RawKind::Unknown);
  EXPECT_EQ(lost.count, 3u);
  EXPECT_TRUE(std::holds_alternative<RawExit>(out[1]));
}

TEST_F(TranslatorTest, HoleAfterAnOverflowReportsOnlyTheRest) {
  translate(exec_message(1, 1));
  translator_.seq_tracker().prepay(1);  // the sensor saw ENOBUFS and reported 1
  next_seq_ += 4;
  auto out = translate(exec_message(2, 2));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<RawLost>(out[0]).count, 3u);
}

TEST_F(TranslatorTest, WorksWithoutProcFs) {
  ProcEventTranslator bare(nullptr);
  std::vector<RawEvent> out;
  bare.translate(decoded(exec_message(5, 5)), [&](RawEvent&& e) { out.push_back(std::move(e)); });
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<RawExec>(out[0]).proc.tgid, 5);
}

TEST(ProcConnectorSensor, NameAndNotStarted) {
  auto sensor = make_proc_connector_sensor(nullptr);
  EXPECT_EQ(sensor->name(), "proc_connector");
  EXPECT_EQ(sensor->poll(0), -1);
  sensor->stop();
  sensor->stop();
  EXPECT_EQ(sensor->counters().received, 0u);
}

}  // namespace
}  // namespace ward::sensors
