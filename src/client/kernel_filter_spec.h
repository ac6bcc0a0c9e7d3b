// The hub's clients as the kernel filter sees them (sensors/bpf/kernel_filter.h):
// their subscriptions and ES mutes, with muted audit tokens turned into the
// process instances the kernel can recognise.
#pragma once

#include <memory>
#include <vector>

#include "client/client_impl.h"
#include "process/process_tree.h"
#include "sensors/bpf/kernel_filter.h"

namespace ward::detail {

// Locks each client's mute state while reading it; the caller holds the
// hub's client list. Loop thread only (reads the process tree).
sensors::bpf::FilterSpec make_filter_spec(const std::vector<std::shared_ptr<Client::Impl>>& clients,
                                          const process::ProcessTree& tree);

}  // namespace ward::detail
