// The netlink process connector sensor. See proc_connector_sensor.h.
#include "sensors/proc_connector/proc_connector_sensor.h"

// clang-format off
#include <sys/socket.h>
#include <linux/connector.h>
#include <linux/cn_proc.h>
#include <linux/netlink.h>
// clang-format on
#include <poll.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <utility>

namespace ward::sensors {
namespace {

// proc_event.what values (linux/cn_proc.h), as plain numbers.
constexpr uint32_t kEventNone = 0x00000000;
constexpr uint32_t kEventFork = 0x00000001;
constexpr uint32_t kEventExec = 0x00000002;
constexpr uint32_t kEventUid = 0x00000004;
constexpr uint32_t kEventGid = 0x00000040;
constexpr uint32_t kEventSid = 0x00000080;
constexpr uint32_t kEventPtrace = 0x00000100;
constexpr uint32_t kEventComm = 0x00000200;
constexpr uint32_t kEventCoredump = 0x40000000;
constexpr uint32_t kEventExit = 0x80000000;
static_assert(kEventFork == proc_event::PROC_EVENT_FORK && kEventExec == proc_event::PROC_EVENT_EXEC &&
              kEventExit == proc_event::PROC_EVENT_EXIT && kEventComm == proc_event::PROC_EVENT_COMM);

constexpr uint32_t kNoCpu = 0xffffffff;  // acks on kernels that do not number them
constexpr size_t kNetlinkAlign = 4;      // NLMSG_ALIGNTO
constexpr size_t align_netlink(size_t n) { return (n + kNetlinkAlign - 1) & ~(kNetlinkAlign - 1); }
constexpr size_t kNetlinkHeaderSize = align_netlink(sizeof(nlmsghdr));
constexpr size_t kConnectorHeaderSize = sizeof(cn_msg);
constexpr size_t kEventHeaderSize = offsetof(proc_event, event_data);

// The least a message of each kind must carry after the event header. Exit
// and coredump grew parent fields over time; older kernels send fewer bytes.
size_t min_event_data_size(uint32_t what) {
  switch (what) {
    case kEventNone:
      return sizeof(proc_event::event_data.ack);
    case kEventFork:
      return sizeof(proc_event::event_data.fork);
    case kEventExec:
      return sizeof(proc_event::event_data.exec);
    case kEventUid:
    case kEventGid:
      return sizeof(proc_event::event_data.id);
    case kEventSid:
      return sizeof(proc_event::event_data.sid);
    case kEventPtrace:
      return sizeof(proc_event::event_data.ptrace);
    case kEventComm:
      return sizeof(proc_event::event_data.comm);
    case kEventCoredump:
      return 2 * sizeof(__kernel_pid_t);
    case kEventExit:
      return 2 * sizeof(__kernel_pid_t) + 2 * sizeof(__u32);
    default:
      return 0;  // a kind newer than this code: kept, then ignored
  }
}

// One cn_msg (the payload of an NLMSG_DONE netlink message).
void decode_connector_message(std::span<const uint8_t> payload, DecodedBuffer& out) {
  if (payload.size() < kConnectorHeaderSize) {
    ++out.malformed;
    return;
  }
  cn_msg header;
  std::memcpy(&header, payload.data(), kConnectorHeaderSize);
  if (header.id.idx != CN_IDX_PROC || header.id.val != CN_VAL_PROC) return;  // another connector's
  if (header.len > payload.size() - kConnectorHeaderSize || header.len < kEventHeaderSize) {
    ++out.malformed;
    return;
  }
  std::span<const uint8_t> data = payload.subspan(kConnectorHeaderSize, header.len);
  proc_event event;
  std::memset(&event, 0, sizeof(event));  // fields an older kernel did not send read as 0
  std::memcpy(&event, data.data(), std::min(data.size(), sizeof(event)));
  // Read as a number, not through the enum: any value may arrive.
  uint32_t what = 0;
  std::memcpy(&what, data.data() + offsetof(proc_event, what), sizeof(what));
  if (data.size() < kEventHeaderSize + min_event_data_size(what)) {
    ++out.malformed;
    return;
  }

  DecodedProcEvent decoded;
  decoded.what = what;
  decoded.cpu = event.cpu;
  decoded.seq = header.seq;
  decoded.ack = header.ack;
  decoded.timestamp_ns = event.timestamp_ns;
  switch (what) {
    case kEventNone:
      decoded.ack_error = event.event_data.ack.err;
      break;
    case kEventFork:
      decoded.parent_pid = event.event_data.fork.parent_pid;
      decoded.parent_tgid = event.event_data.fork.parent_tgid;
      decoded.child_pid = event.event_data.fork.child_pid;
      decoded.child_tgid = event.event_data.fork.child_tgid;
      break;
    case kEventExit:
      decoded.process_pid = event.event_data.exit.process_pid;
      decoded.process_tgid = event.event_data.exit.process_tgid;
      decoded.exit_code = event.event_data.exit.exit_code;
      decoded.exit_signal = event.event_data.exit.exit_signal;
      decoded.parent_pid = event.event_data.exit.parent_pid;
      decoded.parent_tgid = event.event_data.exit.parent_tgid;
      break;
    default:
      // Every other kind starts with process_pid, process_tgid.
      if (min_event_data_size(what) >= sizeof(proc_event::event_data.exec)) {
        decoded.process_pid = event.event_data.exec.process_pid;
        decoded.process_tgid = event.event_data.exec.process_tgid;
      }
      break;
  }
  out.events.push_back(decoded);
}

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// strerror() shares a buffer between threads; the GNU strerror_r does not.
std::string errno_text(int error) {
  char buffer[128];
  return ::strerror_r(error, buffer, sizeof(buffer));
}

RawLost make_lost(uint64_t count) { return RawLost{"proc_connector", RawKind::Unknown, count, std::nullopt}; }

class ProcConnectorSensor final : public Sensor {
 public:
  explicit ProcConnectorSensor(std::shared_ptr<process::ProcFs> procfs) : translator_(std::move(procfs)) {
    slots_.resize(kBatch * kSlotSize);
    iovecs_.resize(kBatch);
    senders_.resize(kBatch);
    headers_.resize(kBatch);
  }
  ~ProcConnectorSensor() override { stop(); }

