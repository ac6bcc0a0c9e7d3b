// The NATS JetStream writer against real nats-server processes (Debian's
// nats-server) on loopback ports: a 3-node cluster with a replicated stream,
// servers killed and the whole cluster down while events keep coming; then a
// consumer checks the stream holds exactly the events produced, once each.
// Single-node tests cover the spool's full policies and an unreachable server
// at start. Every server is started with PR_SET_PDEATHSIG and killed by pid
// on the way out; a watchdog bounds each test's time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <nats/nats.h>
#pragma GCC diagnostic pop

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "e2e_util.h"
#include "output/nats_writer.h"

namespace ward::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string nats_server_binary() {
  for (const char* candidate : {"/usr/sbin/nats-server", "/usr/bin/nats-server"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

// `count` distinct free loopback ports (held open together while choosing).
std::vector<int> free_ports(size_t count) {
  std::vector<int> fds, ports;
  for (size_t i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

bool accepting(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// nats-server nodes of one cluster (or a single node), each with its own
// config, JetStream store dir and log under `dir`. Stopped nodes keep their
// store, so a restart recovers the streams.
class NatsServers {
 public:
  NatsServers(const std::string& dir, size_t nodes) : dir_(dir), pids_(nodes) {
    const auto ports = free_ports(nodes * 2);
    for (size_t i = 0; i < nodes; ++i) {
      client_ports_.push_back(ports[i]);
      route_ports_.push_back(ports[nodes + i]);
    }
    for (auto& pid : pids_) pid.store(-1);
    for (size_t i = 0; i < nodes; ++i) {
      std::ofstream conf(config_path(i));
      conf << "server_name: n" << i << "\n"
           << "listen: 127.0.0.1:" << client_ports_[i] << "\n"
           << "jetstream { store_dir: \"" << dir_ << "/js" << i << "\", max_memory_store: 64MB, "
           << "max_file_store: 1GB }\n";
      if (nodes > 1) {
        conf << "cluster {\n  name: ward_e2e\n  listen: 127.0.0.1:" << route_ports_[i] << "\n  routes: [\n";
        for (size_t j = 0; j < nodes; ++j) {
          if (j != i) conf << "    nats-route://127.0.0.1:" << route_ports_[j] << "\n";
        }
        conf << "  ]\n}\n";
      }
    }
  }
  ~NatsServers() { kill_all(); }
  NatsServers(const NatsServers&) = delete;
  NatsServers& operator=(const NatsServers&) = delete;

  size_t size() const { return pids_.size(); }

  void start(size_t i) {
    if (pids_[i].load() > 0) return;
    const std::string binary = nats_server_binary();
    const std::string conf = config_path(i);
    const std::string log = dir_ + "/n" + std::to_string(i) + ".log";
    const pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test, whatever kills it
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(binary.c_str(), binary.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    pids_[i].store(pid);
  }
  void start_all() {
    for (size_t i = 0; i < size(); ++i) start(i);
  }
  void stop(size_t i, int sig = SIGKILL) {
    const pid_t pid = pids_[i].exchange(-1);
    if (pid <= 0) return;
    ::kill(pid, sig);
    ::waitpid(pid, nullptr, 0);
  }
  void stop_all(int sig = SIGKILL) {
    for (size_t i = 0; i < size(); ++i) stop(i, sig);
  }
  // Async-signal-safe enough for the watchdog: no waiting, no allocation.
  void kill_all() {
    for (auto& p : pids_) {
      const pid_t pid = p.exchange(-1);
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  }
  bool wait_listening(seconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    for (size_t i = 0; i < size(); ++i) {
      if (pids_[i].load() <= 0) continue;
      while (!accepting(client_ports_[i])) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(milliseconds(50));
      }
    }
    return true;
  }
  std::vector<std::string> urls() const {
    std::vector<std::string> out;
    for (int port : client_ports_) out.push_back("nats://127.0.0.1:" + std::to_string(port));
    return out;
  }
  // Which node a URL names, or -1.
  int node_of(const std::string& url) const {
    for (size_t i = 0; i < size(); ++i) {
      if (url.find(":" + std::to_string(client_ports_[i])) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }
  std::string log_tail(size_t i, size_t bytes = 2000) const {
    std::ifstream in(dir_ + "/n" + std::to_string(i) + ".log");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
  }

 private:
  std::string config_path(size_t i) const { return dir_ + "/n" + std::to_string(i) + ".conf"; }
  std::string dir_;
  std::vector<int> client_ports_, route_ports_;
  std::vector<std::atomic<pid_t>> pids_;
};

// Ends a test that overruns its time: kills the servers, removes the temp
// dir and exits, so nothing is left behind even if the test is stuck.
class Watchdog {
 public:
  Watchdog(seconds limit, NatsServers& servers, const std::string& dir)
      : thread_([this, limit, &servers, dir] {
          std::unique_lock lock(mu_);
          if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
          std::fprintf(stderr, "nats e2e: test exceeded %lld s; killing the servers\n",
                       static_cast<long long>(limit.count()));
          servers.kill_all();
          std::error_code ignored;
          std::filesystem::remove_all(dir, ignored);
          _exit(1);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// A plain libnats connection for the test's own checks.
class Client {
 public:
  explicit Client(const std::vector<std::string>& urls) {
    natsOptions* options = nullptr;
    natsOptions_Create(&options);
    std::vector<const char*> servers;
    for (const auto& u : urls) servers.push_back(u.c_str());
    natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size()));
    natsOptions_SetMaxReconnect(options, -1);
    natsOptions_SetTimeout(options, 2000);
    if (natsConnection_Connect(&nc_, options) == NATS_OK) {
      jsOptions jo;
      jsOptions_Init(&jo);
      jo.Wait = 5000;
      natsConnection_JetStream(&js_, nc_, &jo);
    }
    natsOptions_Destroy(options);
  }
  ~Client() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (nc_ != nullptr) natsConnection_Destroy(nc_);
  }
  bool ok() const { return js_ != nullptr; }

  // JetStream answers (a meta leader is elected).
  bool jetstream_ready() {
    jsAccountInfo* info = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    if (js_GetAccountInfo(&info, js_, nullptr, &err) != NATS_OK) return false;
    jsAccountInfo_Destroy(info);
    return true;
  }
  int64_t stream_messages(const std::string& stream) {
    jsStreamInfo* info = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    if (js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &err) != NATS_OK) return -1;
    const auto msgs = static_cast<int64_t>(info->State.Msgs);
    jsStreamInfo_Destroy(info);
    return msgs;
  }
  struct Contents {
    std::unordered_set<std::string> ids;
    uint64_t messages = 0;
    uint64_t duplicates = 0;  // ids seen more than once
    uint64_t without_id = 0;
    std::vector<std::string> payloads;  // kept when read_stream is asked to
  };
  // Reads the whole stream with an ephemeral pull consumer.
  bool read_stream(const std::string& stream, const std::string& subject, uint64_t expected, Contents& out,
                   seconds timeout, bool keep_payloads = false) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Config.AckPolicy = js_AckNone;
    so.Config.DeliverPolicy = js_DeliverAll;
    natsSubscription* sub = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    const auto deadline = Clock::now() + timeout;
    while (js_PullSubscribe(&sub, js_, subject.c_str(), nullptr, nullptr, &so, &err) != NATS_OK) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(200));
    }
    int idle_fetches = 0;
    while (out.messages < expected && idle_fetches < 3 && Clock::now() < deadline) {
      natsMsgList list{};
      const natsStatus s = natsSubscription_Fetch(&list, sub, 1000, 2000, &err);
      if (s != NATS_OK) {
        ++idle_fetches;
        continue;
      }
      idle_fetches = 0;
      for (int i = 0; i < list.Count; ++i) {
        const char* id = nullptr;
        ++out.messages;
        if (keep_payloads)
          out.payloads.emplace_back(natsMsg_GetData(list.Msgs[i]),
                                    static_cast<std::size_t>(natsMsg_GetDataLength(list.Msgs[i])));
        if (natsMsgHeader_Get(list.Msgs[i], "Nats-Msg-Id", &id) != NATS_OK || id == nullptr) {
          ++out.without_id;
        } else if (!out.ids.insert(id).second) {
          ++out.duplicates;
        }
      }
      natsMsgList_Destroy(&list);
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return true;
  }

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

bool wait_jetstream(const std::vector<std::string>& urls, seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    Client client(urls);
    if (client.ok() && client.jetstream_ready()) return true;
    std::this_thread::sleep_for(milliseconds(250));
  }
  return false;
}

output::Record event(uint64_t n) {
  output::Record r;
  r.id = "e2e-" + std::to_string(n);
  r.event_type = n % 2 == 0 ? 9 : 11;
  r.event_name = n % 2 == 0 ? "exec" : "fork";
  r.time_ns = 1'700'000'000'000'000'000ull + n;
  r.pid = static_cast<int32_t>(n % 30000 + 2);
  r.path = n % 2 == 0 ? "/usr/bin/true" : "";
  r.payload = "{\"seq\":" + std::to_string(n) + ",\"pad\":\"" + std::string(400, 'q') + "\"}";
  return r;
}

// Writes events [from, to) at about `per_second`, checking the spool bound as it goes.
struct Producer {
  explicit Producer(output::NatsWriter& w) : writer(w) {}
  output::NatsWriter& writer;
  uint64_t max_spool_seen = 0;
  uint64_t write_errors = 0;
  std::vector<uint64_t> accepted;

  void produce(uint64_t from, uint64_t to, double per_second, const std::function<void(uint64_t)>& at = {}) {
    const auto start = Clock::now();
    for (uint64_t n = from; n < to; ++n) {
      if (at) at(n);
      if (writer.write(event(n))) {
        accepted.push_back(n);
      } else {
        ++write_errors;
      }
      if ((n + 1) % 200 == 0) {
        writer.flush();
        max_spool_seen = std::max(max_spool_seen, writer.stats().spool.bytes);
        const auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                     static_cast<double>(n + 1 - from) / per_second));
        std::this_thread::sleep_until(due);
      }
    }
    writer.flush();
  }
};

std::string describe(const output::NatsWriterStats& s) {
  return "written " + std::to_string(s.counters.written) + ", dropped " + std::to_string(s.counters.dropped) +
         ", errors " + std::to_string(s.counters.errors) + ", spool records " +
         std::to_string(s.spool.records) + ", rewinds " + std::to_string(s.rewinds) + ", connections " +
         std::to_string(s.connections) + ", last error: " + s.last_error;
}

class NatsJetStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (nats_server_binary().empty())
      GTEST_SKIP() << "nats-server is not installed (scripts/setup.sh installs it)";
  }
};

TEST_F(NatsJetStreamTest, ClusterOutagesLoseAndDuplicateNothing) {
  TempDir dir;
  NatsServers cluster(dir.path(), 3);
  Watchdog watchdog(seconds(270), cluster, dir.path());
  cluster.start_all();
  ASSERT_TRUE(cluster.wait_listening(seconds(20)));
  ASSERT_TRUE(wait_jetstream(cluster.urls(), seconds(60))) << cluster.log_tail(0);

  output::NatsWriterOptions o;
  o.servers = cluster.urls();
  o.stream = "WARD_E2E";
  o.replicas = 3;
  o.duplicate_window = std::chrono::minutes(5);
  o.ack_timeout = milliseconds(2000);
  o.retry_min = milliseconds(50);
  o.retry_max = milliseconds(1000);
  o.spool.directory = dir.path() + "/spool";
  o.spool.max_bytes = 128ull << 20;
  o.spool.segment_bytes = 4ull << 20;
  o.spool.fsync_on_flush = false;
  auto created = output::NatsWriter::create(o);
  ASSERT_TRUE(created.is_ok()) << created.status().message();
  output::NatsWriter& writer = *created.value();
  Producer producer(writer);

  constexpr uint64_t kTotal = 100000;
  // 1. 38,000 events at 5,000/s; at 10,000 the server the writer is on is
  // killed (SIGKILL). Then a burst, and in its middle all servers are stopped
  // (SIGTERM), with up to max_pending_acks publishes in doubt.
  int killed = -1;
  producer.produce(0, 38000, 5000, [&](uint64_t n) {
    if (n != 10000) return;
    killed = cluster.node_of(writer.stats().connected_url);
    if (killed < 0) killed = 1;
    cluster.stop(static_cast<size_t>(killed));
    std::printf("killed node %d (the writer's) at event %llu\n", killed, static_cast<unsigned long long>(n));
  });
  // Two of three still make a quorum: the stream goes on once it has a leader again.
  ASSERT_TRUE(writer.wait_until_delivered(seconds(60))) << describe(writer.stats());
  std::printf("caught up with one node down: %s\n", describe(writer.stats()).c_str());
  uint64_t in_doubt = 0;
  producer.produce(38000, 40000, 1e6, [&](uint64_t n) {
    if (n != 39500) return;
    for (int i = 0; i < 1000 && writer.stats().in_flight == 0; ++i)
      std::this_thread::sleep_for(milliseconds(1));
    in_doubt = writer.stats().in_flight;
    cluster.stop_all(SIGTERM);
  });
  std::printf("stopped all servers with %llu publishes awaiting their ack\n",
              static_cast<unsigned long long>(in_doubt));

  // 2. All servers down for 30 s while 40,000 more events arrive: they spool.
  producer.produce(40000, 80000, 40000.0 / 30.0);
  const auto during = writer.stats();
  std::printf("after 30 s without servers: %s\n", describe(during).c_str());
  EXPECT_FALSE(during.connected);
  EXPECT_GE(during.spool.records, 40500u);  // at least everything since the stop

  // 3. Restart all three; the last 20,000 arrive while the cluster recovers.
  cluster.start_all();
  ASSERT_TRUE(cluster.wait_listening(seconds(20)));
  producer.produce(80000, kTotal, 4000);
  Status delivered = writer.wait_until_delivered(seconds(150));
  const auto after = writer.stats();
  std::printf("after restart: %s\n", describe(after).c_str());
  ASSERT_TRUE(delivered.is_ok()) << delivered.message() << "\n" << cluster.log_tail(0);

  EXPECT_EQ(producer.write_errors, 0u);
  EXPECT_EQ(producer.accepted.size(), kTotal);
  EXPECT_EQ(after.counters.written, kTotal);
  EXPECT_EQ(after.counters.dropped, 0u);
  EXPECT_EQ(after.counters.errors, 0u);
  EXPECT_LE(producer.max_spool_seen, o.spool.max_bytes);

  // The stream holds each of the 100,000 exactly once.
  Client consumer(cluster.urls());
  ASSERT_TRUE(consumer.ok());
  Client::Contents contents;
  ASSERT_TRUE(consumer.read_stream("WARD_E2E", "ward.events.>", kTotal, contents, seconds(60)));
  std::printf("stream: %llu messages, %zu distinct ids, %llu duplicates (stream info says %lld)\n",
              static_cast<unsigned long long>(contents.messages), contents.ids.size(),
              static_cast<unsigned long long>(contents.duplicates),
              static_cast<long long>(consumer.stream_messages("WARD_E2E")));
  EXPECT_EQ(contents.duplicates, 0u);
  EXPECT_EQ(contents.without_id, 0u);
  EXPECT_EQ(contents.messages, kTotal);
  EXPECT_EQ(consumer.stream_messages("WARD_E2E"), static_cast<int64_t>(kTotal));
  uint64_t missing = 0;
  for (uint64_t n = 0; n < kTotal; ++n)
    missing += contents.ids.count("e2e-" + std::to_string(n)) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0u);
}

TEST_F(NatsJetStreamTest, DropOldestSpoolDropsExactlyWhatItCounts) {
  TempDir dir;
  NatsServers server(dir.path(), 1);
  Watchdog watchdog(seconds(120), server, dir.path());
  server.start_all();
  ASSERT_TRUE(server.wait_listening(seconds(20)));
  ASSERT_TRUE(wait_jetstream(server.urls(), seconds(30))) << server.log_tail(0);

  output::NatsWriterOptions o;
  o.servers = server.urls();
  o.stream = "WARD_DROP";
  o.retry_min = milliseconds(50);
  o.retry_max = milliseconds(500);
  o.spool.directory = dir.path() + "/spool";
  o.spool.max_bytes = 256 * 1024;  // ~500 events
  o.spool.segment_bytes = 32 * 1024;
  o.spool.full_policy = output::SpoolFullPolicy::kDropOldest;
  o.spool.fsync_on_flush = false;
  uint64_t dropped = 0;
  const uint64_t produced = 6000;
  {
    auto writer = output::NatsWriter::create(o);
    ASSERT_TRUE(writer.is_ok()) << writer.status().message();
    Producer producer(*writer.value());
    // Slow enough for the 256 KiB spool while the server is up: nothing may drop yet.
    for (int i = 0; i < 200 && !writer.value()->stats().stream_ready; ++i)
      std::this_thread::sleep_for(milliseconds(25));
    producer.produce(0, 1000, 2000);
    EXPECT_EQ(writer.value()->counters().dropped, 0u);
    ASSERT_TRUE(writer.value()->wait_until_delivered(seconds(30)));
    server.stop_all();
    producer.produce(1000, produced, 20000);  // ~2.5 MB into a 256 KiB spool
    EXPECT_EQ(producer.write_errors, 0u);     // drop_oldest never refuses
    EXPECT_LE(producer.max_spool_seen, o.spool.max_bytes);
    dropped = writer.value()->counters().dropped;
    EXPECT_GT(dropped, 0u);
  }
  // A new writer (as after an agent restart) replays what the spool kept.
  server.start_all();
  ASSERT_TRUE(server.wait_listening(seconds(20)));
  auto writer = output::NatsWriter::create(o);
  ASSERT_TRUE(writer.is_ok()) << writer.status().message();
  ASSERT_TRUE(writer.value()->wait_until_delivered(seconds(60))) << describe(writer.value()->stats());

  Client consumer(server.urls());
  Client::Contents contents;
  ASSERT_TRUE(consumer.read_stream("WARD_DROP", "ward.events.>", produced, contents, seconds(30)));
  std::printf("produced %llu, dropped %llu, stream holds %llu\n", static_cast<unsigned long long>(produced),
              static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(contents.messages));
  std::string ranges;  // the ids present, as runs, for the failure message
  for (uint64_t n = 0; n < produced; ++n) {
    if (contents.ids.count("e2e-" + std::to_string(n)) == 0) continue;
    uint64_t end = n;
    while (end + 1 < produced && contents.ids.count("e2e-" + std::to_string(end + 1)) == 1) ++end;
    ranges += " " + std::to_string(n) + "-" + std::to_string(end);
    n = end;
  }
  SCOPED_TRACE("ids present:" + ranges);
  EXPECT_EQ(contents.duplicates, 0u);
  EXPECT_EQ(contents.messages, produced - dropped);
  EXPECT_EQ(contents.ids.size(), produced - dropped);
  uint64_t early_missing = 0;
  for (uint64_t n = 0; n < 1000; ++n)
    early_missing += contents.ids.count("e2e-" + std::to_string(n)) == 0 ? 1 : 0;
  EXPECT_EQ(early_missing, 0u);
  // The newest survive; what went is the oldest of the outage, all in one run.
  EXPECT_EQ(contents.ids.count("e2e-" + std::to_string(produced - 1)), 1u);
  uint64_t first_missing = produced, last_missing = 0;
  for (uint64_t n = 0; n < produced; ++n) {
    if (contents.ids.count("e2e-" + std::to_string(n)) == 0) {
      first_missing = std::min(first_missing, n);
      last_missing = n;
    }
  }
  EXPECT_EQ(last_missing - first_missing + 1, dropped);
}

TEST_F(NatsJetStreamTest, BlockNotifyRefusesWhileDownAndNothingAcceptedIsLost) {
  TempDir dir;
  NatsServers server(dir.path(), 1);
  Watchdog watchdog(seconds(120), server, dir.path());
  // The server is not running when the writer starts: that is not fatal.
  output::NatsWriterOptions o;
  o.servers = server.urls();
  o.stream = "WARD_BLOCK";
  o.retry_min = milliseconds(50);
  o.retry_max = milliseconds(500);
  o.spool.directory = dir.path() + "/spool";
  o.spool.max_bytes = 128 * 1024;
  o.spool.full_policy = output::SpoolFullPolicy::kBlockNotify;
  o.spool.fsync_on_flush = false;
  auto writer = output::NatsWriter::create(o);
  ASSERT_TRUE(writer.is_ok()) << writer.status().message();
  Producer producer(*writer.value());
  const auto start = Clock::now();
  producer.produce(0, 2000, 100000);
  EXPECT_LT(Clock::now() - start, seconds(5));  // refusals are immediate, never a wait
  EXPECT_GT(producer.write_errors, 0u);
  EXPECT_EQ(writer.value()->counters().dropped, producer.write_errors);
  EXPECT_LE(producer.max_spool_seen, o.spool.max_bytes);

  server.start_all();
  ASSERT_TRUE(server.wait_listening(seconds(20)));
  ASSERT_TRUE(writer.value()->wait_until_delivered(seconds(60))) << describe(writer.value()->stats());
  // Drained: accepted again.
  EXPECT_TRUE(writer.value()->write(event(5000)));
  producer.accepted.push_back(5000);
  ASSERT_TRUE(writer.value()->wait_until_delivered(seconds(30)));

  Client consumer(server.urls());
  Client::Contents contents;
  ASSERT_TRUE(
      consumer.read_stream("WARD_BLOCK", "ward.events.>", producer.accepted.size(), contents, seconds(30)));
  EXPECT_EQ(contents.messages, producer.accepted.size());
  EXPECT_EQ(contents.duplicates, 0u);
  for (uint64_t n : producer.accepted) EXPECT_EQ(contents.ids.count("e2e-" + std::to_string(n)), 1u) << n;
}

}  // namespace
}  // namespace ward::e2e

