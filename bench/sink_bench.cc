// sink_bench: how many events per second each sink sustains, without loss.
//
//   sink_bench [--events N] [--flush-every N] [--sinks sqlite,sqlite-normal,nats,file,stdout]
//
// Every sink gets the same records (eslogger-sized JSON payloads: exec 1.9 KB,
// fork 1.3 KB, exit 0.9 KB, in a 1:1:1 mix) and is flushed every
// --flush-every records, as the agent would. A sink's rate counts only records
// it has made durable/acknowledged; then the bench checks that none is missing
// (rows in the database, acks from JetStream). "nats" starts a local
// single-node nats-server (JetStream, loopback, temp dir) when one is installed.
// "stdout" writes to /dev/null (the writer's own cost); "file" is the rotating
// file writer with fdatasync on flush.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "output/file_writer.h"
#include "output/nats_writer.h"
#include "output/stdout_writer.h"
#include "store/event_store.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// CPU time of this process: on a shared machine the wall-clock rate depends on
// the neighbours, events per CPU-second much less.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Row {
  std::string sink;
  uint64_t events = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // this process (all threads); nats-server's own CPU is not in it
  uint64_t bytes = 0;
  std::string check;
};

Row failed_row(const std::string& sink, const std::string& why) {
  Row row;
  row.sink = sink;
  row.check = why;
  return row;
}

std::vector<ward::output::Record> make_records(uint64_t count) {
  std::vector<ward::output::Record> records;
  records.reserve(count);
  const uint64_t base = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count());
  for (uint64_t i = 0; i < count; ++i) {
    ward::output::Record r;
    const int kind = static_cast<int>(i % 3);
    r.event_type = kind == 0 ? 9 : kind == 1 ? 11 : 15;
    r.event_name = kind == 0 ? "exec" : kind == 1 ? "fork" : "exit";
    r.id = "bench-" + std::to_string(base) + "-" + std::to_string(i);
    r.time_ns = base + i * 1000;
    r.pid = static_cast<int32_t>(1000 + i % 30000);
    r.path = kind == 0 ? "/usr/bin/prog" + std::to_string(i % 500) : "";
    const size_t size = kind == 0 ? 1900 : kind == 1 ? 1300 : 900;
    r.payload = "{\"schema_version\":1,\"event_type\":" + std::to_string(r.event_type) +
                ",\"seq\":" + std::to_string(i) + ",\"pad\":\"";
    r.payload.append(size - r.payload.size() - 2, 'x');
    r.payload += "\"}";
    records.push_back(std::move(r));
  }
  return records;
}

uint64_t total_bytes(const std::vector<ward::output::Record>& records) {
  uint64_t n = 0;
  for (const auto& r : records) n += r.payload.size();
  return n;
}

Row bench_sqlite(const std::vector<ward::output::Record>& records, uint64_t flush_every,
                 ward::store::Synchronous sync, const std::string& dir) {
  Row row;
  row.sink =
      sync == ward::store::Synchronous::kFull ? "sqlite (synchronous=FULL)" : "sqlite (synchronous=NORMAL)";
  const std::string path = dir + (sync == ward::store::Synchronous::kFull ? "/full.db" : "/normal.db");
  ward::store::StoreOptions o;
  o.path = path;
  o.synchronous = sync;
  auto store = ward::store::EventStore::open(o);
  if (!store) {
    row.check = "open failed: " + store.status().message();
    return row;
  }
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  uint64_t failures = 0;
  for (uint64_t i = 0; i < records.size(); ++i) {
    if (!store.value()->write(records[i])) ++failures;
    if ((i + 1) % flush_every == 0 && !store.value()->flush()) ++failures;
  }
  if (!store.value()->flush()) ++failures;
  row.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  row.cpu_seconds = process_cpu_seconds() - cpu_start;
  row.events = store.value()->counters().written;
  row.bytes = total_bytes(records);
  auto stored = store.value()->count({});
  const uint64_t rows = stored ? stored.value() : 0;
  row.check = rows == records.size() && failures == 0
                  ? "all " + std::to_string(rows) + " rows stored"
                  : "LOSS: " + std::to_string(rows) + " rows, " + std::to_string(failures) + " failures";
  return row;
}

// Writes, flushing every flush_every, and times until the last flush returned.
Row bench_plain(const std::string& label, ward::output::Writer& writer,
                const std::vector<ward::output::Record>& records, uint64_t flush_every) {
  Row row;
  row.sink = label;
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  uint64_t failures = 0;
  for (uint64_t i = 0; i < records.size(); ++i) {
    if (!writer.write(records[i])) ++failures;
    if ((i + 1) % flush_every == 0 && !writer.flush()) ++failures;
  }
  if (!writer.flush()) ++failures;
  row.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  row.cpu_seconds = process_cpu_seconds() - cpu_start;
  const auto counters = writer.counters();
  row.events = counters.written;
  row.bytes = total_bytes(records);
  row.check = counters.written == records.size() && counters.dropped == 0 && failures == 0
                  ? "all " + std::to_string(counters.written) + " written"
                  : "LOSS: " + std::to_string(counters.written) + " written, " + std::to_string(failures) +
                        " failures";
  return row;
}

