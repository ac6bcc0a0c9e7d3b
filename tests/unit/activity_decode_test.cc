// The activity sensors' records (bpf/ward_event_wire.h) decoded without a
// kernel: path resolution, every record shape, malformed input, and the
// kernel filter's trie images.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cstring>
#include <vector>

#include "sensors/bpf/activity_decoder.h"
#include "sensors/bpf/kernel_filter.h"
#include "ward_event_wire.h"

namespace ward::sensors::bpf {
namespace {

TEST(ResolvePath, JoinsBaseAndStringAsTheKernelResolves) {
  EXPECT_EQ(resolve_path("/a/b", "c"), "/a/b/c");
  EXPECT_EQ(resolve_path("/", "x"), "/x");
  EXPECT_EQ(resolve_path("/", "/etc/passwd"), "/etc/passwd");
  EXPECT_EQ(resolve_path("/srv/jail", "/etc/passwd"), "/srv/jail/etc/passwd") << "absolute in a chroot";
  EXPECT_EQ(resolve_path("/a/b", "../c"), "/a/c");
  EXPECT_EQ(resolve_path("/a", "./x//y/"), "/a/x/y");
  EXPECT_EQ(resolve_path("/", ".."), "/");
  EXPECT_EQ(resolve_path("/a/b", ""), "/a/b");
  EXPECT_EQ(resolve_path("/a", "..."), "/a/...") << "three dots is a name";
}

TEST(ResolvePath, ParentAndName) {
  EXPECT_EQ(parent_of("/a/b/c"), "/a/b");
  EXPECT_EQ(parent_of("/c"), "/");
  EXPECT_EQ(name_of("/a/b/c"), "c");
  EXPECT_EQ(name_of("/"), "");
}

TEST(ActivityTypes, EveryActivityEventHasARecordType) {
  int mapped = 0;
  for (const auto& info : kEventTypes) {
    auto rec = record_type_of_event(info.type);
    if (!rec) continue;
    ++mapped;
    EXPECT_GE(*rec, static_cast<uint32_t>(WARD_EV_FIRST));
    EXPECT_LT(*rec, static_cast<uint32_t>(WARD_EV_TYPE_MAX));
    EXPECT_EQ(event_type_of_record(*rec), info.type);
  }
  EXPECT_EQ(mapped, WARD_EV_TYPE_MAX - WARD_EV_FIRST - 1)
      << "all but the network denial, which is auth_result";
  EXPECT_EQ(event_type_of_record(WARD_EV_NET_DENIED), EventType::NotifyAuthResult);
  EXPECT_FALSE(record_type_of_event(EventType::NotifyExec));
}

// Builds a file-shaped record as the BPF side lays it out.
class FsRecord {
 public:
  explicit FsRecord(uint32_t type, uint32_t nr = 0) : rec_(std::make_unique<ward_fs_rec>()) {
    std::memset(rec_.get(), 0, sizeof(ward_fs_rec));
    rec_->h.hdr.type = static_cast<uint16_t>(type);
    rec_->h.hdr.version = WARD_WIRE_VERSION;
    rec_->h.hdr.boot_ns = 5'000'000'000ull;
    rec_->h.hdr.tid = 77;
    rec_->h.proc.tgid = 77;
    rec_->h.proc.ppid = 1;
    std::strcpy(rec_->h.proc.comm, "tool");
    rec_->h.syscall_nr = nr;
  }
  FsRecord& base(int slot, std::string_view s) { return put(rec_->path[slot].base, s); }
  FsRecord& rel(int slot, std::string_view s) { return put(rec_->path[slot].rel, s); }
  FsRecord& flags(int slot, uint32_t f) {
    rec_->path[slot].flags = f;
    return *this;
  }
  FsRecord& arg(int i, uint64_t v) {
    rec_->h.arg[i] = v;
    return *this;
  }
  ward_fs_rec& rec() { return *rec_; }
  std::vector<uint8_t> bytes() {
    rec_->h.hdr.size = static_cast<uint32_t>(offsetof(ward_fs_rec, data) + off_);
    auto* p = reinterpret_cast<const uint8_t*>(rec_.get());
    return {p, p + rec_->h.hdr.size};
  }
  RawNotify decode(int64_t boot_to_realtime = 0) {
    auto b = bytes();
    auto e = decode_activity_record(b, ActivityDecodeContext{boot_to_realtime});
    EXPECT_TRUE(e.has_value());
    if (!e) return {};
    EXPECT_TRUE(std::holds_alternative<RawNotify>(*e));
    return std::get<RawNotify>(*e);
  }

