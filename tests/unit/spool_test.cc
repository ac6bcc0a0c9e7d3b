#include "output/spool.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "output/nats_writer.h"

namespace ward::output {
namespace {

namespace fs = std::filesystem;

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "ward_spool_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Record make_record(uint64_t n, size_t payload_bytes = 100) {
  Record r;
  r.id = "id-" + std::to_string(n);
  r.event_type = static_cast<uint32_t>(n % 3 == 0 ? 9 : 11);
  r.event_name = n % 3 == 0 ? "exec" : "fork";
  r.time_ns = 1'700'000'000'000'000'000ull + n;
  r.pid = static_cast<int32_t>(1000 + n);
  r.path = n % 2 == 0 ? "/usr/bin/x" + std::to_string(n) : "";
  r.payload = std::string(payload_bytes, static_cast<char>('a' + n % 26));
  return r;
}

SpoolOptions options_in(const std::string& dir, uint64_t max_bytes = 64ull << 20,
                        uint64_t segment_bytes = 1ull << 20) {
  SpoolOptions o;
  o.directory = dir;
  o.max_bytes = max_bytes;
  o.segment_bytes = segment_bytes;
  o.fsync_on_flush = false;
  return o;
}

std::unique_ptr<Spool> open_or_die(const SpoolOptions& o) {
  auto spool = Spool::open(o);
  EXPECT_TRUE(spool.is_ok()) << spool.status().message();
  return spool ? std::move(spool.value()) : nullptr;
}

std::vector<SpooledRecord> read_all(Spool& spool) {
  std::vector<SpooledRecord> out;
  for (;;) {
    const size_t before = out.size();
    EXPECT_TRUE(spool.read(1000, out));
    if (out.size() == before) return out;
  }
}

std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Offset of the n-th record frame (0-based) in a segment file.
size_t frame_offset(const std::string& file, size_t n) {
  std::ifstream in(file, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 16;
  for (size_t i = 0; i < n; ++i) {
    uint32_t length = 0;
    std::memcpy(&length, data.data() + pos + 4, 4);
    pos += 12 + length;
  }
  return pos;
}

void overwrite_byte(const std::string& file, size_t offset, char value) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(value);
}

TEST(SpoolTest, RoundTripsEveryFieldInOrder) {
  ScratchDir dir;
  auto spool = open_or_die(options_in(dir.path()));
  ASSERT_NE(spool, nullptr);
  std::vector<Record> written;
  for (uint64_t i = 0; i < 500; ++i) written.push_back(make_record(i));
  written[7].payload = std::string("bin\0ary\xff", 8);
  written[8].id.clear();
  for (const auto& r : written) ASSERT_TRUE(spool->append(r));
  EXPECT_FALSE(spool->empty());
  auto read = read_all(*spool);
  ASSERT_EQ(read.size(), written.size());
  for (size_t i = 0; i < read.size(); ++i) {
    const Record& a = read[i].record;
    const Record& b = written[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.event_type, b.event_type);
    EXPECT_EQ(a.event_name, b.event_name);
    EXPECT_EQ(a.time_ns, b.time_ns);
    EXPECT_EQ(a.pid, b.pid);
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.payload, b.payload);
  }
  ASSERT_TRUE(spool->acknowledge(read.back().end, read.size()));
  EXPECT_TRUE(spool->empty());
  EXPECT_EQ(spool->stats().records, 0u);
  EXPECT_EQ(spool->stats().acknowledged, 500u);
}

TEST(SpoolTest, SurvivesRestartAndResumesAfterTheAcknowledged) {
  ScratchDir dir;
  const SpoolOptions o = options_in(dir.path(), 64ull << 20, 64 * 1024);
  {
    auto spool = open_or_die(o);
    ASSERT_NE(spool, nullptr);
    for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(spool->append(make_record(i)));
    ASSERT_TRUE(spool->flush());
  }
  {
    auto spool = open_or_die(o);
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(spool->stats().records, 1000u);
    std::vector<SpooledRecord> first;
    ASSERT_TRUE(spool->read(600, first));
    ASSERT_EQ(first.size(), 600u);
    EXPECT_EQ(first.front().record.id, "id-0");
    ASSERT_TRUE(spool->acknowledge(first[399].end, 400));  // 400 delivered, 200 in doubt
    EXPECT_EQ(spool->stats().records, 600u);
  }
  auto spool = open_or_die(o);
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->stats().records, 600u);
  auto rest = read_all(*spool);
  ASSERT_EQ(rest.size(), 600u);
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i].record.id, "id-" + std::to_string(400 + i));
}

