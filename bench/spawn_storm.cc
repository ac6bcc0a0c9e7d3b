// spawn_storm: a process-spawn workload generator for Ward's benchmarks.
//
//   spawn_storm [--count N] [--parallel P] [--exe PATH] [--duration SECONDS]
//               [--method spawn|fork]
//
// Spawns PATH (default /bin/true) N times in total (default 1000), or as many
// times as fit in SECONDS when --duration is given, with P worker processes
// (default 1), each spawning serially: posix_spawn (default) or
// fork+execve, then waitpid. Prints one JSON line on stdout:
//   {"spawns":N,"seconds":S,"per_second":R,"parallel":P,"failures":F}
// A failure is a spawn that could not be started, or a child that did not exit
// with status 0. Exits 1 if any spawn failed, 2 on a usage error.
//
// Workers are processes, not threads, so that concurrent spawns do not
// contend on one address space's mmap lock (posix_spawn maps a stack per call).
// All workers wait on a start pipe so that the clock covers only spawning.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

struct Options {
  std::uint64_t count = 1000;
  unsigned parallel = 1;
  const char* exe = "/bin/true";
  double duration = 0.0;  // > 0: run for this long instead of a fixed count
  bool use_fork = false;
};

struct WorkerResult {
  std::uint64_t spawns;
  std::uint64_t failures;
  int done;
};

double now_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] void usage(const char* msg) {
  if (msg != nullptr) std::fprintf(stderr, "spawn_storm: %s\n", msg);
  std::fprintf(stderr,
               "usage: spawn_storm [--count N] [--parallel P] [--exe PATH] "
               "[--duration SECONDS] [--method spawn|fork]\n");
  std::exit(2);
}

template <typename T>
T parse_number(std::string_view s, const char* what) {
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size()) {
    std::fprintf(stderr, "spawn_storm: bad value for %s: '%.*s'\n", what,
                 static_cast<int>(s.size()), s.data());
    std::exit(2);
  }
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") usage(nullptr);
    if (i + 1 >= argc) usage("missing value after option");
    std::string_view v = argv[++i];
    if (a == "--count") {
      o.count = parse_number<std::uint64_t>(v, "--count");
    } else if (a == "--parallel") {
      o.parallel = parse_number<unsigned>(v, "--parallel");
    } else if (a == "--exe") {
      o.exe = argv[i];
    } else if (a == "--duration") {
      o.duration = parse_number<double>(v, "--duration");
      if (!(o.duration > 0.0)) usage("--duration must be > 0");
    } else if (a == "--method") {
      if (v == "fork") {
        o.use_fork = true;
      } else if (v != "spawn") {
        usage("--method must be spawn or fork");
      }
    } else {
      usage("unknown option");
    }
  }
  if (o.parallel == 0 || o.parallel > 1024) usage("--parallel must be 1..1024");
  if (o.duration <= 0.0 && o.count == 0) usage("--count must be > 0");
  return o;
}

// One spawn of the target; true when it ran and exited 0.
bool spawn_once(const Options& o, char* const* child_argv) {
  pid_t pid = -1;
  if (o.use_fork) {
    pid = fork();
    if (pid == 0) {
      execve(o.exe, child_argv, environ);
      _exit(127);
    }
    if (pid < 0) return false;
  } else if (posix_spawn(&pid, o.exe, nullptr, nullptr, child_argv, environ) != 0) {
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void worker(const Options& o, std::uint64_t quota, int start_fd, WorkerResult* out) {
  char buf = 0;
  while (read(start_fd, &buf, 1) < 0 && errno == EINTR) {
  }
  close(start_fd);
  char* child_argv[] = {const_cast<char*>(o.exe), nullptr};
  std::uint64_t spawns = 0;
  std::uint64_t failures = 0;
  if (o.duration > 0.0) {
    const double deadline = now_seconds() + o.duration;
    do {
      if (!spawn_once(o, child_argv)) ++failures;
      ++spawns;
    } while (now_seconds() < deadline);
  } else {
    for (; spawns < quota; ++spawns) {
      if (!spawn_once(o, child_argv)) ++failures;
    }
  }
  out->spawns = spawns;
  out->failures = failures;
  out->done = 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);

  // Results live in a shared anonymous mapping, one slot per worker.
  const std::size_t bytes = sizeof(WorkerResult) * o.parallel;
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::perror("spawn_storm: mmap");
    return 2;
  }
  auto* results = static_cast<WorkerResult*>(mem);
  std::memset(mem, 0, bytes);

  int start_pipe[2];
  if (pipe2(start_pipe, O_CLOEXEC) != 0) {
    std::perror("spawn_storm: pipe2");
    return 2;
  }

  std::vector<pid_t> workers;
  workers.reserve(o.parallel);
  for (unsigned w = 0; w < o.parallel; ++w) {
    const std::uint64_t quota = o.count / o.parallel + (w < o.count % o.parallel ? 1 : 0);
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("spawn_storm: fork");
      for (pid_t p : workers) kill(p, SIGKILL);
      return 2;
    }
    if (pid == 0) {
      close(start_pipe[1]);
      worker(o, quota, start_pipe[0], &results[w]);
      _exit(0);
    }
    workers.push_back(pid);
  }
  close(start_pipe[0]);

  // Release every worker at once: closing the write end makes their read() return 0.
  const double t0 = now_seconds();
  close(start_pipe[1]);
  std::uint64_t spawns = 0;
  std::uint64_t failures = 0;
  for (unsigned w = 0; w < o.parallel; ++w) {
    int status = 0;
    while (waitpid(workers[w], &status, 0) < 0 && errno == EINTR) {
    }
    if (results[w].done == 0) ++failures;  // worker died before reporting
    spawns += results[w].spawns;
    failures += results[w].failures;
  }
  const double seconds = now_seconds() - t0;

  std::printf("{\"spawns\":%llu,\"seconds\":%.6f,\"per_second\":%.1f,\"parallel\":%u,\"failures\":%llu}\n",
              static_cast<unsigned long long>(spawns), seconds,
              seconds > 0.0 ? static_cast<double>(spawns) / seconds : 0.0, o.parallel,
              static_cast<unsigned long long>(failures));
  return failures == 0 ? 0 : 1;
}