 private:
  FsRecord& put(ward_piece& p, std::string_view s) {
    p.off = off_;
    p.len = static_cast<uint32_t>(s.size());
    std::memcpy(rec_->data + off_, s.data(), s.size());
    off_ += static_cast<uint32_t>(s.size());
    return *this;
  }
  std::unique_ptr<ward_fs_rec> rec_;
  uint32_t off_ = 0;
};

TEST(ActivityDecode, OpenOfAnFdResolvedFile) {
  FsRecord r(WARD_EV_OPEN);
  r.base(0, "/home/u/notes.txt").flags(0, WARD_EVP_HAS_STAT).arg(0, O_RDWR | O_CREAT | O_APPEND);
  r.rec().path[0].stat.ino = 42;
  r.rec().path[0].stat.mode = 0100644;
  RawNotify n = r.decode();
  EXPECT_EQ(n.type, EventType::NotifyOpen);
  EXPECT_EQ(n.proc.tgid, 77);
  EXPECT_EQ(n.proc.comm, "tool");
  const auto& o = std::get<OpenEvent>(n.payload);
  EXPECT_EQ(o.file.path, "/home/u/notes.txt");
  ASSERT_TRUE(o.file.stat);
  EXPECT_EQ(o.file.stat->ino, 42u);
  EXPECT_EQ(o.fflag, kFflagRead | kFflagWrite | kFflagCreate | kFflagAppend);
  EXPECT_EQ(n.targets, std::vector<std::string>{"/home/u/notes.txt"});
}

TEST(ActivityDecode, RenameJoinsEachPathWithItsDirectory) {
  FsRecord r(WARD_EV_RENAME, SYS_renameat2);
  r.base(0, "/home/u/a").rel(0, "../a/draft.txt").base(1, "/home/u/b").rel(1, "final.txt").arg(0, 1);
  RawNotify n = r.decode();
  const auto& e = std::get<RenameEvent>(n.payload);
  EXPECT_EQ(e.source.path, "/home/u/a/draft.txt");
  EXPECT_EQ(e.destination.path, "/home/u/b/final.txt");
  EXPECT_EQ(e.destination_type, kDestinationNewPath) << "RENAME_NOREPLACE";
  EXPECT_EQ(n.targets, (std::vector<std::string>{"/home/u/a/draft.txt", "/home/u/b/final.txt"}));
}

TEST(ActivityDecode, UnlinkNamesTheParentAndTruncationIsKept) {
  FsRecord r(WARD_EV_UNLINK);
  r.base(0, "/deep").rel(0, "x/victim").flags(0, WARD_EVP_TRUNCATED).arg(0, 1);
  auto e = std::get<UnlinkEvent>(r.decode().payload);
  EXPECT_EQ(e.target.path, "/deep/x/victim");
  EXPECT_TRUE(e.target.path_truncated);
  EXPECT_EQ(e.parent_dir.path, "/deep/x");
  EXPECT_TRUE(e.is_directory);
}

TEST(ActivityDecode, SymlinkCreateKeepsTheTargetString) {
  FsRecord r(WARD_EV_CREATE, SYS_symlink);
  r.base(0, "/d").rel(0, "link").rel(1, "../../etc/passwd").arg(0, 0120777);
  auto e = std::get<CreateEvent>(r.decode().payload);
  EXPECT_EQ(e.destination.path, "/d/link");
  EXPECT_EQ(e.symlink_target, "../../etc/passwd") << "a literal, not resolved";
  EXPECT_EQ(e.mode, 0120777u);
}

TEST(ActivityDecode, UtimesNowAndOmit) {
  constexpr int64_t kNow = (1l << 30) - 1, kOmit = (1l << 30) - 2;
  FsRecord r(WARD_EV_UTIMES);
  r.base(0, "/f").arg(0, 0).arg(1, kOmit).arg(2, 0).arg(3, kNow);
  r.rec().h.flags = 1;
  auto e = std::get<UtimesEvent>(r.decode(1'000'000'000'000'000'000).payload);
  EXPECT_FALSE(e.atime);
  ASSERT_TRUE(e.mtime);
  EXPECT_EQ(e.mtime->sec, 1'000'000'005) << "now = the event's time";
  FsRecord null_times(WARD_EV_UTIMES);
  null_times.base(0, "/f");
  auto both = std::get<UtimesEvent>(null_times.decode().payload);
  EXPECT_TRUE(both.atime && both.mtime) << "NULL times: both now";
}

TEST(ActivityDecode, SetidFamily) {
  FsRecord r(WARD_EV_SETREUID, SYS_setresuid);
  r.arg(0, 1000).arg(1, 0).arg(2, 0xffffffff);
  r.rec().h.result = -1;
  auto e = std::get<SetreuidEvent>(r.decode().payload);
  EXPECT_EQ(e.ruid, 1000u);
  EXPECT_EQ(e.euid, 0u);
  EXPECT_EQ(e.suid, 0xffffffffu);
  EXPECT_EQ(e.result, -1);
  FsRecord eu(WARD_EV_SETEUID, SYS_setresuid);
  eu.arg(0, 0xffffffff).arg(1, 33).arg(2, 0xffffffff);
  EXPECT_EQ(std::get<SeteuidEvent>(eu.decode().payload).euid, 33u);
}

TEST(ActivityDecode, MountAndAbstractUnixSocket) {
  FsRecord m(WARD_EV_MOUNT, SYS_mount);
  m.base(0, "/mnt").rel(0, "scratch").base(1, "tmpfs").rel(1, "none").arg(0, 6);
  auto me = std::get<MountEvent>(m.decode().payload);
  EXPECT_EQ(me.mountpoint.path, "/mnt/scratch");
  EXPECT_EQ(me.fstype, "tmpfs");
  EXPECT_EQ(me.source, "none");
  EXPECT_EQ(me.flags, 6u);
  FsRecord u(WARD_EV_UIPC_CONNECT);
  u.rel(0, "dbus-abc").flags(0, WARD_EVP_ABSTRACT).arg(0, SOCK_STREAM);
  auto ue = std::get<UipcConnectEvent>(u.decode().payload);
  EXPECT_EQ(ue.file.path, "@dbus-abc");
  EXPECT_EQ(ue.type, SOCK_STREAM);
}

ward_rec_header header(uint32_t type, std::size_t size) {
  ward_rec_header h{};
  h.type = static_cast<uint16_t>(type);
  h.version = WARD_WIRE_VERSION;
  h.size = static_cast<uint32_t>(size);
  h.tid = 50;
  return h;
}

TEST(ActivityDecode, SignalCarriesTheTargetProcess) {
  ward_task_rec r{};
  r.h.hdr = header(WARD_EV_SIGNAL, sizeof(r));
  r.h.proc.tgid = 50;
  r.h.arg[0] = 15;
  r.h.arg[3] = 60;
  r.target.tgid = 60;
  r.target.start_boot_ns = 99;
  r.target_found = 1;
  auto* p = reinterpret_cast<const uint8_t*>(&r);
  auto e = decode_activity_record(std::span(p, sizeof(r)));
  ASSERT_TRUE(e);
  const auto& n = std::get<RawNotify>(*e);
  EXPECT_EQ(std::get<SignalEvent>(n.payload).sig, 15);
  ASSERT_TRUE(n.target_process);
  EXPECT_EQ(n.target_process->tgid, 60);
  r.target_found = 0;  // gone: still named by pid
  auto gone = decode_activity_record(std::span(p, sizeof(r)));
  ASSERT_TRUE(gone && std::get<RawNotify>(*gone).target_process);
  EXPECT_EQ(std::get<RawNotify>(*gone).target_process->tgid, 60);
}

TEST(ActivityDecode, ConnectAndDenialAddresses) {
  ward_net_rec r{};
  r.h.hdr = header(WARD_EV_CONNECT, sizeof(r));
  r.remote.family = AF_INET;
  r.remote.port = 443;
  inet_pton(AF_INET, "93.184.216.34", r.remote.addr);
  r.local.family = AF_INET6;
  r.local.port = 5000;
  inet_pton(AF_INET6, "2001:db8::1", r.local.addr);
  r.protocol = IPPROTO_TCP;
  r.h.result = -EINPROGRESS;
  auto* p = reinterpret_cast<const uint8_t*>(&r);
  auto e = decode_activity_record(std::span(p, sizeof(r)));
  ASSERT_TRUE(e);
  const auto& c = std::get<ConnectEvent>(std::get<RawNotify>(*e).payload);
  EXPECT_EQ(c.remote.address, "93.184.216.34");
  EXPECT_EQ(c.remote.port, 443u);
  EXPECT_EQ(c.local.address, "2001:db8::1");
  EXPECT_EQ(c.result, -EINPROGRESS);

  r.h.hdr.type = WARD_EV_NET_DENIED;
  r.direction = WARD_NET_CONNECT;
  r.rule_id = 3;
  auto d = decode_activity_record(std::span(p, sizeof(r)));
  ASSERT_TRUE(d);
  const auto& a = std::get<AuthResultEvent>(std::get<RawNotify>(*d).payload);
  EXPECT_EQ(a.target, "tcp://93.184.216.34:443");
  EXPECT_EQ(a.result, "deny");
  EXPECT_EQ(a.decided_by, "kernel");
  EXPECT_EQ(a.rule, "#3");
  EXPECT_EQ(a.auth_event_type, static_cast<uint32_t>(EventType::NotifyConnect));
}

TEST(ActivityDecode, MalformedRecordsAreRejected) {
  FsRecord r(WARD_EV_OPEN);
  r.base(0, "/x");
  auto good = r.bytes();
  EXPECT_FALSE(decode_activity_record(std::span(good).first(20))) << "shorter than a header";
  auto bad_piece = good;
  auto* rec = reinterpret_cast<ward_fs_rec*>(bad_piece.data());
  rec->path[0].base.len = 5000;
  EXPECT_FALSE(decode_activity_record(bad_piece)) << "piece beyond the record";
  auto bad_type = good;
  reinterpret_cast<ward_fs_rec*>(bad_type.data())->h.hdr.type = 3;  // the process sensor's exit
  EXPECT_FALSE(decode_activity_record(bad_type));
  auto bad_version = good;
  reinterpret_cast<ward_fs_rec*>(bad_version.data())->h.hdr.version = 99;
  EXPECT_FALSE(decode_activity_record(bad_version));
}

TEST(KernelFilterTrie, LongestMatchSpeaksForEveryShorterEntry) {
  using P = FilterClient::Path;
  TrieImage img = build_trie_image({{P{"/tmp/", false}}, {P{"/tmp/x/", false}, P{"/etc/passwd", true}}});
  std::map<std::string, uint64_t> m(img.entries.begin(), img.entries.end());
  EXPECT_EQ(m["/tmp/"], 1u);
  EXPECT_EQ(m["/tmp/x/"], 3u) << "a path under /tmp/x/ is listed by both clients";
  EXPECT_EQ(m[std::string("/etc/passwd") + '\0'], 2u) << "literals end with NUL";
  EXPECT_EQ(img.inexact, 0u);
}

TEST(KernelFilterTrie, EntriesTooLongForTheKernelMakeTheClientInexact) {
  using P = FilterClient::Path;
  std::string longp = "/" + std::string(300, 'a');
  TrieImage img = build_trie_image({{P{"/ok", false}}, {P{longp, false}, P{"/tmp", false}}});
  EXPECT_EQ(img.inexact, 2u);
  for (const auto& [bytes, clients] : img.entries)
    EXPECT_EQ(clients & 2u, 0u) << "an inexact client never mutes in the kernel";
}

}  // namespace
}  // namespace ward::sensors::bpf