TEST(SpoolTest, RewindSendsTheInDoubtAgain) {
  ScratchDir dir;
  auto spool = open_or_die(options_in(dir.path()));
  ASSERT_NE(spool, nullptr);
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(spool->append(make_record(i)));
  std::vector<SpooledRecord> batch;
  ASSERT_TRUE(spool->read(10, batch));
  ASSERT_TRUE(spool->acknowledge(batch[2].end, 3));
  spool->rewind();
  auto again = read_all(*spool);
  ASSERT_EQ(again.size(), 7u);
  EXPECT_EQ(again.front().record.id, "id-3");
}

TEST(SpoolTest, AcknowledgedSegmentsAreDeleted) {
  ScratchDir dir;
  auto spool = open_or_die(options_in(dir.path(), 64ull << 20, 16 * 1024));
  ASSERT_NE(spool, nullptr);
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(spool->append(make_record(i, 200)));
  ASSERT_TRUE(spool->flush());
  EXPECT_GT(segment_files(dir.path()).size(), 10u);
  auto all = read_all(*spool);
  ASSERT_EQ(all.size(), 1000u);
  ASSERT_TRUE(spool->acknowledge(all.back().end, all.size()));
  EXPECT_EQ(segment_files(dir.path()).size(), 1u);  // the active one
  EXPECT_EQ(spool->stats().segments, 1u);
}

TEST(SpoolTest, DropOldestKeepsTheBoundAndCountsEveryDrop) {
  ScratchDir dir;
  SpoolOptions o = options_in(dir.path(), 256 * 1024, 32 * 1024);
  o.full_policy = SpoolFullPolicy::kDropOldest;
  auto spool = open_or_die(o);
  ASSERT_NE(spool, nullptr);
  const uint64_t total = 3000;
  for (uint64_t i = 0; i < total; ++i) {
    ASSERT_TRUE(spool->append(make_record(i, 300)));
    ASSERT_LE(spool->stats().bytes, o.max_bytes);
  }
  const SpoolStats stats = spool->stats();
  EXPECT_GT(stats.dropped, 0u);
  auto left = read_all(*spool);
  EXPECT_EQ(left.size() + stats.dropped, total);
  EXPECT_EQ(left.size(), stats.records);
  // What is left is the newest, in order, without gaps.
  EXPECT_EQ(left.back().record.id, "id-" + std::to_string(total - 1));
  for (size_t i = 0; i < left.size(); ++i) {
    EXPECT_EQ(left[i].record.id, "id-" + std::to_string(total - left.size() + i));
  }
}

TEST(SpoolTest, DropOldestNeverDropsRecordsInFlight) {
  ScratchDir dir;
  SpoolOptions o = options_in(dir.path(), 256 * 1024, 32 * 1024);
  auto spool = open_or_die(o);
  ASSERT_NE(spool, nullptr);
  for (uint64_t i = 0; i < 20; ++i) ASSERT_TRUE(spool->append(make_record(i, 300)));
  std::vector<SpooledRecord> in_flight;
  ASSERT_TRUE(spool->read(20, in_flight));  // sent, not acknowledged
  for (uint64_t i = 20; i < 3000; ++i) ASSERT_TRUE(spool->append(make_record(i, 300)));
  EXPECT_GT(spool->stats().dropped, 0u);
  spool->rewind();  // as after a lost connection
  std::vector<SpooledRecord> again;
  ASSERT_TRUE(spool->read(20, again));
  ASSERT_EQ(again.size(), 20u);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(again[i].record.id, "id-" + std::to_string(i));
}

