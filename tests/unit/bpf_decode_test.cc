#include "sensors/bpf/record_decoder.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <vector>

#include "ward_wire.h"

namespace ward::sensors::bpf {
namespace {

// Builds an exec record as the BPF program lays it out.
class ExecRecordBuilder {
 public:
  ExecRecordBuilder() : rec_(std::make_unique<ward_exec_rec>()) {
    std::memset(rec_.get(), 0, sizeof(ward_exec_rec));
    rec_->hdr.type = WARD_REC_EXEC;
    rec_->hdr.version = WARD_WIRE_VERSION;
    rec_->proc.tgid = 42;
    rec_->proc.ppid = 7;
    std::strcpy(rec_->proc.comm, "echo");
  }
  ExecRecordBuilder& piece(ward_piece ward_exec_rec::*which, std::string_view bytes) {
    (rec_.get()->*which).off = off_;
    (rec_.get()->*which).len = static_cast<uint32_t>(bytes.size());
    std::memcpy(rec_->data + off_, bytes.data(), bytes.size());
    off_ += static_cast<uint32_t>(bytes.size());
    return *this;
  }
  ward_exec_rec& rec() { return *rec_; }
  std::vector<uint8_t> bytes() {
    rec_->hdr.size = static_cast<uint32_t>(offsetof(ward_exec_rec, data) + off_);
    auto* p = reinterpret_cast<const uint8_t*>(rec_.get());
    return {p, p + rec_->hdr.size};
  }

 private:
  std::unique_ptr<ward_exec_rec> rec_;
  uint32_t off_ = 0;
};

TEST(JoinLeafFirstPath, ReversesComponents) {
  const char block[] = "echo\0bin\0usr";  // the final NUL is the literal's
  EXPECT_EQ(join_leaf_first_path(std::span(block, sizeof(block))), "/usr/bin/echo");
  EXPECT_EQ(join_leaf_first_path({}), "/");
  const char root_named[] = "x\0/";
  EXPECT_EQ(join_leaf_first_path(std::span(root_named, sizeof(root_named))), "/x");
}

TEST(SplitNulBlock, KeepsEmptyArgsAndFlagsCut) {
  const char block[] = {'a', 0, 0, 'b', ' ', 'c', 0};
  bool cut = true;
  auto v = split_nul_block(std::span(block, sizeof(block)), &cut);
  EXPECT_EQ(v, (std::vector<std::string>{"a", "", "b c"}));
  EXPECT_FALSE(cut);
  const char partial[] = {'x', 0, 'y', 'z'};
  v = split_nul_block(std::span(partial, sizeof(partial)), &cut);
  EXPECT_EQ(v, (std::vector<std::string>{"x", "yz"}));
  EXPECT_TRUE(cut);
}

TEST(KernelDev, ConvertsToUserEncoding) {
  uint32_t kdev = (259u << 20) | 3u;
  EXPECT_EQ(kernel_dev_to_user(kdev), makedev(259, 3));
}

TEST(DecodeRecord, DecodesExec) {
  ExecRecordBuilder b;
  b.piece(&ward_exec_rec::exe_path, std::string_view("echo\0bin\0usr\0", 13))
      .piece(&ward_exec_rec::cwd, std::string_view("tmp\0", 4))
      .piece(&ward_exec_rec::filename, "/bin/echo")
      .piece(&ward_exec_rec::interp, "/bin/echo")
      .piece(&ward_exec_rec::args, std::string_view("/bin/echo\0a b\0c\0", 16));
  b.rec().proc.tty_major = 136;
  b.rec().proc.tty_minor = 3;
  std::strcpy(b.rec().proc.tty_name, "pts3");
  auto bytes = b.bytes();
  auto ev = decode_record(bytes);
  ASSERT_TRUE(ev.has_value());
  auto* exec = std::get_if<RawExec>(&*ev);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(exec->proc.tgid, 42);
  EXPECT_EQ(exec->proc.comm, "echo");
  EXPECT_EQ(exec->exe_path, "/usr/bin/echo");
  EXPECT_EQ(exec->cwd, "/tmp");
  EXPECT_EQ(exec->args, (std::vector<std::string>{"/bin/echo", "a b", "c"}));
  EXPECT_FALSE(exec->args_truncated);
  EXPECT_EQ(exec->proc.tty, "/dev/pts/3");
  EXPECT_FALSE(exec->env.has_value());
}

TEST(DecodeRecord, FlagsTruncatedArgs) {
  ExecRecordBuilder b;
  b.piece(&ward_exec_rec::args, std::string_view("a\0bbbb", 6));
  b.rec().flags = WARD_F_ARGS_TRUNCATED;
  auto ev = decode_record(b.bytes());
  ASSERT_TRUE(ev.has_value());
  EXPECT_TRUE(std::get<RawExec>(*ev).args_truncated);
}

TEST(DecodeRecord, RejectsMalformed) {
  ExecRecordBuilder b;
  b.piece(&ward_exec_rec::args, "abc");
  auto good = b.bytes();
  // A piece that points past the record.
  auto bad = good;
  ward_exec_rec* r = reinterpret_cast<ward_exec_rec*>(bad.data());
  r->args.len = 100000;
  EXPECT_FALSE(decode_record(bad).has_value());
  // Short, wrong version, unknown type, size larger than the buffer.
  EXPECT_FALSE(decode_record(std::span(good.data(), 10)).has_value());
  auto v = good;
  reinterpret_cast<ward_rec_header*>(v.data())->version = 99;
  EXPECT_FALSE(decode_record(v).has_value());
  v = good;
  reinterpret_cast<ward_rec_header*>(v.data())->type = 77;
  EXPECT_FALSE(decode_record(v).has_value());
  v = good;
  reinterpret_cast<ward_rec_header*>(v.data())->size = static_cast<uint32_t>(v.size() + 1);
  EXPECT_FALSE(decode_record(v).has_value());
}

TEST(DecodeRecord, DecodesForkAndExit) {
  ward_fork_rec f{};
  f.hdr = {WARD_REC_FORK, WARD_WIRE_VERSION, sizeof(f), 5, 1, 0, 9};
  f.child.tgid = 10;
  f.parent_tgid = 9;
  auto* fp = reinterpret_cast<const uint8_t*>(&f);
  auto ev = decode_record(std::span(fp, sizeof(f)));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(std::get<RawFork>(*ev).child.tgid, 10);
  EXPECT_EQ(std::get<RawFork>(*ev).parent_tgid, 9);

  ward_exit_rec x{};
  x.hdr = {WARD_REC_EXIT, WARD_WIRE_VERSION, sizeof(x), 6, 1, 0, 10};
  x.proc.tgid = 10;
  x.status = 0x0100;  // exit(1)
  auto* xp = reinterpret_cast<const uint8_t*>(&x);
  ev = decode_record(std::span(xp, sizeof(x)));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(std::get<RawExit>(*ev).status, 0x0100);
}

}  // namespace
}  // namespace ward::sensors::bpf