namespace ward::e2e {
namespace {

TEST_F(NatsJetStreamTest, RecordTooLargeForTheServerIsCountedAndSkipped) {
  TempDir dir;
  NatsServers server(dir.path(), 1);  // max_payload: the default 1 MB
  Watchdog watchdog(seconds(60), server, dir.path());
  server.start_all();
  ASSERT_TRUE(server.wait_listening(seconds(20)));
  output::NatsWriterOptions o;
  o.servers = server.urls();
  o.stream = "WARD_BIG";
  o.spool.directory = dir.path() + "/spool";
  o.spool.fsync_on_flush = false;
  auto writer = output::NatsWriter::create(o);
  ASSERT_TRUE(writer.is_ok()) << writer.status().message();
  output::Record big = event(1);
  big.payload.assign(2 << 20, 'b');
  ASSERT_TRUE(writer.value()->write(event(0)));
  ASSERT_TRUE(writer.value()->write(big));
  ASSERT_TRUE(writer.value()->write(event(2)));
  ASSERT_TRUE(writer.value()->wait_until_delivered(seconds(30))) << describe(writer.value()->stats());
  const auto counters = writer.value()->counters();
  EXPECT_EQ(counters.written, 2u);
  EXPECT_EQ(counters.errors, 1u);
  Client consumer(server.urls());
  Client::Contents contents;
  ASSERT_TRUE(consumer.read_stream("WARD_BIG", "ward.events.>", 2, contents, seconds(20)));
  EXPECT_EQ(contents.ids, (std::unordered_set<std::string>{"e2e-0", "e2e-2"}));
}

// wardd itself shipping its events: a config with a nats output, processes
// spawned while the server is up, while it is down (they wait in wardd's
// spool) and after it is back. Every exec of every spawned process is in the
// stream exactly once.
TEST_F(NatsJetStreamTest, WarddShipsEveryEventAcrossAServerOutage) {
  using nlohmann::json;
  if (geteuid() != 0) GTEST_SKIP() << "wardd needs root";
  TempDir dir;
  NatsServers server(dir.path(), 1);
  Watchdog watchdog(seconds(240), server, dir.path());
  server.start_all();
  ASSERT_TRUE(server.wait_listening(seconds(20)));
  ASSERT_TRUE(wait_jetstream(server.urls(), seconds(60))) << server.log_tail(0);

  const std::string config = dir.path() + "/wardd.yaml";
  std::ofstream(config) << "events: [process]\n"
                           "outputs:\n"
                           "  - {type: nats, servers: [\"" << server.urls()[0] << "\"], subject: \"e2e.{event_name}\", "
                           "stream: WARD_E2E_AGENT, spool_dir: " << dir.path() << "/spool}\n"
                           "metrics: {enabled: false}\ncontrol: {enabled: false}\n";
  Background wardd({"/usr/bin/timeout", "-s", "KILL", "200", bin_path("wardd"), "--config", config, "--format",
                    "none", "--no-self-protection"});
  ASSERT_TRUE(wardd.wait_stderr("wardd: running", seconds(60))) << wardd.stderr_text();

  std::set<pid_t> spawned;
  auto spawn = [&](int n) {
    for (int i = 0; i < n; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        execl("/usr/bin/true", "true", static_cast<char*>(nullptr));
        _exit(127);
      }
      waitpid(pid, nullptr, 0);
      spawned.insert(pid);
    }
  };
  spawn(300);
  std::this_thread::sleep_for(seconds(1));
  server.stop_all();  // SIGKILL: wardd's records wait in its spool
  spawn(300);
  std::this_thread::sleep_for(seconds(3));
  server.start_all();
  ASSERT_TRUE(server.wait_listening(seconds(20)));
  spawn(300);

