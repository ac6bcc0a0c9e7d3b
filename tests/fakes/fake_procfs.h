// Fakes of the OS interfaces the process tree reads.
#pragma once

#include <map>
#include <string>

#include "process/exe_identity.h"
#include "process/proc_fs.h"

namespace ward::testing {

class FakeProcFs : public process::ProcFs {
 public:
  void add(pid_t pid, pid_t ppid, std::string exe, uint64_t start_ticks_ns) {
    process::ProcSnapshot s;
    s.proc.tgid = pid;
    s.proc.ppid = ppid;
    s.proc.pgid = pid;
    s.proc.sid = pid;
    s.proc.start_boot_ns = start_ticks_ns;
    s.proc.start_from_ticks = true;
    s.exe_path = std::move(exe);
    procs[pid] = s;
  }
  std::vector<pid_t> list_pids() override {
    std::vector<pid_t> v;
    for (const auto& [pid, _] : procs) v.push_back(pid);
    return v;
  }
  std::optional<process::ProcSnapshot> read(pid_t pid) override {
    auto it = procs.find(pid);
    if (it == procs.end()) return std::nullopt;
    return it->second;
  }
  uint64_t boot_time_ns_now() override { return 1'000'000'000'000; }

  std::map<pid_t, process::ProcSnapshot> procs;
};

// Answers from a table; counts calls.
class FakeExeIdentifier : public process::ExeIdentifier {
 public:
  process::ExeIdentity identify(const std::string& path, const std::optional<FileStat>&) override {
    ++calls;
    auto it = table.find(path);
    return it == table.end() ? process::ExeIdentity{} : it->second;
  }
  std::map<std::string, process::ExeIdentity> table;
  int calls = 0;
};

}  // namespace ward::testing
