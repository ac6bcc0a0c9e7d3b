// The control socket the `ward` CLI talks to: a Unix stream socket (mode
// 0600) that accepts only root peers (SO_PEERCRED uid 0). The protocol is
// line-delimited JSON: one request object per line, one response object per
// line ({"ok": true, …} or {"ok": false, "error": "…"}). A streaming request
// (tail) answers once and then sends records, one per line, until the peer
// closes the connection or wardd stops.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "ward/status.h"

namespace ward::daemon {

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// One accepted connection, for a handler that streams.
class Connection {
 public:
  int fd() const { return fd_; }
  const Peer& peer() const { return peer_; }
  // Readable when wardd is stopping: poll it with fd() to stop streaming.
  int stop_fd() const { return stop_fd_; }
  // Writes the whole line and a newline; false once the peer is gone.
  bool send_line(const std::string& line);

 private:
  friend class ControlServer;
  Connection(int fd, Peer peer, int stop_fd) : fd_(fd), peer_(peer), stop_fd_(stop_fd) {}
  int fd_;
  Peer peer_;
  int stop_fd_;
};

class ControlServer {
 public:
  // The response to one request; nullopt when the handler has used the
  // connection itself (a stream) and it is to be closed now.
  using Handler =
      std::function<std::optional<nlohmann::json>(const nlohmann::json& request, Connection& connection)>;

  // Binds and listens on `path` (creating its directory). A socket file left
  // by a dead wardd is replaced; one a live wardd answers on is an error.
  static Result<std::unique_ptr<ControlServer>> bind(const std::string& path);
  ~ControlServer();  // stop(), then removes the socket file

  void start(Handler handler);
  // Stops accepting, ends every connection (streams included) and joins.
  void stop();
  const std::string& path() const { return path_; }
  uint64_t requests() const { return requests_.load(); }

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

 private:
  struct Session {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  ControlServer() = default;
  void accept_loop();
  void serve(Session& session, Peer peer);
  void reap_finished_locked();

  std::string path_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd, readable once stopping
  Handler handler_;
  std::thread accept_thread_;
  std::mutex mu_;
  std::list<Session> sessions_;
  bool stopped_ = false;
  std::atomic<uint64_t> requests_{0};
};

// The CLI's end: a connected client of the socket at `path`. The error for a
// missing socket reads "wardd is not running (no socket at PATH)".
Result<int> connect_control_socket(const std::string& path);

inline constexpr std::size_t kMaxRequestBytes = 1 << 20;

}  // namespace ward::daemon
