#include "tamper/unlock.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ward::tamper {
namespace {

constexpr std::size_t kMaxLine = 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void send_line(int fd, const std::string& line) { (void)!send(fd, line.data(), line.size(), MSG_NOSIGNAL); }

// Reads one line (without its newline) within two seconds.
std::string read_line(int fd) {
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string line;
  char c;
  while (line.size() < kMaxLine && recv(fd, &c, 1, 0) == 1 && c != '\n') line.push_back(c);
  return line;
}

sockaddr_un address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  return addr;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

bool unlock_token_matches(std::string_view token, std::string_view expected_sha256_hex) {
  if (token.empty() || expected_sha256_hex.size() != 64) return false;
  std::string want = lower(expected_sha256_hex), got = sha256_hex(token);
  return CRYPTO_memcmp(want.data(), got.data(), 64) == 0;
}

UnlockServer::~UnlockServer() { stop(); }

Status UnlockServer::start(const std::string& socket_path, Handler handler) {
  path_ = socket_path;
  handler_ = std::move(handler);
  std::error_code ec;
  auto dir = std::filesystem::path(socket_path).parent_path();
  std::filesystem::create_directories(dir, ec);
  chmod(dir.c_str(), 0700);
  if (socket_path.size() >= sizeof(sockaddr_un::sun_path))
    return Status::error("unlock socket path too long: " + socket_path);
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return Status::error(std::string("unlock socket: ") + std::strerror(errno));
  unlink(socket_path.c_str());  // a stale socket of an agent that died
  sockaddr_un addr = address_of(socket_path);
  mode_t old = umask(0077);
  int rc = bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  umask(old);
  if (rc != 0 || listen(listen_fd_, 4) != 0) {
    Status s = Status::error("unlock socket " + socket_path + ": " + std::strerror(errno));
    stop();
    return s;
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { serve(); });
  return Status::ok();
}

void UnlockServer::stop() {
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    unlink(path_.c_str());
  }
  if (stop_fd_ >= 0) close(stop_fd_);
  listen_fd_ = stop_fd_ = -1;
}

void UnlockServer::serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ucred cred{};
    socklen_t len = sizeof(cred);
    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
    std::string line = read_line(fd);
    if (line.rfind("unlock ", 0) != 0) {
      send_line(fd, "denied: expected \"unlock <token>\"\n");
    } else if (handler_(std::string_view(line).substr(7), UnlockPeer{cred.pid, cred.uid})) {
      send_line(fd, "ok\n");
    } else {
      sleep(1);  // one guess per second
      send_line(fd, "denied: wrong token\n");
    }
    close(fd);
  }
}

Status request_unlock(const std::string& socket_path, std::string_view token) {
  if (token.empty() || token.find('\n') != std::string_view::npos) return Status::error("bad token");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::error(std::string("socket: ") + std::strerror(errno));
  sockaddr_un addr = address_of(socket_path);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Status s = Status::error("cannot reach wardd at " + socket_path + ": " + std::strerror(errno));
    close(fd);
    return s;
  }
  std::string request = "unlock " + std::string(token) + "\n";
  send_line(fd, request);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string reply;
  char c;
  while (reply.size() < kMaxLine && recv(fd, &c, 1, 0) == 1 && c != '\n') reply.push_back(c);
  close(fd);
  if (reply == "ok") return Status::ok();
  return Status::error(reply.empty() ? "no answer from wardd" : reply);
}

}  // namespace ward::tamper
