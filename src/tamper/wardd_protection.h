// wardd's hook-up of self-protection: its command-line flags and what of a
// DaemonConfig is Ward's to protect. Header-only: it needs CLI11 and the
// daemon's config, which only wardd links.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include "daemon/config.h"
#include "tamper/self_protection.h"

namespace ward::tamper {

// Where the unlock token's sha256 is read from when no flag gives it.
inline constexpr const char* kDefaultUnlockHashFile = "/etc/ward/unlock.sha256";

struct WarddProtectionFlags {
  SelfProtectionOptions options;
  bool disabled = false, no_lsm = false;
  std::string unlock_hash_file = kDefaultUnlockHashFile;
};

inline void add_self_protection_options(CLI::App& app, WarddProtectionFlags& f) {
  app.add_flag("--no-self-protection", f.disabled, "Do not guard Ward's files, signals and ptrace (anti-tamper)");
  app.add_option("--protect", f.options.files, "Also protect this file or directory")->type_name("PATH");
  app.add_flag("--immutable", f.options.immutable,
               "Without the BPF LSM: also set the immutable attribute on Ward's binaries and config "
               "(no unlink/rename; cleared on unlock and clean stop)");
  app.add_option("--unlock-sha256", f.options.unlock_sha256, "sha256 (hex) of the `ward unlock` token")
      ->type_name("HEX");
  app.add_option("--unlock-sha256-file", f.unlock_hash_file, "File holding that sha256")->type_name("PATH");
  app.add_option("--unlock-socket", f.options.unlock_socket, "Socket `ward unlock` talks to")->type_name("PATH");
  app.add_option("--bpf-pin-dir", f.options.bpf_pin_dir, "bpffs directory for the tamper history (\"\" = none)")
      ->type_name("PATH");
  app.add_flag("--no-lsm", f.no_lsm, "Use the fanotify path even where the BPF LSM is available");
}

// Starts self-protection for a wardd running `config` (loaded from
// `config_path`, "" for the defaults). Before the daemon starts, so that its
// sensor report (wardd's startup line, `ward status`) names the guards.
inline Result<std::unique_ptr<SelfProtection>> start_for_wardd(WarddProtectionFlags flags,
                                                               const daemon::DaemonConfig& config,
                                                               const std::string& config_path) {
  SelfProtectionOptions o = std::move(flags.options);
  o.enabled = !flags.disabled;
  o.use_lsm = !flags.no_lsm;
  if (o.unlock_sha256.empty() && !flags.unlock_hash_file.empty()) {
    std::ifstream in(flags.unlock_hash_file);
    if (in >> o.unlock_sha256) o.files.push_back(flags.unlock_hash_file);
  }
  if (!config_path.empty()) o.files.push_back(config_path);
  if (!config.policy_file.empty()) o.agent_edited.push_back(config.policy_file);
  // Directories the agent writes: only dedicated ones (named "ward", as
  // /var/lib/ward): a log file in /tmp must not turn /tmp read-only.
  auto dedicated_dir_of = [&](const std::string& path) {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.filename() == "ward") o.agent_written.push_back(dir.string());
  };
  for (const auto& out : config.outputs) {
    if (const auto* s = std::get_if<daemon::StoreOutput>(&out.sink)) dedicated_dir_of(s->path);
    if (const auto* f = std::get_if<daemon::FileOutput>(&out.sink)) dedicated_dir_of(f->path);
    if (const auto* n = std::get_if<daemon::NatsOutput>(&out.sink)) dedicated_dir_of(n->spool_dir + "/x");
  }
  ClientOptions hub;  // the hub-wide part of the daemon's client options
  hub.backend = config.backend;
  hub.capture_env = config.capture_env;
  return SelfProtection::start(std::move(o), hub);
}

}  // namespace ward::tamper