  // Read until every spawned process's exec is there (or time runs out).
  Client::Contents contents;
  std::set<pid_t> seen;
  std::string last_error;
  const auto deadline = Clock::now() + seconds(90);
  while (seen.size() < spawned.size() && Clock::now() < deadline) {
    std::this_thread::sleep_for(seconds(2));
    Client client(server.urls());
    const int64_t n = client.ok() ? client.stream_messages("WARD_E2E_AGENT") : -1;
    if (n <= 0) continue;
    contents = {};
    if (!client.read_stream("WARD_E2E_AGENT", "e2e.>", static_cast<uint64_t>(n), contents, seconds(30), true))
      continue;
    seen.clear();
    for (const auto& payload : contents.payloads) {
      const json e = json::parse(payload, nullptr, false);
      if (e.is_discarded()) {
        last_error = "a message is not JSON: " + payload.substr(0, 200);
        continue;
      }
      if (e.value("event_type", -1) != 9) continue;
      const pid_t pid = e["process"]["audit_token"]["pid"].get<pid_t>();
      if (spawned.count(pid) && e["event"]["exec"]["target"]["executable"]["path"] == "/usr/bin/true")
        seen.insert(pid);
    }
  }
  EXPECT_TRUE(last_error.empty()) << last_error;
  EXPECT_EQ(seen.size(), spawned.size()) << "execs missing from the stream; wardd: " << wardd.stderr_text();
  EXPECT_EQ(contents.duplicates, 0u);
  EXPECT_EQ(contents.without_id, 0u);
  EXPECT_GE(contents.messages, 3 * spawned.size()) << "an exec, a fork and an exit per process";
  ::kill(wardd.pid(), SIGTERM);
  const int st = wardd.wait_exit();
  EXPECT_TRUE(WIFEXITED(st) || WIFSIGNALED(st));
}

}  // namespace
}  // namespace ward::e2e