  std::string_view name() const override { return "proc_connector"; }

  Status start(const SensorConfig& /*config*/, RawSink sink) override {
    if (fd_ >= 0) return Status::error("proc_connector: already started");
    fd_ = ::socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd_ < 0) return Status::error(std::string("proc_connector: socket: ") + errno_text(errno));

    // A fork storm outruns a default-sized buffer within milliseconds.
    int rcvbuf = kReceiveBufferBytes;
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));  // capped at rmem_max
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = CN_IDX_PROC;
    local.nl_pid = 0;  // let the kernel pick a port id
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
      return fail_start("bind");
    }

    translator_.reset();
    pending_events_.clear();
    pending_overflows_ = 0;
    refresh_clock_offset();
    listen_cookie_ = static_cast<uint32_t>(::getpid()) * 2654435761u + ++start_count_;
    if (!send_mcast_op(PROC_CN_MCAST_LISTEN, listen_cookie_)) return fail_start("send PROC_CN_MCAST_LISTEN");
    if (Status acked = await_listen_ack(); !acked) {
      close_socket();
      return acked;
    }
    sink_ = std::move(sink);
    return Status::ok();
  }

  void stop() override {
    if (fd_ < 0) return;
    // The kernel counts listeners and builds events while any remain; tell it
    // we are gone rather than leave the count up.
    send_mcast_op(PROC_CN_MCAST_IGNORE, 0);
    close_socket();
    pending_events_.clear();
    pending_overflows_ = 0;
  }

  int poll_fd() const override { return fd_; }

  int poll(int timeout_ms) override {
    if (fd_ < 0) return -1;
    refresh_clock_offset();
    int handled = flush_pending();
    if (handled > 0) timeout_ms = 0;  // already have work: do not sleep

    pollfd pfd{fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0) return errno == EINTR ? handled : -1;
    if (ready == 0) return handled;
    if ((pfd.revents & POLLNVAL) != 0) return -1;
    // POLLERR is a pending ENOBUFS; receive() reports it.

    std::vector<DecodedProcEvent> events;
    int datagrams = 0;
    // Bounded, so one storm cannot keep the hub's loop from its other work;
    // what is left is read on the next call.
    while (datagrams < kMaxDatagramsPerPoll) {
      events.clear();
      Received got = receive(events);
      if (got.outcome == Outcome::kFatal) return -1;
      if (got.outcome == Outcome::kOverflow) {
        report_overflow();
        ++datagrams;
        continue;
      }
      for (const DecodedProcEvent& event : events) handle(event);
      handled += static_cast<int>(events.size());
      if (got.outcome == Outcome::kDrained) break;
      datagrams += got.datagrams;
    }
    return handled;
  }

  SensorCounters counters() const override { return counters_; }

  Status mute_pgid(pid_t pgid) override {
    translator_.mute_pgid(pgid);
    return Status::ok();
  }
  Status mute_tgid(pid_t tgid) override {
    translator_.mute_tgid(tgid);
    return Status::ok();
  }

 private:
  static constexpr int kReceiveBufferBytes = 8 << 20;
  static constexpr size_t kBatch = 64;
  // A proc connector datagram is 76 bytes; anything larger than a slot is not
  // one and is counted malformed.
  static constexpr size_t kSlotSize = 1024;
  static constexpr int kMaxDatagramsPerPoll = 8192;
  static constexpr int kListenAckTimeoutMs = 1000;

  enum class Outcome { kGot, kDrained, kOverflow, kFatal };
  struct Received {
    Outcome outcome;
    int datagrams = 0;
  };

  // One recvmmsg: decodes every datagram into `events`.
  Received receive(std::vector<DecodedProcEvent>& events) {
    for (size_t i = 0; i < kBatch; ++i) {
      iovecs_[i] = {slots_.data() + i * kSlotSize, kSlotSize};
      senders_[i] = {};
      headers_[i] = {};
      headers_[i].msg_hdr.msg_name = &senders_[i];
      headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_nl);
      headers_[i].msg_hdr.msg_iov = &iovecs_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
    }
    int n;
    do {
      n = ::recvmmsg(fd_, headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {Outcome::kDrained};
      if (errno == ENOBUFS) return {Outcome::kOverflow};
      return {Outcome::kFatal};
    }
    for (int i = 0; i < n; ++i) {
      const mmsghdr& header = headers_[static_cast<size_t>(i)];
      const sockaddr_nl& sender = senders_[static_cast<size_t>(i)];
      // Only the kernel speaks for the proc connector: a privileged process
      // could unicast forged events to our port.
      if ((header.msg_hdr.msg_flags & MSG_TRUNC) != 0 || header.msg_hdr.msg_namelen < sizeof(sockaddr_nl) ||
          sender.nl_pid != 0) {
        ++counters_.malformed;
        continue;
      }
      DecodedBuffer decoded = decode_proc_connector_buffer(
          std::span<const uint8_t>(slots_.data() + static_cast<size_t>(i) * kSlotSize, header.msg_len));
      counters_.malformed += decoded.malformed;
      events.insert(events.end(), decoded.events.begin(), decoded.events.end());
    }
    return {Outcome::kGot, n};
  }

  // The kernel acks every listen request (PROC_EVENT_NONE, cn_msg.ack =
  // request's ack + 1) to every listener. Without our ack the request was
  // dropped: the kernel ignores requests from outside the initial user and
  // pid namespaces without a word (and its pids would not be ours anyway).
  // Other events do not prove the listen took (another listener makes the
  // kernel send them to our group too), unless an overflow may have eaten
  // the ack.
  Status await_listen_ack() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kListenAckTimeoutMs);
    std::vector<DecodedProcEvent> events;
    while (true) {
      events.clear();
      Received got = receive(events);
      if (got.outcome == Outcome::kFatal) return errno_status("recvmmsg");
      if (got.outcome == Outcome::kOverflow) {
        ++pending_overflows_;
        translator_.seq_tracker().prepay(1);
        continue;
      }
      bool acked = false;
      for (const DecodedProcEvent& event : events) {
        if (event.what == kEventNone && event.ack == listen_cookie_ + 1) {
          if (event.ack_error != 0) {
            return Status::error(std::string("proc_connector: listen refused: ") +
                                 errno_text(static_cast<int>(event.ack_error)));
          }
          acked = true;
        }
        pending_events_.push_back(event);  // the hub gets them on the first poll
      }
      if (acked || (pending_overflows_ > 0 && !pending_events_.empty())) return Status::ok();
      if (got.outcome == Outcome::kGot && std::chrono::steady_clock::now() < deadline) continue;
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return errno_status("poll");
    }
    return Status::error(
        "proc_connector: the kernel did not acknowledge PROC_CN_MCAST_LISTEN (not in the initial user and "
        "pid "
        "namespace?)");
  }

  int flush_pending() {
    for (; pending_overflows_ > 0; --pending_overflows_) {
      ++counters_.lost;
      if (sink_) sink_(make_lost(1));
    }
    int handled = static_cast<int>(pending_events_.size());
    for (const DecodedProcEvent& event : pending_events_) handle(event);
    pending_events_.clear();
    return handled;
  }

  void handle(const DecodedProcEvent& event) {
    ++counters_.received;
    if (!sink_) return;
    counters_.lost += translator_.translate(event, sink_);
  }

  // ENOBUFS: the socket's buffer was full and the kernel dropped datagrams;
  // how many is not said.
  void report_overflow() {
    ++counters_.lost;
    translator_.seq_tracker().prepay(1);
    if (sink_) sink_(make_lost(1));
  }

  bool send_mcast_op(uint32_t op, uint32_t ack) {
    std::array<uint8_t, kNetlinkHeaderSize + kConnectorHeaderSize + sizeof(uint32_t)> message{};
    nlmsghdr netlink_header{};
    netlink_header.nlmsg_len = static_cast<uint32_t>(message.size());
    netlink_header.nlmsg_type = NLMSG_DONE;
    cn_msg connector_header;
    std::memset(&connector_header, 0, sizeof(connector_header));
    connector_header.id.idx = CN_IDX_PROC;
    connector_header.id.val = CN_VAL_PROC;
    connector_header.seq = ++request_seq_;
    connector_header.ack = ack;
    connector_header.len = sizeof(op);
    std::memcpy(message.data(), &netlink_header, sizeof(netlink_header));
    std::memcpy(message.data() + kNetlinkHeaderSize, &connector_header, kConnectorHeaderSize);
    std::memcpy(message.data() + kNetlinkHeaderSize + kConnectorHeaderSize, &op, sizeof(op));
    // To the kernel (port 0) only: a multicast destination would also copy
    // the request to every other listener.
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
      sent = ::sendto(fd_, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
                      sizeof(kernel));
    } while (sent < 0 && errno == EINTR);
    return sent == static_cast<ssize_t>(message.size());
  }

  // The proc connector stamps events with CLOCK_MONOTONIC; Ward speaks
  // CLOCK_BOOTTIME. The difference grows across suspend, so it is re-read on
  // every poll rather than once at start.
  void refresh_clock_offset() {
    int64_t monotonic_before = clock_ns(CLOCK_MONOTONIC);
    int64_t boot = clock_ns(CLOCK_BOOTTIME);
    int64_t monotonic_after = clock_ns(CLOCK_MONOTONIC);
    translator_.set_monotonic_to_boot_offset(boot -
                                             (monotonic_before + (monotonic_after - monotonic_before) / 2));
  }

  Status errno_status(const char* what) const {
    return Status::error(std::string("proc_connector: ") + what + ": " + errno_text(errno));
  }

  Status fail_start(const char* what) {
    Status status = errno_status(what);
    close_socket();
    return status;
  }

  void close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  RawSink sink_;
  ProcEventTranslator translator_;
  SensorCounters counters_;
  uint32_t listen_cookie_ = 0;
  uint32_t request_seq_ = 0;
  uint32_t start_count_ = 0;
  std::vector<DecodedProcEvent> pending_events_;  // read while awaiting the listen ack
  uint64_t pending_overflows_ = 0;
  std::vector<uint8_t> slots_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_nl> senders_;
  std::vector<mmsghdr> headers_;
};

}  // namespace

