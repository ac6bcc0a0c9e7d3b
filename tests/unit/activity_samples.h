// Sample payloads of the file, process, system and network events
// (ward/activity_events.h) for the golden-file tests; sample_messages.h hands
// these types to fill_activity_sample.
#pragma once

#include <memory>
#include <string>

#include "ward/message.h"

namespace ward::samples {

inline File sample_file(std::string path, uint32_t mode = 0100644) {
  File f;
  f.path = std::move(path);
  f.stat = FileStat{0x10301, 4711, mode, 1000, 1000, 512, {1700000000, 7}, {1700000002, 8}};
  return f;
}

inline std::shared_ptr<Process> sample_target_process() {
  auto p = std::make_shared<Process>();
  p->audit_token = {5151, 9, 1000, 1000, 1000, 1000, 1000, 3};
  p->ppid = 4242;
  p->original_ppid = 4242;
  p->group_id = 4242;
  p->session_id = 100;
  p->parent_audit_token = AuditToken{4242, 5, 1000, 1000, 1000, 1000, 1000, 3};
  p->executable.path = "/usr/bin/sleep";
  p->start_time = WallTime{1'764'626'744'500'000'000ull};
  p->comm = "sleep";
  return p;
}

// Sets m.event for one of the activity event types; false for any other type.
inline bool fill_activity_sample(Message& m) {
  auto set = [&](auto payload) {
    m.event = std::make_shared<const Event>(std::move(payload));
    return true;
  };
  switch (m.event_type) {
    case EventType::NotifyOpen:
      return set(OpenEvent{sample_file("/home/user/notes.txt"), kFflagRead | kFflagWrite | kFflagAppend});
    case EventType::NotifyClose:
      return set(CloseEvent{true, sample_file("/home/user/notes.txt")});
    case EventType::NotifyWrite:
      return set(WriteEvent{sample_file("/home/user/notes.txt")});
    case EventType::NotifyCreate:
      return set(CreateEvent{kDestinationNewPath, sample_file("/home/user/new.txt"), 0100644, std::nullopt});
    case EventType::NotifyUnlink:
      return set(UnlinkEvent{File{"/home/user/old.txt", false, std::nullopt},
                             sample_file("/home/user", 040755), false});
    case EventType::NotifyRename:
      return set(RenameEvent{File{"/home/user/a/draft.txt", false, std::nullopt}, kDestinationUnknown,
                             sample_file("/home/user/b/final.txt"), 0});
    case EventType::NotifyLink:
      return set(LinkEvent{sample_file("/home/user/notes.txt"), sample_file("/home/user/links", 040755),
                           "notes-link.txt"});
    case EventType::NotifyTruncate:
      return set(TruncateEvent{sample_file("/var/log/app.log"), 0});
    case EventType::NotifySetMode:
      return set(SetModeEvent{04755, sample_file("/home/user/tool", 0104755)});
    case EventType::NotifySetOwner:
      return set(SetOwnerEvent{0, 0xffffffff, sample_file("/home/user/tool")});
    case EventType::NotifyUtimes:
      return set(UtimesEvent{sample_file("/home/user/notes.txt"), std::nullopt, Timespec{1600000000, 0}});
    case EventType::NotifySetExtattr:
      return set(SetExtattrEvent{sample_file("/home/user/notes.txt"), "user.origin"});
    case EventType::NotifyDeleteExtattr:
      return set(DeleteExtattrEvent{sample_file("/home/user/notes.txt"), "security.capability"});
    case EventType::NotifyMmap:
      return set(MmapEvent{5, 5, 0x802, 0x1000, sample_file("/usr/lib/x86_64-linux-gnu/libc.so.6")});
    case EventType::NotifyMprotect:
      return set(MprotectEvent{7, 0x7f0000001000ull, 8192});
    case EventType::NotifySignal:
      return set(SignalEvent{15, sample_target_process(), 0});
    case EventType::NotifyTrace:
      return set(TraceEvent{sample_target_process(), 16, 0});
    case EventType::NotifySetuid:
      return set(SetuidEvent{0, 0});
    case EventType::NotifySetgid:
      return set(SetgidEvent{0, -1});
    case EventType::NotifySeteuid:
      return set(SeteuidEvent{1000, 0});
    case EventType::NotifySetegid:
      return set(SetegidEvent{1000, 0});
    case EventType::NotifySetreuid:
      return set(SetreuidEvent{1000, 0, 0xffffffff, 0});
    case EventType::NotifySetregid:
      return set(SetregidEvent{1000, 0, 0xffffffff, 0});
    case EventType::NotifyChdir:
      return set(ChdirEvent{sample_file("/home/user/src", 040755)});
    case EventType::NotifyChroot:
      return set(ChrootEvent{sample_file("/srv/jail", 040755)});
    case EventType::NotifyProcCheck:
      return set(ProcCheckEvent{sample_target_process(), kProcCheckVmRead, 0, 4096});
    case EventType::NotifyKextload:
      return set(KextloadEvent{"dummy", sample_file("/lib/modules/6.18.0/extra/dummy.ko"), -8});
    case EventType::NotifyMount:
      return set(MountEvent{"tmpfs", sample_file("/mnt/scratch", 041777), "tmpfs", 0x6, 0});
    case EventType::NotifyUnmount:
      return set(UnmountEvent{sample_file("/mnt/scratch", 041777), 2, 0});
    case EventType::NotifySettime:
      return set(SettimeEvent{0, Timespec{1764626745, 0}, false, 0});
    case EventType::NotifyBpf:
      return set(BpfEvent{5, 26, "ward_exec", 7});
    case EventType::NotifyMemfdCreate:
      return set(MemfdCreateEvent{"jit-cache", 3, 5});
    case EventType::NotifyUipcConnect:
      return set(UipcConnectEvent{sample_file("/run/app.sock", 0140777), 1, 1, 0, 0});
    case EventType::NotifyUipcBind:
      return set(UipcBindEvent{sample_file("/run", 040755), "app.sock", 0777, 0});
    case EventType::NotifyConnect:
      return set(ConnectEvent{{2, "93.184.216.34", 443}, {2, "10.0.0.5", 51234}, 6, 1, -1});
    case EventType::NotifyBind:
      return set(BindEvent{{10, "::", 8080}, 6, 1, 0});
    case EventType::NotifyAccept:
      return set(AcceptEvent{{2, "192.0.2.10", 40022}, {2, "0.0.0.0", 22}, 6, 1, 4});
    default:
      return false;
  }
}

}  // namespace ward::samples
