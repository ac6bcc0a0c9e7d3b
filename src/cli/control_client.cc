#include "cli/control_client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/control_server.h"

namespace ward::cli {

Result<ControlClient> ControlClient::connect(const std::string& socket_path) {
  auto fd = daemon::connect_control_socket(socket_path);
  if (!fd) return fd.status();
  return ControlClient(fd.value(), socket_path);
}

ControlClient::ControlClient(ControlClient&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<bool> ControlClient::read_line(std::string& line) {
  for (;;) {
    if (const std::size_t newline = buffer_.find('\n'); newline != std::string::npos) {
      line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return true;
    }
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::error("reading from wardd (" + path_ + "): " + std::strerror(errno));
    if (n == 0) {
      if (buffer_.empty()) return false;
      line.swap(buffer_);  // a last line without its newline
      buffer_.clear();
      return true;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<nlohmann::json> ControlClient::request(const nlohmann::json& request) {
  const std::string text = request.dump() + "\n";
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::send(fd_, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::error("sending to wardd (" + path_ + "): " + std::strerror(errno));
    off += static_cast<std::size_t>(n);
  }
  std::string line;
  auto got = read_line(line);
  if (!got) return got.status();
  if (!got.value()) return Status::error("wardd closed the connection without answering");
  nlohmann::json response;
  try {
    response = nlohmann::json::parse(line);
  } catch (const std::exception& e) {
    return Status::error(std::string("wardd sent something that is not JSON: ") + e.what());
  }
  if (!response.is_object()) return Status::error("wardd sent an answer that is not an object");
  if (!response.value("ok", false))
    return Status::error(response.value("error", std::string("wardd: unknown error")));
  return response;
}

}  // namespace ward::cli