DecodedBuffer decode_proc_connector_buffer(std::span<const uint8_t> buffer) {
  DecodedBuffer out;
  size_t offset = 0;
  while (offset < buffer.size()) {
    size_t remaining = buffer.size() - offset;
    if (remaining < sizeof(nlmsghdr)) {
      ++out.malformed;  // a fragment too short to be a message
      break;
    }
    nlmsghdr header;
    std::memcpy(&header, buffer.data() + offset, sizeof(header));
    if (header.nlmsg_len < kNetlinkHeaderSize || header.nlmsg_len > remaining) {
      ++out.malformed;  // the length cannot be trusted, so neither can what follows
      break;
    }
    if (header.nlmsg_type == NLMSG_DONE) {
      decode_connector_message(
          buffer.subspan(offset + kNetlinkHeaderSize, header.nlmsg_len - kNetlinkHeaderSize), out);
    }
    // NLMSG_NOOP, NLMSG_ERROR, NLMSG_OVERRUN and unknown types: not events.
    offset += std::min(align_netlink(header.nlmsg_len), remaining);
  }
  return out;
}

uint64_t ProcSeqTracker::observe(uint32_t cpu, uint32_t seq) {
  auto [it, first] = last_seq_by_cpu_.try_emplace(cpu, seq);
  if (first) return 0;
  uint32_t missing = seq - (it->second + 1);  // modulo 2^32: the counter wraps
  it->second = seq;
  if (missing >= 0x80000000u) return 0;  // went backwards: a restart, not a loss
  uint64_t already_reported = std::min<uint64_t>(missing, prepaid_);
  prepaid_ -= already_reported;
  return missing - already_reported;
}