// A single-node JetStream server on a free loopback port; killed on destruction.
class LocalNatsServer {
 public:
  explicit LocalNatsServer(const std::string& dir) {
    const std::string binary = find_binary();
    if (binary.empty()) return;
    port_ = free_port();
    const std::string conf = dir + "/nats.conf";
    std::FILE* f = std::fopen(conf.c_str(), "w");
    if (f == nullptr) return;
    std::fprintf(f, "listen: 127.0.0.1:%d\njetstream { store_dir: \"%s/js\" }\n", port_, dir.c_str());
    std::fclose(f);
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the bench
      const int null_fd = ::open("/dev/null", O_WRONLY);
      dup2(null_fd, 1);
      dup2(null_fd, 2);
      execl(binary.c_str(), binary.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !accepting(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~LocalNatsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool running() const { return pid_ > 0 && port_ > 0; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  static std::string find_binary() {
    for (const char* candidate :
         {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
      if (::access(candidate, X_OK) == 0) return candidate;
    }
    return {};
  }
  static int free_port() {
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
  bool accepting() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }
  pid_t pid_ = -1;
  int port_ = 0;
};

Row bench_nats(const std::vector<ward::output::Record>& records, uint64_t flush_every,
               const std::string& dir) {
  Row row;
  row.sink = "nats jetstream (1 node, R1, file)";
  LocalNatsServer server(dir);
  if (!server.running()) {
    row.check = "skipped: no nats-server installed";
    return row;
  }
  ward::output::NatsWriterOptions o;
  o.servers = {server.url()};
  o.stream = "WARD_BENCH";
  o.spool.directory = dir + "/spool";
  o.spool.fsync_on_flush = false;  // the spool is the fallback path; the rate is the server's
  auto writer = ward::output::NatsWriter::create(o);
  if (!writer) {
    row.check = "create failed: " + writer.status().message();
    return row;
  }
  // Connected and the stream exists: time publishing only.
  for (int i = 0; i < 200 && !writer.value()->stats().stream_ready; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  uint64_t failures = 0;
  for (uint64_t i = 0; i < records.size(); ++i) {
    if (!writer.value()->write(records[i])) ++failures;
    if ((i + 1) % flush_every == 0 && !writer.value()->flush()) ++failures;
  }
  const ward::Status delivered = writer.value()->wait_until_delivered(std::chrono::minutes(5));
  row.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  row.cpu_seconds = process_cpu_seconds() - cpu_start;
  const auto counters = writer.value()->counters();
  row.events = counters.written;
  row.bytes = total_bytes(records);
  row.check = delivered && counters.written == records.size() && counters.dropped == 0 && failures == 0
                  ? "all " + std::to_string(counters.written) + " acknowledged"
                  : "LOSS: " + std::to_string(counters.written) + " acked, " +
                        std::to_string(counters.dropped) + " dropped; " + delivered.message();
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 200000;
  uint64_t flush_every = 1000;
  std::string sinks = "sqlite,sqlite-normal,nats,file,stdout";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sink_bench: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--events") {
      events = std::stoull(next());
    } else if (arg == "--flush-every") {
      flush_every = std::max<uint64_t>(1, std::stoull(next()));
    } else if (arg == "--sinks") {
      sinks = next();
    } else {
      std::fprintf(stderr,
                   "usage: sink_bench [--events N] [--flush-every N] [--sinks "
                   "sqlite,sqlite-normal,nats,file,stdout]\n");
      return 2;
    }
  }

  char pattern[] = "/tmp/ward-sink-bench-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = pattern;
  const auto records = make_records(events);

  std::vector<Row> rows;
  std::stringstream list(sinks);
  for (std::string sink; std::getline(list, sink, ',');) {
    const std::string sub = dir + "/" + sink;
    fs::create_directories(sub);
    if (sink == "sqlite") {
      rows.push_back(bench_sqlite(records, flush_every, ward::store::Synchronous::kFull, sub));
    } else if (sink == "sqlite-normal") {
      rows.push_back(bench_sqlite(records, flush_every, ward::store::Synchronous::kNormal, sub));
    } else if (sink == "nats") {
      rows.push_back(bench_nats(records, flush_every, sub));
    } else if (sink == "file") {
      ward::output::FileWriterOptions o;
      o.path = sub + "/events.log";
      o.max_file_bytes = 1ull << 30;  // no rotation during the run
      auto writer = ward::output::RotatingFileWriter::open(o);
      if (!writer) {
        rows.push_back(failed_row(sink, "open failed: " + writer.status().message()));
        continue;
      }
      rows.push_back(bench_plain("file (fdatasync on flush)", *writer.value(), records, flush_every));
    } else if (sink == "stdout") {
      ward::output::StdoutWriterOptions o;
      o.fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      {
        ward::output::StdoutWriter writer(o);
        rows.push_back(bench_plain("stdout (to /dev/null)", writer, records, flush_every));
      }
      ::close(o.fd);
    } else {
      rows.push_back(failed_row(sink, "unknown sink"));
    }
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);

  std::printf("%-34s %10s %9s %12s %8s %8s %14s  %s\n", "sink", "events", "seconds", "events/s", "MB/s",
              "cpu-s", "events/cpu-s", "check");
  for (const auto& r : rows) {
    const double rate = r.seconds > 0 ? static_cast<double>(r.events) / r.seconds : 0;
    const double mbps = r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / 1e6 : 0;
    const double per_cpu = r.cpu_seconds > 0 ? static_cast<double>(r.events) / r.cpu_seconds : 0;
    std::printf("%-34s %10llu %9.2f %12.0f %8.1f %8.2f %14.0f  %s\n", r.sink.c_str(),
                static_cast<unsigned long long>(r.events), r.seconds, rate, mbps, r.cpu_seconds, per_cpu,
                r.check.c_str());
  }
  bool lost = false;
  for (const auto& r : rows) lost = lost || r.check.starts_with("LOSS");
  return lost ? 1 : 0;
}