TEST(SpoolTest, BlockNotifyRefusesWithoutWaiting) {
  ScratchDir dir;
  SpoolOptions o = options_in(dir.path(), 128 * 1024, 32 * 1024);
  o.full_policy = SpoolFullPolicy::kBlockNotify;
  auto spool = open_or_die(o);
  ASSERT_NE(spool, nullptr);
  uint64_t accepted = 0, refused = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < 1000; ++i) {
    Spool::AppendOutcome outcome;
    Status s = spool->append(make_record(i, 300), &outcome);
    if (s) {
      EXPECT_EQ(outcome, Spool::AppendOutcome::kAppended);
      ++accepted;
    } else {
      EXPECT_EQ(outcome, Spool::AppendOutcome::kRefused);
      EXPECT_NE(s.message().find("block_notify"), std::string::npos) << s.message();
      ++refused;
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(spool->stats().dropped, refused);
  EXPECT_LE(spool->stats().bytes, o.max_bytes);
  // Nothing already accepted was lost; once drained, records are accepted again.
  auto all = read_all(*spool);
  ASSERT_EQ(all.size(), accepted);
  ASSERT_TRUE(spool->acknowledge(all.back().end, all.size()));
  EXPECT_TRUE(spool->append(make_record(5000, 300)));
}

TEST(SpoolTest, ChecksumMismatchSkipsOnlyThatRecord) {
  ScratchDir dir;
  const SpoolOptions o = options_in(dir.path());
  {
    auto spool = open_or_die(o);
    ASSERT_NE(spool, nullptr);
    for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(spool->append(make_record(i)));
  }
  auto files = segment_files(dir.path());
  ASSERT_EQ(files.size(), 1u);
  overwrite_byte(files[0], frame_offset(files[0], 50) + 12 + 30, '#');  // in record 50's body
  auto spool = open_or_die(o);
  ASSERT_NE(spool, nullptr);
  auto read = read_all(*spool);
  ASSERT_EQ(read.size(), 99u);
  EXPECT_EQ(spool->stats().corrupt_records, 1u);
  for (const auto& r : read) EXPECT_NE(r.record.id, "id-50");
  EXPECT_EQ(read[50].record.id, "id-51");
  // Re-reading after a rewind does not count it twice.
  spool->rewind();
  read_all(*spool);
  EXPECT_EQ(spool->stats().corrupt_records, 1u);
}

TEST(SpoolTest, DamagedLengthResynchronizesAtTheNextRecord) {
  ScratchDir dir;
  const SpoolOptions o = options_in(dir.path());
  {
    auto spool = open_or_die(o);
    ASSERT_NE(spool, nullptr);
    for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(spool->append(make_record(i)));
  }
  auto files = segment_files(dir.path());
  const size_t record30 = frame_offset(files[0], 30), record70 = frame_offset(files[0], 70);
  overwrite_byte(files[0], record30 + 4, '\x07');  // record 30's length
  overwrite_byte(files[0], record70, 'Z');         // record 70's magic
  auto spool = open_or_die(o);
  ASSERT_NE(spool, nullptr);
  auto read = read_all(*spool);
  EXPECT_EQ(read.size(), 98u);
  EXPECT_EQ(spool->stats().corrupt_records, 2u);
  EXPECT_EQ(read.back().record.id, "id-99");
}

TEST(SpoolTest, TornTailFromACrashIsCountedAndTheRestKept) {
  ScratchDir dir;
  const SpoolOptions o = options_in(dir.path());
  {
    auto spool = open_or_die(o);
    ASSERT_NE(spool, nullptr);
    for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(spool->append(make_record(i)));
  }
  auto files = segment_files(dir.path());
  fs::resize_file(files[0], fs::file_size(files[0]) - 5);
  auto spool = open_or_die(o);
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->stats().records, 99u);
  auto read = read_all(*spool);
  EXPECT_EQ(read.size(), 99u);
  EXPECT_EQ(spool->stats().torn_tails, 1u);
  // New records go to a new segment, after the old ones.
  ASSERT_TRUE(spool->append(make_record(100)));
  auto more = read_all(*spool);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].record.id, "id-100");
}

TEST(SpoolTest, ForeignSegmentFileIsSetAsideAndCounted) {
  ScratchDir dir;
  std::ofstream(dir.path() + "/00000000000000000001.seg") << "this is not a spool segment";
  auto spool = open_or_die(options_in(dir.path()));
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->stats().corrupt_records, 1u);
  EXPECT_TRUE(fs::exists(dir.path() + "/00000000000000000001.seg.corrupt"));
  ASSERT_TRUE(spool->append(make_record(1)));
  EXPECT_EQ(read_all(*spool).size(), 1u);
}