void ProcSeqTracker::reset() {
  last_seq_by_cpu_.clear();
  prepaid_ = 0;
}

ProcEventTranslator::ProcEventTranslator(std::shared_ptr<process::ProcFs> procfs)
    : procfs_(std::move(procfs)) {}

void ProcEventTranslator::reset() {
  seq_tracker_.reset();
  tgids_in_muted_groups_.clear();
}

uint64_t ProcEventTranslator::translate(const DecodedProcEvent& event, const RawSink& sink) {
  uint64_t lost = 0;
  if (event.cpu != kNoCpu) {
    lost = seq_tracker_.observe(event.cpu, event.seq);
    if (lost > 0) sink(make_lost(lost));
  }
  switch (event.what) {
    case kEventFork:
      if (event.child_pid == event.child_tgid) on_fork(event, sink);  // else a new thread
      break;
    case kEventExec:
      on_exec(event, sink);
      break;
    case kEventExit:
      if (event.process_pid == event.process_tgid) on_exit(event, sink);  // else a thread
      break;
    default:
      break;  // acks; uid, gid, sid, comm, ptrace, coredump changes: not reported yet
  }
  return lost;
}

uint64_t ProcEventTranslator::to_boot_ns(uint64_t monotonic_ns) const {
  return static_cast<uint64_t>(static_cast<int64_t>(monotonic_ns) + monotonic_to_boot_ns_);
}

