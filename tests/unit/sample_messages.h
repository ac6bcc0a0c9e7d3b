// Sample messages for the golden-file tests: one per event type, the same
// for every serializer (eslogger, ECS, OCSF). The file, process, system and
// network events take their payloads from activity_samples.h. A new event type
// needs a case here; the switch has no default, so the compiler asks for it.
#pragma once

#include <memory>
#include <string>

#include "activity_samples.h"
#include "ward/message.h"

namespace ward::samples {

inline std::shared_ptr<Process> sample_process(pid_t pid, uint32_t version, std::string path) {
  auto p = std::make_shared<Process>();
  p->audit_token = {pid, version, 1000, 1000, 1000, 1000, 1000, 3};
  p->ppid = 100;
  p->original_ppid = 100;
  p->group_id = pid;
  p->session_id = 100;
  p->parent_audit_token = AuditToken{100, 2, 1000, 1000, 1000, 1000, 1000, 3};
  p->executable.path = std::move(path);
  p->executable.stat = FileStat{0x10301, 1234, 0100755, 0, 0, 35208, {1700000000, 5}, {1700000001, 6}};
  p->tty = "/dev/pts/0";
  p->start_time = WallTime{1'764'626'744'000'000'000ull};
  p->comm = "bash";
  return p;
}

inline Message sample_message(EventType type) {
  Message m;
  m.time_ns = 1'764'626'745'123'456'789ull;
  m.mono_time_ns = 98'765'432'100ull;
  m.seq_num = 7;
  m.global_seq_num = 21;
  m.event_type = type;
  m.thread_id = 4242;
  m.process = sample_process(4242, 5, "/usr/bin/bash");
  switch (type) {
    case EventType::AuthExec:
    case EventType::NotifyExec: {
      auto target = sample_process(4242, 6, "/usr/bin/echo");
      target->comm = "echo";
      target->package = "coreutils";
      target->is_platform_binary = true;
      target->sha256 = std::string(64, 'c');
      target->ancestors = {Ancestor{*target->parent_audit_token, "/usr/bin/bash"},
                           Ancestor{{1, 1, 0, 0, 0, 0, 0xffffffff, 0xffffffff}, "/usr/lib/systemd/systemd"}};
      ExecEvent e;
      e.target = target;
      e.args = {"/bin/echo", "a b", "c\"\n\t"};
      e.cwd.path = "/home/user";
      m.event = std::make_shared<const Event>(std::move(e));
      break;
    }
    case EventType::NotifyFork:
      m.event = std::make_shared<const Event>(ForkEvent{sample_process(4243, 8, "/usr/bin/bash")});
      break;
    case EventType::NotifyExit:
      m.event = std::make_shared<const Event>(ExitEvent{0x0100});
      break;
    case EventType::AuthOpen: {
      OpenEvent o;
      o.file.path = "/srv/secret/plan.txt";
      o.file.stat = FileStat{0x10301, 99, 0100640, 0, 0, 12, {1700000000, 0}, {1700000000, 0}};
      o.fflag = kFflagRead;
      m.event = std::make_shared<const Event>(std::move(o));
      break;
    }
    case EventType::NotifyAuthResult:
      m.event = std::make_shared<const Event>(
          AuthResultEvent{0, "/tmp/blocked", "deny", "client", false, false, "block-by-sha256", 125000});
      break;
    // File, process, system and network events: activity_samples.h.
    case EventType::NotifyOpen:
    case EventType::NotifyClose:
    case EventType::NotifyCreate:
    case EventType::NotifyLink:
    case EventType::NotifyMmap:
    case EventType::NotifyMprotect:
    case EventType::NotifyRename:
    case EventType::NotifySetExtattr:
    case EventType::NotifySetMode:
    case EventType::NotifySetOwner:
    case EventType::NotifyUnlink:
    case EventType::NotifyWrite:
    case EventType::NotifyTruncate:
    case EventType::NotifyUtimes:
    case EventType::NotifyDeleteExtattr:
    case EventType::NotifySignal:
    case EventType::NotifyChdir:
    case EventType::NotifyChroot:
    case EventType::NotifyProcCheck:
    case EventType::NotifyTrace:
    case EventType::NotifySetuid:
    case EventType::NotifySetgid:
    case EventType::NotifySeteuid:
    case EventType::NotifySetegid:
    case EventType::NotifySetreuid:
    case EventType::NotifySetregid:
    case EventType::NotifyKextload:
    case EventType::NotifyMount:
    case EventType::NotifyUnmount:
    case EventType::NotifySettime:
    case EventType::NotifyBpf:
    case EventType::NotifyMemfdCreate:
    case EventType::NotifyUipcBind:
    case EventType::NotifyUipcConnect:
    case EventType::NotifyConnect:
    case EventType::NotifyBind:
    case EventType::NotifyAccept:
      fill_activity_sample(m);
      break;
  }
  if (event_info(type)->action == ActionType::Auth) {
    m.action_type = ActionType::Auth;
    m.deadline_ns = m.mono_time_ns + 5'000'000'000ull;
    m.auth_id = 77;
  }
  return m;
}

}  // namespace ward::samples
