// HostInfo for the ECS/OCSF serializers: read once, at start, never on the
// hot path.
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "output/serializer.h"

namespace ward::output {
namespace {

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// os-release values may be quoted: NAME="Debian GNU/Linux".
std::string unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return v;
}

void read_os_release(HostInfo& host) {
  std::ifstream in("/etc/os-release");
  if (!in) in.open("/usr/lib/os-release");
  std::string line, id, id_like;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    std::string value = unquote(line.substr(eq + 1));
    if (key == "NAME")
      host.os_name = value;
    else if (key == "VERSION_ID")
      host.os_version = value;
    else if (key == "ID")
      id = value;
    else if (key == "ID_LIKE")
      id_like = value.substr(0, value.find(' '));
  }
  host.os_family = id_like.empty() ? id : id_like;
}

std::string random_run_id() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

HostInfo local_host_info() {
  HostInfo host;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) == 0) host.hostname = name;
  host.id = first_line("/etc/machine-id");
  utsname u{};
  if (uname(&u) == 0) {
    host.architecture = u.machine;
    host.kernel = u.release;
  }
  read_os_release(host);
  host.run_id = random_run_id();
  return host;
}

uint64_t wall_clock_now_ns() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
}

}  // namespace ward::output