std::optional<process::ProcSnapshot> ProcEventTranslator::read_matching(pid_t tgid, uint64_t event_boot_ns) {
  if (!procfs_ || tgid <= 0) return std::nullopt;
  auto snapshot = procfs_->read(tgid);
  if (!snapshot || snapshot->proc.tgid != tgid) return std::nullopt;
  // /proc's start time is rounded down to a clock tick, so the right process
  // never looks younger than its event; the slack absorbs clock-offset skew.
  constexpr uint64_t kSlackNs = 1'000'000;
  if (snapshot->proc.start_boot_ns > event_boot_ns + kSlackNs) return std::nullopt;  // pid reused
  return snapshot;
}

bool ProcEventTranslator::muted_by_group(const RawProc& proc) {
  if (proc.pgid == 0) return tgids_in_muted_groups_.contains(proc.tgid);  // group unknown
  if (muted_pgids_.contains(proc.pgid)) {
    tgids_in_muted_groups_.insert(proc.tgid);
    return true;
  }
  tgids_in_muted_groups_.erase(proc.tgid);  // it left the group
  return false;
}

void ProcEventTranslator::on_fork(const DecodedProcEvent& event, const RawSink& sink) {
  if (muted_tgids_.contains(event.parent_tgid)) return;
  RawFork fork;
  fork.boot_ns = to_boot_ns(event.timestamp_ns);
  fork.tid = event.parent_pid;  // the thread that forked
  fork.parent_tgid = event.parent_tgid;
  if (auto child = read_matching(event.child_tgid, fork.boot_ns)) {
    fork.child = std::move(child->proc);
  } else if (auto parent = read_matching(event.parent_tgid, fork.boot_ns)) {
    // The child is gone already; at fork it had its parent's credentials,
    // group, session, terminal and comm. Its start time is the event's.
    fork.parent_start_boot_ns = parent->proc.start_boot_ns;
    fork.child = std::move(parent->proc);
    fork.child.start_boot_ns = fork.boot_ns;
    fork.child.start_from_ticks = false;
  }
  fork.child.tgid = event.child_tgid;
  fork.child.ppid = event.parent_tgid;  // the parent at fork, even if since reparented
  if (muted_by_group(fork.child)) return;
  sink(std::move(fork));
}

