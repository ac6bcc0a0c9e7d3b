// The stdout, rotating-file and syslog writers: framing (one record, one
// line / datagram), bounds, and what happens when the destination fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "output/file_writer.h"
#include "output/stdout_writer.h"
#include "output/syslog_writer.h"

namespace ward::output {
namespace {

namespace fs = std::filesystem;

Record record(std::string payload, std::string event_name = "exec") {
  Record r;
  r.id = "test-" + payload.substr(0, 16);
  r.event_type = 9;
  r.event_name = std::move(event_name);
  r.time_ns = 1'764'626'745'123'456'789ull;
  r.pid = 4242;
  r.payload = std::move(payload);
  return r;
}

// A fresh directory under /tmp, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ward-writers-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Sets a signal to be ignored for the scope of a test.
class IgnoreSignal {
 public:
  explicit IgnoreSignal(int sig) : sig_(sig) { old_ = std::signal(sig, SIG_IGN); }
  ~IgnoreSignal() { std::signal(sig_, old_); }

 private:
  int sig_;
  void (*old_)(int);
};

std::string read_available(int fd) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// ---- stdout -----------------------------------------------------------------------

class StdoutWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::pipe2(fds_, O_CLOEXEC), 0);
    ASSERT_EQ(::fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
  }
  void TearDown() override {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }
  int fds_[2] = {-1, -1};
};

TEST_F(StdoutWriterTest, BuffersUntilFlushThenOneLinePerRecord) {
  StdoutWriter w({.fd = fds_[1], .flush_bytes = 1 << 20});
  EXPECT_TRUE(w.write(record("{\"a\":1}")));
  EXPECT_TRUE(w.write(record("{\"b\":2}")));
  EXPECT_EQ(read_available(fds_[0]), "") << "nothing leaves before flush";
  EXPECT_EQ(w.counters().written, 0u);
  EXPECT_TRUE(w.flush());
  EXPECT_EQ(read_available(fds_[0]), "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_EQ(w.counters().written, 2u);
  EXPECT_EQ(w.name(), "stdout");
}

TEST_F(StdoutWriterTest, WritesOutWhenTheBufferFills) {
  StdoutWriter w({.fd = fds_[1], .flush_bytes = 64});
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(w.write(record("record-number-" + std::to_string(i))));
  std::string out = read_available(fds_[0]);
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n') << "only whole lines go out";
}

TEST_F(StdoutWriterTest, RefusesARecordWithANewline) {
  StdoutWriter w({.fd = fds_[1]});
  Status s = w.write(record("two\nlines"));
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("newline"), std::string::npos) << s.message();
  EXPECT_TRUE(w.flush());
  EXPECT_EQ(read_available(fds_[0]), "");
  EXPECT_EQ(w.counters().errors, 1u);
}

TEST_F(StdoutWriterTest, ClosedReaderIsACountedErrorAndTheBufferStaysBounded) {
  IgnoreSignal no_sigpipe(SIGPIPE);
  ::close(fds_[0]);
  fds_[0] = -1;
  StdoutWriter w({.fd = fds_[1], .flush_bytes = 1 << 20, .max_buffer_bytes = 256});
  EXPECT_TRUE(w.write(record("first")));
  Status s = w.flush();
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("Broken pipe"), std::string::npos) << s.message();
  EXPECT_GE(w.counters().errors, 1u);
  uint64_t refused = 0;
  for (int i = 0; i < 100; ++i)
    if (!w.write(record(std::string(40, 'x')))) ++refused;
  EXPECT_GT(w.counters().dropped, 0u) << "a bound, not unbounded memory";
  EXPECT_EQ(w.counters().written, 0u);
}

TEST_F(StdoutWriterTest, SlowNonBlockingReaderLosesNothingButCountedDrops) {
  ASSERT_EQ(::fcntl(fds_[1], F_SETFL, O_NONBLOCK), 0);
  ::fcntl(fds_[1], F_SETPIPE_SZ, 4096);
  StdoutWriter w({.fd = fds_[1], .flush_bytes = 512, .max_buffer_bytes = 16 * 1024});
  constexpr int kRecords = 5000;
  for (int i = 0; i < kRecords; ++i) (void)w.write(record("{\"seq\":" + std::to_string(i) + "}"));
  // Now a reader drains the pipe while flush() pushes the rest.
  std::string received;
  std::thread reader([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds_[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) break;
      received += read_available(fds_[0]);
    }
  });
  EXPECT_TRUE(w.flush());
  reader.join();
  auto c = w.counters();
  EXPECT_EQ(c.written + c.dropped, static_cast<uint64_t>(kRecords));
  EXPECT_GT(c.dropped, 0u) << "the 4 KiB pipe and 16 KiB buffer cannot hold 5000 records";
  // Every record that went out arrived whole, in order.
  std::istringstream lines(received);
  std::string line;
  uint64_t count = 0;
  int last = -1;
  std::regex shape(R"(\{"seq":(\d+)\})");
  while (std::getline(lines, line)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, shape)) << line;
    int seq = std::stoi(m[1]);
    EXPECT_GT(seq, last);
    last = seq;
    ++count;
  }
  EXPECT_EQ(count, c.written);
}

