// wardd's core: everything a DaemonConfig describes, started in an order
// where a failure leaves nothing running — the policy is validated, the
// control socket and metrics port bound and the outputs opened before any
// sensor starts; and stopped in the reverse order.
//
//   outputs' client (observer) --> OutputSet (stdout, file, syslog, store, nats)
//   policy client (enforcer)   --> AUTH answers
//   control socket             --> status, rules, mute, tail (one Client per tail)
//   metrics                    --> /metrics
//
// Mutes (ward mute) apply to the outputs and tails, never to the policy.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "daemon/config.h"
#include "daemon/control_server.h"
#include "daemon/metrics.h"
#include "daemon/outputs.h"
#include "daemon/stats.h"
#include "output/serializer.h"
#include "policy/policy_client.h"
#include "ward/client.h"

namespace ward::daemon {

class Daemon {
 public:
  // On failure `exit_code` is 2 for a bad policy file, 1 otherwise.
  static Result<std::unique_ptr<Daemon>> start(DaemonConfig config, int& exit_code);
  ~Daemon();

  // SIGHUP: re-reads the policy file; a bad one leaves the policy in force.
  Status reload_policy();
  // "monitor, no policy; sensors: bpf:process, …"
  std::string description() const;
  const SensorReport& sensors() const { return sensors_; }
  std::string metrics_url() const;
  DaemonStats stats() const;
  // The anti-tamper status lines (which path guards files, signals, ptrace,
  // and why not the LSM), as `ward status` shows them.
  void set_self_protection_status(std::vector<std::string> lines);

  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

 private:
  struct TailSession;
  struct MuteRecord {
    std::optional<AuditToken> process;
    std::string path;
    MutePathType path_type = MutePathType::Prefix;
    nlohmann::json describe;  // as `ward status` lists it
  };

  explicit Daemon(DaemonConfig config);
  Status start_components(int& exit_code);
  ClientOptions client_options() const;
  Result<policy::Policy> load_policy_locked();
  std::string mode_name() const;

  void on_message(const Message& m);
  void on_drop(const DropReport& d);
  void flush_loop();

  std::optional<nlohmann::json> handle(const nlohmann::json& request, Connection& connection);
  nlohmann::json status_json() const;
  nlohmann::json rules_json() const;
  nlohmann::json change_rules(const nlohmann::json& request);
  nlohmann::json change_mute(const nlohmann::json& request, bool mute);
  std::optional<nlohmann::json> tail(const nlohmann::json& request, Connection& connection);
  Status apply_mute(Client& client, const MuteRecord& mute, bool mute_it);

  DaemonConfig config_;
  output::HostInfo host_;
  double start_time_ = 0;
  SensorReport sensors_;

  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<OutputSet> outputs_;
  std::unique_ptr<Client> observer_;

  mutable std::mutex policy_mu_;  // reloads and rule edits, one at a time
  std::unique_ptr<policy::PolicyClient> enforcer_;
  policy::Mode file_mode_ = policy::Mode::Monitor;  // as the file says (rules edits keep it)
  std::atomic<uint64_t> reloads_{0}, reload_failures_{0};

  std::array<std::atomic<uint64_t>, kEventTypes.size()> events_{};
  mutable std::mutex counters_mu_;
  std::map<std::string, uint64_t> drops_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> decisions_;

  // The current audit token of each live pid, from the events seen: a
  // process mute names a process image (pid + pidversion), as in ES.
  mutable std::mutex tokens_mu_;
  std::unordered_map<pid_t, AuditToken> tokens_;

  mutable std::mutex protection_mu_;
  std::vector<std::string> protection_lines_;

  mutable std::mutex mutes_mu_;  // also guards tails_
  std::vector<MuteRecord> mutes_;
  std::list<TailSession*> tails_;

  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace ward::daemon
