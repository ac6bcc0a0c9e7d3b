#include "client/kernel_filter_spec.h"

namespace ward::detail {

sensors::bpf::FilterSpec make_filter_spec(const std::vector<std::shared_ptr<Client::Impl>>& clients,
                                          const process::ProcessTree& tree) {
  sensors::bpf::FilterSpec spec;
  const int64_t boot_to_realtime = static_cast<int64_t>(tree.boot_to_realtime(0));
  for (const auto& c : clients) {
    sensors::bpf::FilterClient fc;
    for (const auto& info : kEventTypes)
      if (c->is_subscribed(info.type)) fc.subscribed.push_back(info.type);
    std::lock_guard lock(c->mute_mu);
    const MuteState& m = c->mutes;
    for (const auto& [pid, pidversion] : m.muted_processes()) {
      // Only the live image can have events; a stale token mutes nothing.
      ProcessPtr p = tree.find(pid);
      if (!p || p->audit_token.pidversion != pidversion) continue;
      uint64_t start = static_cast<uint64_t>(static_cast<int64_t>(p->start_time.ns) - boot_to_realtime);
      fc.processes.push_back({static_cast<uint32_t>(pid), start});
    }
    for (const auto& [path, type] : m.muted_paths()) {
      bool literal = type == MutePathType::Literal || type == MutePathType::TargetLiteral;
      bool target = type == MutePathType::TargetPrefix || type == MutePathType::TargetLiteral;
      (target ? fc.target_paths : fc.exe_paths).push_back({path, literal});
    }
    fc.invert_process = m.is_inverted(MuteInversionType::Process);
    fc.invert_exe = m.is_inverted(MuteInversionType::Path);
    fc.invert_target = m.is_inverted(MuteInversionType::TargetPath);
    spec.clients.push_back(std::move(fc));
  }
  return spec;
}

}  // namespace ward::detail