// ---- rotating file -------------------------------------------------------------------

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

TEST(RotatingFileWriter, RotatesManyTimesWithinTheBoundsAndKeepsTheNewestRecordsWhole) {
  TempDir dir;
  fs::path log = dir.path() / "events.log";
  constexpr uint64_t kMaxBytes = 1000;
  constexpr unsigned kKeep = 4;
  auto opened = RotatingFileWriter::open({.path = log.string(),
                                          .max_file_bytes = kMaxBytes,
                                          .keep_files = kKeep,
                                          .buffer_bytes = 300,
                                          .sync_on_flush = false});
  ASSERT_TRUE(opened) << opened.status().message();
  auto& w = *opened.value();
  constexpr int kRecords = 5000;
  for (int i = 0; i < kRecords; ++i) {
    // 20 to 200 bytes: records of every size straddle the limit.
    std::string payload =
        "seq=" + std::to_string(i) + " " + std::string(static_cast<std::size_t>(15 + (i * 37) % 185), 'x');
    ASSERT_TRUE(w.write(record(payload))) << i;
    if (i % 97 == 0) {
      ASSERT_TRUE(w.flush());
    }
  }
  ASSERT_TRUE(w.flush());
  EXPECT_EQ(w.counters().written, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(w.counters().errors, 0u);
  EXPECT_GT(w.rotations(), 100u);

  std::set<std::string> allowed = {"events.log", "events.log.1", "events.log.2", "events.log.3"};
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    ++files;
    EXPECT_TRUE(allowed.count(entry.path().filename().string())) << entry.path();
    EXPECT_LE(fs::file_size(entry.path()), kMaxBytes) << entry.path();
  }
  EXPECT_LE(files, kKeep);

  // Oldest to newest, the surviving records are the last ones written, each
  // whole, none missing between them.
  std::vector<std::string> all;
  for (const char* name : {"events.log.3", "events.log.2", "events.log.1", "events.log"}) {
    std::string text = read_all(dir.path() / name);
    ASSERT_FALSE(text.empty()) << name;
    EXPECT_EQ(text.back(), '\n') << name << " ends inside a record";
    for (auto& l : lines_of(text)) all.push_back(std::move(l));
  }
  ASSERT_FALSE(all.empty());
  int first = std::stoi(all.front().substr(4));
  for (std::size_t k = 0; k < all.size(); ++k) {
    std::string want_prefix = "seq=" + std::to_string(first + static_cast<int>(k)) + " ";
    ASSERT_EQ(all[k].rfind(want_prefix, 0), 0u) << all[k];
    std::size_t pad = all[k].size() - want_prefix.size();
    EXPECT_EQ(pad, static_cast<std::size_t>(15 + ((first + static_cast<int>(k)) * 37) % 185))
        << "a record cut short";
  }
  EXPECT_EQ(first + static_cast<int>(all.size()), kRecords) << "the newest records are all there";
}

TEST(RotatingFileWriter, ARecordLargerThanAFileIsRefusedAndCounted) {
  TempDir dir;
  auto w = std::move(
      RotatingFileWriter::open({.path = (dir.path() / "x.log").string(), .max_file_bytes = 100}).value());
  Status s = w->write(record(std::string(100, 'y')));  // 101 bytes with its newline
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("larger than max_file_bytes 100"), std::string::npos) << s.message();
  EXPECT_EQ(w->counters().dropped, 1u);
  EXPECT_TRUE(w->write(record(std::string(99, 'z'))));
  EXPECT_TRUE(w->flush());
  EXPECT_EQ(fs::file_size(dir.path() / "x.log"), 100u);
}

