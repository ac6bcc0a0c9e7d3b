#include "output/syslog_writer.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>

#include "output/json_writer.h"
#include "output/serializer.h"

namespace ward::output {
namespace {

std::string errno_text(int err) { return std::generic_category().message(err); }

// An RFC 5424 header field: printable US-ASCII, bounded, "-" when empty.
void append_header_field(std::string& out, std::string_view value, std::size_t max_length) {
  if (value.empty()) {
    out += '-';
    return;
  }
  std::size_t n = 0;
  for (char c : value) {
    if (n++ == max_length) break;
    auto u = static_cast<unsigned char>(c);
    out += (u >= 33 && u <= 126) ? c : '_';
  }
}

// RFC 5424 allows at most six fraction digits: ...T22:05:45.123456Z.
std::string rfc5424_timestamp(uint64_t ns) {
  std::string t = format_rfc3339_ns(ns);
  auto dot = t.find('.');
  if (dot != std::string::npos && t.size() > dot + 7) t = t.substr(0, dot + 7) + "Z";
  return t;
}

// RFC 3164 / syslog(3): "Dec  1 22:05:45", local time.
std::string rfc3164_timestamp(uint64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  tm local{};
  localtime_r(&secs, &local);
  char buf[32];
  std::size_t n = strftime(buf, sizeof(buf), "%b %e %H:%M:%S", &local);
  return std::string(buf, n);
}

bool is_gone(int err) {
  // The daemon closed or replaced its socket (a restart): reconnect.
  return err == ECONNREFUSED || err == ENOTCONN || err == EPIPE || err == ECONNRESET || err == ENOENT ||
         err == EDESTADDRREQ;
}

}  // namespace

SyslogWriter::SyslogWriter(SyslogWriterOptions options) : options_(std::move(options)), pid_(::getpid()) {
  hostname_ = options_.hostname;
  if (hostname_.empty()) {
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) == 0) hostname_ = name;
  }
}

SyslogWriter::~SyslogWriter() {
  std::lock_guard lock(mutex_);
  close_socket();
}

std::string SyslogWriter::format_message(const Record& record) const {
  uint64_t time_ns = record.time_ns != 0 ? record.time_ns : wall_clock_now_ns();
  int pri = options_.facility * 8 + options_.severity;
  std::string msg;
  msg.reserve(record.payload.size() + 128);
  msg += '<';
  msg += std::to_string(pri);
  msg += '>';
  if (options_.format == SyslogFormat::Rfc5424) {
    msg += "1 ";
    msg += rfc5424_timestamp(time_ns);
    msg += ' ';
    append_header_field(msg, hostname_, 255);
    msg += ' ';
    append_header_field(msg, options_.app_name, 48);
    msg += ' ';
    append_header_field(msg, std::to_string(pid_), 128);
    msg += ' ';
    append_header_field(msg, record.event_name, 32);  // MSGID: "exec"
    msg += " - ";                                     // no structured data
  } else {
    msg += rfc3164_timestamp(time_ns);
    msg += ' ';
    append_header_field(msg, options_.app_name, 32);
    msg += '[';
    msg += std::to_string(pid_);
    msg += "]: ";
  }
  msg += record.payload;
  return msg;
}

Status SyslogWriter::connect_socket() {
  attempted_ = true;
  last_attempt_ = std::chrono::steady_clock::now();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (options_.socket_path.size() >= sizeof(addr.sun_path)) {
    last_error_ = "socket path " + options_.socket_path + " is too long";
    return Status::error("syslog: " + last_error_);
  }
  std::memcpy(addr.sun_path, options_.socket_path.data(), options_.socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    last_error_ = "socket: " + errno_text(errno);
    return Status::error("syslog: " + last_error_);
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    last_error_ = "connect " + options_.socket_path + ": " + errno_text(errno);
    ::close(fd);
    return Status::error("syslog: " + last_error_);
  }
  fd_ = fd;
  last_error_.clear();
  return Status::ok();
}

void SyslogWriter::close_socket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int SyslogWriter::send_once(const std::string& message) {
  while (true) {
    ssize_t n = ::send(fd_, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

Status SyslogWriter::write(const Record& record) {
  std::string message = format_message(record);
  std::lock_guard lock(mutex_);
  if (fd_ < 0) {
    auto since = std::chrono::steady_clock::now() - last_attempt_;
    if (attempted_ && since < std::chrono::milliseconds(options_.reconnect_interval_ms)) {
      ++counters_.errors;
      return Status::error("syslog: not connected (" + last_error_ + "); record not sent");
    }
    if (Status s = connect_socket(); !s) {
      ++counters_.errors;
      return Status::error(s.message() + "; record not sent");
    }
  }
  int err = send_once(message);
  if (err != 0 && is_gone(err)) {
    close_socket();
    if (Status s = connect_socket(); !s) {
      ++counters_.errors;
      return Status::error(s.message() + "; record not sent");
    }
    err = send_once(message);
  }
  if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
    // The daemon is behind: give it a moment, then let the record go.
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, options_.send_timeout_ms) > 0) err = send_once(message);
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
      ++counters_.dropped;
      return Status::error("syslog: " + options_.socket_path + " is not being read (full for " +
                           std::to_string(options_.send_timeout_ms) + " ms); record dropped");
    }
  }
  if (err == 0) {
    ++counters_.written;
    return Status::ok();
  }
  ++counters_.errors;
  if (err == EMSGSIZE)
    return Status::error("syslog: a message of " + std::to_string(message.size()) + " bytes is larger than " +
                         options_.socket_path + " takes; record not sent");
  last_error_ = "send to " + options_.socket_path + ": " + errno_text(err);
  if (is_gone(err)) close_socket();
  return Status::error("syslog: " + last_error_ + "; record not sent");
}

Status SyslogWriter::flush() {
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) return Status::ok();
  auto since = std::chrono::steady_clock::now() - last_attempt_;
  if (!attempted_ || since >= std::chrono::milliseconds(options_.reconnect_interval_ms))
    return connect_socket();
  return Status::error("syslog: not connected (" + last_error_ + ")");
}

WriterCounters SyslogWriter::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace ward::output
