// The authenticated way to stop Ward: `ward unlock <token>`. The agent keeps
// only the token's sha256 (config); the token itself is shown to nobody. A
// good token lifts self-protection until the agent restarts, after which it
// can be stopped (systemctl stop, kill) like any process.
//
// The channel is a root-only Unix socket (mode 0600 in a 0700 directory);
// one line each way:  "unlock <token>\n"  →  "ok\n" | "denied: <why>\n".
// Wrong tokens are answered after a one-second delay, one at a time, so
// guessing is slow; the token's entropy is the real defence.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "ward/status.h"

namespace ward::tamper {

inline constexpr const char* kDefaultUnlockSocket = "/run/ward/unlock.sock";

std::string sha256_hex(std::string_view data);
// True when sha256(token) is `expected_sha256_hex` (64 hex digits, any case);
// compared in constant time.
bool unlock_token_matches(std::string_view token, std::string_view expected_sha256_hex);

struct UnlockPeer {
  pid_t pid = 0;
  uid_t uid = 0;
};

class UnlockServer {
 public:
  // `unlock` gets each token and says whether it unlocked.
  using Handler = std::function<bool(std::string_view token, const UnlockPeer& peer)>;
  ~UnlockServer();
  Status start(const std::string& socket_path, Handler handler);
  void stop();

 private:
  void serve();
  std::string path_;
  Handler handler_;
  int listen_fd_ = -1, stop_fd_ = -1;
  std::thread thread_;
};

// The client side of `ward unlock`.
Status request_unlock(const std::string& socket_path, std::string_view token);

}  // namespace ward::tamper