void ProcEventTranslator::on_exec(const DecodedProcEvent& event, const RawSink& sink) {
  if (muted_tgids_.contains(event.process_tgid)) return;
  RawExec exec;
  exec.boot_ns = to_boot_ns(event.timestamp_ns);
  exec.tid = event.process_pid;
  // /proc shows the process as it is now: usually right after this exec, but
  // a process that exec'd again already shows the later image.
  if (auto snapshot = read_matching(event.process_tgid, exec.boot_ns)) {
    exec.proc = std::move(snapshot->proc);
    exec.exe_path = std::move(snapshot->exe_path);
    exec.exe_stat = snapshot->exe_stat;
    exec.cwd = std::move(snapshot->cwd);
    exec.args = std::move(snapshot->args);
  }
  exec.proc.tgid = event.process_tgid;
  if (muted_by_group(exec.proc)) return;
  sink(std::move(exec));
}

void ProcEventTranslator::on_exit(const DecodedProcEvent& event, const RawSink& sink) {
  // A muted pid that exits is unmuted, or its next owner would be muted too.
  if (muted_tgids_.erase(event.process_tgid) > 0) return;
  if (tgids_in_muted_groups_.erase(event.process_tgid) > 0) return;
  RawExit exit;
  exit.boot_ns = to_boot_ns(event.timestamp_ns);
  exit.tid = event.process_pid;
  exit.proc.tgid = event.process_tgid;
  exit.proc.ppid = event.parent_tgid;
  exit.status = static_cast<int32_t>(event.exit_code);
  sink(std::move(exit));
}

std::unique_ptr<Sensor> make_proc_connector_sensor(std::shared_ptr<process::ProcFs> procfs) {
  return std::make_unique<ProcConnectorSensor>(std::move(procfs));
}

}  // namespace ward::sensors
