// The fallback process sensor: the kernel's netlink process connector
// (NETLINK_CONNECTOR, CN_IDX_PROC). It needs no BPF, but tells only pids and a
// timestamp, so everything else is read from /proc after the fact; a process
// that is gone by then yields an event with only what the kernel said.
//
// Layers, so all but the socket can be tested without root:
//   decode_proc_connector_buffer  bytes of one datagram -> DecodedProcEvents
//   ProcEventTranslator           DecodedProcEvent + /proc -> RawEvents
//   make_proc_connector_sensor    the socket, driving both
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "process/proc_fs.h"
#include "sensors/sensor.h"

namespace ward::sensors {

// One proc_event as the kernel sent it. Only the fields of `what`'s kind are
// meaningful; the rest stay 0.
struct DecodedProcEvent {
  uint32_t what = 0;          // PROC_EVENT_* (0 = PROC_EVENT_NONE, an ack)
  uint32_t cpu = 0;           // CPU that sent it; 0xffffffff on acks of old kernels
  uint32_t seq = 0;           // cn_msg.seq: per-CPU counter
  uint32_t ack = 0;           // cn_msg.ack: on acks, the request's ack + 1
  uint64_t timestamp_ns = 0;  // ktime_get_ns(): CLOCK_MONOTONIC
  // fork: parent_* and child_*; exec, exit and the rest: process_*.
  pid_t parent_pid = 0, parent_tgid = 0;
  pid_t child_pid = 0, child_tgid = 0;
  pid_t process_pid = 0, process_tgid = 0;
  uint32_t exit_code = 0;  // wait(2)-style (task->exit_code)
  uint32_t exit_signal = 0;
  uint32_t ack_error = 0;  // PROC_EVENT_NONE: errno of the listen/ignore request
};

struct DecodedBuffer {
  std::vector<DecodedProcEvent> events;
  // Netlink or connector messages that were truncated, inconsistent or too
  // short for their event kind. Messages of other connectors or netlink
  // control types (NOOP, ERROR) are skipped without counting.
  uint64_t malformed = 0;
};

// Decodes every nlmsghdr / cn_msg / proc_event in one received datagram.
// Never reads outside `buffer`; needs no alignment.
DecodedBuffer decode_proc_connector_buffer(std::span<const uint8_t> buffer);

// Counts records the kernel consumed a sequence number for but never
// delivered to this socket: dropped on a full socket buffer (ENOBUFS), and
// dropped for every listener on skb allocation failure (no error at all).
//
// Why this works: the proc connector numbers messages with a per-CPU counter
// and sends each under a per-CPU lock with preemption off (send_msg in
// drivers/connector/cn_proc.c), so per CPU the numbers reach every socket in
// order and without holes unless a message was lost. Acks (PROC_EVENT_NONE)
// go through the same path on current kernels; on older ones they carry
// cpu = -1 and the requester's seq, and are not tracked. A number going
// backwards is taken as a restart of the stream, not a loss.
//
// ENOBUFS says only that something was dropped; the sensor reports it at
// once as one lost record and prepays that here, so the hole found later
// (when the CPU's next message arrives, possibly much later: a congested
// netlink socket drops everything until it is drained) reports the rest.
class ProcSeqTracker {
 public:
  // How many records are missing before this one on its CPU and were not
  // reported already.
  uint64_t observe(uint32_t cpu, uint32_t seq);
  // `count` lost records were already reported without knowing where.
  void prepay(uint64_t count) { prepaid_ += count; }
  void reset();

 private:
  std::unordered_map<uint32_t, uint32_t> last_seq_by_cpu_;
  uint64_t prepaid_ = 0;
};

// Turns decoded proc connector events into RawEvents, reading /proc for what
// the kernel did not say. Not thread-safe.
//
// Mapping:
//   FORK, child_pid == child_tgid (a process, not a thread) -> RawFork
//   EXEC -> RawExec (never dropped: a process gone before /proc is read still
//           gets one, with only tgid, tid and time)
//   EXIT, process_pid == process_tgid (the group leader) -> RawExit
//   everything else (threads, UID, GID, SID, COMM, PTRACE, COREDUMP, acks):
//           nothing
// Muting follows the BPF sensor: fork is muted by the parent, exec and exit by
// the process; a pgid is only known once /proc was read, so it is checked
// then (and remembered for the exit of a process seen in a muted group).
class ProcEventTranslator {
 public:
  explicit ProcEventTranslator(std::shared_ptr<process::ProcFs> procfs);

  // boot_ns = timestamp_ns + offset (CLOCK_BOOTTIME - CLOCK_MONOTONIC).
  void set_monotonic_to_boot_offset(int64_t offset_ns) { monotonic_to_boot_ns_ = offset_ns; }

  // Emits at most one event, preceded by a RawLost when the sequence shows
  // records missing. Returns the number of records it reports lost.
  uint64_t translate(const DecodedProcEvent& event, const RawSink& sink);

  ProcSeqTracker& seq_tracker() { return seq_tracker_; }
  void mute_tgid(pid_t tgid) { muted_tgids_.insert(tgid); }
  void mute_pgid(pid_t pgid) { muted_pgids_.insert(pgid); }
  void reset();

 private:
  uint64_t to_boot_ns(uint64_t monotonic_ns) const;
  // A snapshot is of the process the event names only if that process had
  // started by the event's time; otherwise the pid was reused.
  std::optional<process::ProcSnapshot> read_matching(pid_t tgid, uint64_t event_boot_ns);
  bool muted_by_group(const RawProc& proc);
  void on_fork(const DecodedProcEvent& event, const RawSink& sink);
  void on_exec(const DecodedProcEvent& event, const RawSink& sink);
  void on_exit(const DecodedProcEvent& event, const RawSink& sink);

  std::shared_ptr<process::ProcFs> procfs_;
  int64_t monotonic_to_boot_ns_ = 0;
  ProcSeqTracker seq_tracker_;
  std::unordered_set<pid_t> muted_tgids_;
  std::unordered_set<pid_t> muted_pgids_;
  // Live processes last seen in a muted process group (their exit carries no
  // pgid).
  std::unordered_set<pid_t> tgids_in_muted_groups_;
};

// `procfs` may be null: events then carry only what the kernel sent.
std::unique_ptr<Sensor> make_proc_connector_sensor(std::shared_ptr<process::ProcFs> procfs);

}  // namespace ward::sensors
