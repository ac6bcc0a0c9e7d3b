// file_storm: file-operation throughput, the workload a file sensor hooks.
//
//   file_storm [--count N] [--dir DIR] [--bytes B]
//
// For each of N files (default 100000) in DIR (default a fresh directory
// under /tmp, removed afterwards): create it (open O_CREAT), write B bytes
// (default 64), close it, rename it, unlink it. Five syscalls that name a
// file, six Ward events (open, create, write, close, rename, unlink). Prints
// one JSON line: {"files":N,"seconds":S,"per_second":R,"failures":F}.
// Exit status 1 if any operation failed, 2 on a usage error.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

double now_seconds() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

int usage() {
  std::fprintf(stderr, "usage: file_storm [--count N] [--dir DIR] [--bytes B]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  long count = 100000;
  long bytes = 64;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    if (a == "--count")
      count = std::strtol(argv[++i], nullptr, 10);
    else if (a == "--dir")
      dir = argv[++i];
    else if (a == "--bytes")
      bytes = std::strtol(argv[++i], nullptr, 10);
    else
      return usage();
  }
  if (count <= 0 || bytes < 0 || bytes > (1 << 20)) return usage();
  bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/file_storm.XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  std::vector<char> data(static_cast<size_t>(bytes), 'x');
  // Names prepared up front: the clock measures the file system, not snprintf.
  std::vector<std::string> a(static_cast<size_t>(count)), b(static_cast<size_t>(count));
  for (long i = 0; i < count; ++i) {
    a[static_cast<size_t>(i)] = dir + "/f" + std::to_string(i);
    b[static_cast<size_t>(i)] = dir + "/g" + std::to_string(i);
  }

  long failures = 0;
  double start = now_seconds();
  for (size_t i = 0; i < a.size(); ++i) {
    int fd = open(a[i].c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      ++failures;
      continue;
    }
    if (write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) ++failures;
    close(fd);
    if (rename(a[i].c_str(), b[i].c_str()) != 0) ++failures;
    if (unlink(b[i].c_str()) != 0) ++failures;
  }
  double seconds = now_seconds() - start;
  if (own_dir) rmdir(dir.c_str());
  std::printf("{\"files\":%ld,\"seconds\":%.6f,\"per_second\":%.1f,\"failures\":%ld}\n", count, seconds,
              static_cast<double>(count) / seconds, failures);
  return failures ? 1 : 0;
}