TEST(RotatingFileWriter, AnUnusablePathIsAnErrorWithThePathAndTheReason) {
  TempDir dir;
  std::ofstream(dir.path() / "plain-file") << "x";
  std::string under_file = (dir.path() / "plain-file" / "events.log").string();
  auto r = RotatingFileWriter::open({.path = under_file});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find(under_file), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("Not a directory"), std::string::npos) << r.status().message();

  std::string missing = (dir.path() / "no-such-dir" / "events.log").string();
  r = RotatingFileWriter::open({.path = missing});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("No such file or directory"), std::string::npos)
      << r.status().message();

  EXPECT_FALSE(RotatingFileWriter::open({.path = ""}));
  EXPECT_FALSE(RotatingFileWriter::open({.path = missing, .keep_files = 0}));

  if (::geteuid() != 0) {  // root writes anywhere: permissions only bind others
    fs::create_directory(dir.path() / "ro");
    fs::permissions(dir.path() / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    r = RotatingFileWriter::open({.path = (dir.path() / "ro" / "events.log").string()});
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("Permission denied"), std::string::npos) << r.status().message();
    fs::permissions(dir.path() / "ro", fs::perms::owner_all);
  }
}

TEST(RotatingFileWriter, AppendsToAnExistingFileAndRotatesItWhenFull) {
  TempDir dir;
  fs::path log = dir.path() / "events.log";
  std::ofstream(log) << std::string(899, 'o') << '\n';
  auto w = std::move(
      RotatingFileWriter::open({.path = log.string(), .max_file_bytes = 1000, .keep_files = 2}).value());
  ASSERT_TRUE(w->write(record(std::string(99, 'a'))));  // exactly fills it
  ASSERT_TRUE(w->write(record("next")));
  ASSERT_TRUE(w->flush());
  EXPECT_EQ(fs::file_size(dir.path() / "events.log.1"), 1000u);
  EXPECT_EQ(read_all(log), "next\n");
}

TEST(RotatingFileWriter, APartialLastLineIsEndedBeforeTheFirstRecord) {
  TempDir dir;
  fs::path log = dir.path() / "events.log";
  std::ofstream(log) << "{\"cut\":";
  auto w = std::move(RotatingFileWriter::open({.path = log.string()}).value());
  ASSERT_TRUE(w->write(record("{\"whole\":1}")));
  ASSERT_TRUE(w->flush());
  EXPECT_EQ(read_all(log), "{\"cut\":\n{\"whole\":1}\n");
}

TEST(RotatingFileWriter, KeepingOneFileStartsItOver) {
  TempDir dir;
  fs::path log = dir.path() / "events.log";
  auto w = std::move(
      RotatingFileWriter::open({.path = log.string(), .max_file_bytes = 50, .keep_files = 1}).value());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(w->write(record("record " + std::to_string(i))));
  ASSERT_TRUE(w->flush());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  EXPECT_LE(fs::file_size(log), 50u);
  EXPECT_EQ(lines_of(read_all(log)).back(), "record 19");
}

// A write that fails part-way (here: the file size limit, EFBIG) leaves the
// file at a record boundary and keeps the records; they are written once the
// file can take them, none twice, none lost.
TEST(RotatingFileWriter, AFailedWriteKeepsRecordsWholeAndWritesThemLater) {
  TempDir dir;
  fs::path log = dir.path() / "events.log";
  auto w = std::move(
      RotatingFileWriter::open({.path = log.string(), .max_file_bytes = 1 << 20, .buffer_bytes = 1 << 20})
          .value());
  IgnoreSignal no_sigxfsz(SIGXFSZ);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 1000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(w->write(record("seq=" + std::to_string(i) + std::string(30, '.'))));
  Status s = w->flush();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("File too large"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("kept"), std::string::npos) << s.message();
  std::string partial = read_all(log);
  EXPECT_LE(partial.size(), 1000u);
  ASSERT_FALSE(partial.empty());
  EXPECT_EQ(partial.back(), '\n') << "cut back to the last whole record";
  EXPECT_LT(w->counters().written, 100u);

  ASSERT_TRUE(w->flush());
  auto all = lines_of(read_all(log));
  ASSERT_EQ(all.size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(all[static_cast<std::size_t>(i)], "seq=" + std::to_string(i) + std::string(30, '.'));
  EXPECT_EQ(w->counters().written, 100u);
  EXPECT_GE(w->counters().errors, 1u);
}

// ---- syslog ---------------------------------------------------------------------------

// A syslog daemon stand-in: a datagram socket bound in a test directory.
class Listener {
 public:
  explicit Listener(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Listener() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }

  // The next datagram, or nullopt after timeout_ms.
  std::optional<std::string> receive(int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    std::string buf(300 * 1024, '\0');
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<std::size_t>(n));
    return buf;
  }

 private:
  fs::path path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SyslogWriter, SendsRfc5424MessagesToTheSocket) {
  TempDir dir;
  fs::path sock = dir.path() / "log";
  Listener listener(sock);
  ASSERT_TRUE(listener.bound());
  SyslogWriter w({.socket_path = sock.string(), .hostname = "test-host"});
  ASSERT_TRUE(w.write(record(R"({"event":"exec","args":["a b"]})")));
  auto got = listener.receive();
  ASSERT_TRUE(got);
  std::regex want(
      R"(<86>1 2025-12-01T22:05:45\.123456Z test-host ward \d+ exec - \{"event":"exec","args":\["a b"\]\})");
  EXPECT_TRUE(std::regex_match(*got, want)) << *got;
  EXPECT_EQ(w.counters().written, 1u);
  EXPECT_TRUE(w.flush());
}

