// The CLI's side of wardd's control socket (daemon/control_server.h): one
// connection, line-delimited JSON requests and responses.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ward/status.h"

namespace ward::cli {

inline constexpr const char* kDefaultControlSocket = "/run/ward/control.sock";

class ControlClient {
 public:
  // "wardd is not running (no socket at PATH)" when there is none.
  static Result<ControlClient> connect(const std::string& socket_path);
  ControlClient(ControlClient&& other) noexcept;
  ControlClient& operator=(ControlClient&&) = delete;
  ~ControlClient();

  // Sends one request and reads its response. A response {"ok": false,
  // "error": E} becomes the error E.
  Result<nlohmann::json> request(const nlohmann::json& request);
  // The next line of a stream; false at the end of the stream.
  Result<bool> read_line(std::string& line);

 private:
  explicit ControlClient(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
  std::string buffer_;
};

}  // namespace ward::cli
