#include "daemon/control_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ward::daemon {
namespace {

constexpr std::size_t kMaxSessions = 32;

Result<sockaddr_un> address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path))
    return Status::error(path + ": not usable as a Unix socket path (1 to " +
                         std::to_string(sizeof(addr.sun_path) - 1) + " bytes)");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

nlohmann::json error_response(const std::string& message) { return {{"ok", false}, {"error", message}}; }

}  // namespace

bool Connection::send_line(const std::string& line) {
  std::string out = line;
  out.push_back('\n');
  return send_all(fd_, out.data(), out.size());
}

Result<std::unique_ptr<ControlServer>> ControlServer::bind(const std::string& path) {
  auto addr = address_of(path);
  if (!addr) return addr.status();
  // The directory: root's, like /run/ward.
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
      return Status::error(dir + ": cannot create directory: " + std::strerror(errno));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Status::error(path + ": exists and is not a socket; not replacing it");
    auto probe = connect_control_socket(path);
    if (probe) {
      ::close(probe.value());
      return Status::error(path + ": another wardd is running and listening on it");
    }
    ::unlink(path.c_str());  // left by a wardd that is gone
  }
  std::unique_ptr<ControlServer> server(new ControlServer());
  server->path_ = path;
  server->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server->listen_fd_ < 0) return Status::error(std::string("control socket: ") + std::strerror(errno));
  // The socket file is created 0600 from the start: no moment where another
  // user could connect.
  const mode_t old_mask = ::umask(0177);
  const int rc =
      ::bind(server->listen_fd_, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof(sockaddr_un));
  const int bind_errno = errno;
  ::umask(old_mask);
  if (rc != 0) {
    server->path_.clear();  // not ours to unlink
    return Status::error(path + ": cannot bind the control socket: " + std::strerror(bind_errno));
  }
  if (::chmod(path.c_str(), 0600) != 0 || ::listen(server->listen_fd_, 16) != 0)
    return Status::error(path + ": cannot listen: " + std::strerror(errno));
  server->stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (server->stop_fd_ < 0) return Status::error(std::string("eventfd: ") + std::strerror(errno));
  return server;
}

ControlServer::~ControlServer() {
  stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

void ControlServer::start(Handler handler) {
  handler_ = std::move(handler);
  accept_thread_ = std::thread([this] { accept_loop(); });
}

void ControlServer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (stop_fd_ >= 0) {
      const uint64_t one = 1;
      (void)::write(stop_fd_, &one, sizeof(one));
    }
    // Wakes every session blocked in recv or send.
    for (auto& s : sessions_) ::shutdown(s.fd, SHUT_RDWR);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  std::list<Session> sessions;
  {
    std::lock_guard lock(mu_);
    sessions.swap(sessions_);
  }
  for (auto& s : sessions) {
    if (s.thread.joinable()) s.thread.join();
    ::close(s.fd);
  }
}

void ControlServer::reap_finished_locked() {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->done.load()) {
      it->thread.join();
      ::close(it->fd);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

void ControlServer::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;
    {
      std::lock_guard lock(mu_);
      reap_finished_locked();
    }
    if (!(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != 0) {
      // The file mode already keeps others out; this holds even for a
      // process that could open it anyway (CAP_DAC_OVERRIDE without uid 0).
      const std::string line =
          error_response("permission denied: the control socket is for root only").dump() + "\n";
      send_all(fd, line.data(), line.size());
      ::close(fd);
      continue;
    }
    std::lock_guard lock(mu_);
    if (stopped_ || sessions_.size() >= kMaxSessions) {
      const std::string line = error_response("wardd is busy: too many control connections").dump() + "\n";
      send_all(fd, line.data(), line.size());
      ::close(fd);
      continue;
    }
    Session& session = sessions_.emplace_back();
    session.fd = fd;
    const Peer peer{cred.pid, cred.uid, cred.gid};
    session.thread = std::thread([this, &session, peer] {
      serve(session, peer);
      session.done = true;
    });
  }
}

void ControlServer::serve(Session& session, Peer peer) {
  Connection connection(session.fd, peer, stop_fd_);
  std::string buffer;
  char chunk[4096];
  for (;;) {
    std::size_t newline;
    while ((newline = buffer.find('\n')) == std::string::npos) {
      if (buffer.size() > kMaxRequestBytes) {
        connection.send_line(error_response("request too long").dump());
        return;
      }
      const ssize_t n = ::recv(session.fd, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    const std::string line = buffer.substr(0, newline);
    buffer.erase(0, newline + 1);
    if (line.empty()) continue;
    ++requests_;
    nlohmann::json request;
    try {
      request = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      if (!connection.send_line(error_response(std::string("bad request: not JSON: ") + e.what()).dump()))
        return;
      continue;
    }
    std::optional<nlohmann::json> response;
    try {
      response = handler_(request, connection);
    } catch (const std::exception& e) {
      response = error_response(std::string("bad request: ") + e.what());
    }
    if (!response) return;  // a stream: the handler is done with the connection
    if (!connection.send_line(response->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)))
      return;
  }
}

Result<int> connect_control_socket(const std::string& path) {
  auto addr = address_of(path);
  if (!addr) return addr.status();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::error(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof(sockaddr_un)) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == ENOENT || err == ENOTDIR)
      return Status::error("wardd is not running (no socket at " + path + ")");
    if (err == ECONNREFUSED)
      return Status::error("wardd is not running (nothing listens on the socket at " + path + ")");
    if (err == EACCES || err == EPERM)
      return Status::error("permission denied on " + path + ": the control socket is for root only");
    return Status::error("cannot connect to wardd at " + path + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace ward::daemon