TEST(SyslogWriter, SendsRfc3164MessagesAsSyslog3Does) {
  TempDir dir;
  fs::path sock = dir.path() / "log";
  Listener listener(sock);
  SyslogWriter w(
      {.socket_path = sock.string(), .format = SyslogFormat::Rfc3164, .facility = 16, .severity = 5});
  ASSERT_TRUE(w.write(record("{}")));
  auto got = listener.receive();
  ASSERT_TRUE(got);
  // local0.notice = 16 * 8 + 5
  EXPECT_TRUE(
      std::regex_match(*got, std::regex(R"(<133>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ward\[\d+\]: \{\})")))
      << *got;
}

TEST(SyslogWriter, HeaderFieldsStayPrintableAscii) {
  SyslogWriter w({.socket_path = "/nonexistent", .app_name = "my app", .hostname = "h\xc3\xa9st"});
  std::string msg = w.format_message(record("payload \xc3\xa9 kept as is", ""));
  EXPECT_TRUE(std::regex_search(msg, std::regex(R"(^<86>1 \S+ h__st my_app \d+ - - payload)"))) << msg;
  EXPECT_NE(msg.find("payload \xc3\xa9 kept as is"), std::string::npos);
}

TEST(SyslogWriter, AMissingSocketIsACountedErrorAndItReconnectsLater) {
  TempDir dir;
  fs::path sock = dir.path() / "log";
  SyslogWriter w({.socket_path = sock.string(), .reconnect_interval_ms = 200});
  Status s = w.write(record("lost-1"));
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find(sock.string()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No such file or directory"), std::string::npos) << s.message();
  s = w.write(record("lost-2"));  // within the interval: no new attempt, same reason
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("not connected"), std::string::npos) << s.message();
  EXPECT_EQ(w.counters().errors, 2u);
  EXPECT_FALSE(w.flush());

  Listener listener(sock);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  ASSERT_TRUE(w.write(record("delivered")));
  auto got = listener.receive();
  ASSERT_TRUE(got);
  EXPECT_NE(got->find("delivered"), std::string::npos);
  EXPECT_EQ(w.counters().written, 1u);
}

TEST(SyslogWriter, ADaemonRestartLosesNothing) {
  TempDir dir;
  fs::path sock = dir.path() / "log";
  auto first = std::make_unique<Listener>(sock);
  SyslogWriter w({.socket_path = sock.string()});
  ASSERT_TRUE(w.write(record("before")));
  ASSERT_TRUE(first->receive());
  first.reset();  // the daemon goes away, and a new one binds the same path
  Listener second(sock);
  ASSERT_TRUE(w.write(record("after")));
  auto got = second.receive();
  ASSERT_TRUE(got);
  EXPECT_NE(got->find("after"), std::string::npos);
  EXPECT_EQ(w.counters().errors, 0u);
  EXPECT_EQ(w.counters().written, 2u);
}

TEST(SyslogWriter, ADaemonThatDoesNotReadCostsCountedDropsNotABlockedWriter) {
  TempDir dir;
  fs::path sock = dir.path() / "log";
  Listener listener(sock);
  SyslogWriter w({.socket_path = sock.string(), .send_timeout_ms = 1});
  constexpr int kRecords = 1500;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i) (void)w.write(record("{\"seq\":" + std::to_string(i) + "}"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  auto c = w.counters();
  EXPECT_GT(c.dropped, 0u);
  EXPECT_EQ(c.written + c.dropped, static_cast<uint64_t>(kRecords));
  uint64_t received = 0;
  while (listener.receive(50)) ++received;
  EXPECT_EQ(received, c.written);
}

TEST(SyslogWriter, AMessageTooLargeForTheSocketIsACountedError) {
  TempDir dir;
  fs::path sock = dir.path() / "log";
  Listener listener(sock);
  SyslogWriter w({.socket_path = sock.string()});
  Status s = w.write(record(std::string(1 << 20, 'x')));
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("larger than"), std::string::npos) << s.message();
  EXPECT_EQ(w.counters().errors, 1u);
  EXPECT_TRUE(w.write(record("small")));  // the connection is fine afterwards
}

}  // namespace
}  // namespace ward::output
