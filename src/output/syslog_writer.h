// Sends each record as one syslog message over a Unix datagram socket
// (/dev/log by default), RFC 5424 or the RFC 3164 form glibc's syslog(3)
// uses locally. The payload is the message text, unchanged.
//
// The socket may be missing or its daemon restarting: a failed send is
// counted and reported (Status), never thrown or fatal. The writer reconnects
// at once when the daemon went away under a connected socket, and otherwise
// tries again at most every reconnect_interval_ms; records sent while there is
// no daemon are reported as errors. A daemon that does not read (a full
// socket) holds a record up to send_timeout_ms, after which it is dropped and
// counted.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "output/writer.h"

namespace ward::output {

enum class SyslogFormat { Rfc5424, Rfc3164 };

struct SyslogWriterOptions {
  std::string socket_path = "/dev/log";
  SyslogFormat format = SyslogFormat::Rfc5424;
  int facility = 10;  // authpriv: security events, kept private by syslog daemons
  int severity = 6;   // informational
  std::string app_name = "ward";
  std::string hostname{};  // RFC 5424 HOSTNAME; empty: gethostname(2)
  int reconnect_interval_ms = 1000;
  int send_timeout_ms = 100;
};

class SyslogWriter final : public Writer {
 public:
  explicit SyslogWriter(SyslogWriterOptions options = {});
  ~SyslogWriter() override;
  SyslogWriter(const SyslogWriter&) = delete;
  SyslogWriter& operator=(const SyslogWriter&) = delete;

  std::string_view name() const override { return "syslog"; }
  Status write(const Record& record) override;
  Status flush() override;  // datagrams are delivered on send: reports the connection
  WriterCounters counters() const override;

  // The message write() sends for `record` (exposed for tests).
  std::string format_message(const Record& record) const;

 private:
  Status connect_socket();
  void close_socket();
  // One send of `message`; a retry after reconnecting is the caller's.
  int send_once(const std::string& message);

  SyslogWriterOptions options_;
  std::string hostname_;
  pid_t pid_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::chrono::steady_clock::time_point last_attempt_{};
  bool attempted_ = false;
  std::string last_error_;
  WriterCounters counters_;
};

}  // namespace ward::output