TEST(SpoolTest, RecordsLargerThanAReadWindow) {
  ScratchDir dir;
  auto spool = open_or_die(options_in(dir.path(), 64ull << 20, 8ull << 20));
  ASSERT_NE(spool, nullptr);
  ASSERT_TRUE(spool->append(make_record(1, 3 << 20)));
  ASSERT_TRUE(spool->append(make_record(2, 10)));
  auto read = read_all(*spool);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].record.payload.size(), 3u << 20);
  EXPECT_FALSE(spool->append(make_record(3, 20u << 20)));  // past kMaxRecordBytes
}

TEST(SpoolTest, UnusableDirectoriesAreClearErrors) {
  ScratchDir dir;
  const std::string file = dir.path() + "/plain-file";
  std::ofstream(file) << "x";
  auto under_file = Spool::open(options_in(file + "/spool"));
  ASSERT_FALSE(under_file.is_ok());
  EXPECT_NE(under_file.status().message().find(file + "/spool"), std::string::npos)
      << under_file.status().message();
  EXPECT_FALSE(Spool::open(options_in("/proc/ward-spool")).is_ok());
  EXPECT_FALSE(Spool::open(options_in("")).is_ok());
  EXPECT_FALSE(Spool::open(options_in(dir.path(), 1024)).is_ok());  // bound too small
}

TEST(SpoolTest, OneProcessPerDirectory) {
  ScratchDir dir;
  auto first = open_or_die(options_in(dir.path()));
  ASSERT_NE(first, nullptr);
  auto second = Spool::open(options_in(dir.path()));
  ASSERT_FALSE(second.is_ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status().message();
}

TEST(SpoolTest, PolicyNames) {
  EXPECT_EQ(parse_spool_full_policy("drop_oldest").value(), SpoolFullPolicy::kDropOldest);
  EXPECT_EQ(parse_spool_full_policy("block_notify").value(), SpoolFullPolicy::kBlockNotify);
  EXPECT_FALSE(parse_spool_full_policy("block").is_ok());
  EXPECT_EQ(spool_full_policy_name(SpoolFullPolicy::kBlockNotify), "block_notify");
}

// A loopback port nothing listens on.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(NatsWriterTest, UnreachableServerSpoolsAndIsNotFatal) {
  ScratchDir dir;
  NatsWriterOptions o;
  o.servers = {"nats://127.0.0.1:" + std::to_string(closed_port())};
  o.spool = options_in(dir.path() + "/spool");
  const auto start = std::chrono::steady_clock::now();
  {
    auto writer = NatsWriter::create(o);
    ASSERT_TRUE(writer.is_ok()) << writer.status().message();
    for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(writer.value()->write(make_record(i)));
    ASSERT_TRUE(writer.value()->flush());
    const NatsWriterStats stats = writer.value()->stats();
    EXPECT_FALSE(stats.connected);
    EXPECT_EQ(stats.counters.written, 0u);
    EXPECT_EQ(stats.spool.records, 100u);
    EXPECT_FALSE(writer.value()->wait_until_delivered(std::chrono::milliseconds(50)).is_ok());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));  // no hang on close
  auto reopened = Spool::open(o.spool);
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().message();
  EXPECT_EQ(reopened.value()->stats().records, 100u);  // kept for the next run
}

TEST(NatsWriterTest, BadOptionsAndSpoolDirectoryAreErrors) {
  ScratchDir dir;
  NatsWriterOptions o;
  o.spool = options_in("/proc/ward-nats-spool");
  auto writer = NatsWriter::create(o);
  ASSERT_FALSE(writer.is_ok());
  EXPECT_NE(writer.status().message().find("/proc/ward-nats-spool"), std::string::npos)
      << writer.status().message();
  o.spool = options_in(dir.path());
  o.servers.clear();
  EXPECT_FALSE(NatsWriter::create(o).is_ok());
}

}  // namespace
}  // namespace ward::output
