// systemd's readiness protocol (sd_notify(3)) without libsystemd: one
// datagram to $NOTIFY_SOCKET. Does nothing when wardd is not run by systemd.
#pragma once

#include <string>

namespace ward::daemon {

// Sends `state` ("READY=1", "STOPPING=1", "RELOADING=1", "STATUS=…").
// Returns false when there is no $NOTIFY_SOCKET or the send failed.
bool notify_systemd(const std::string& state);

}  // namespace ward::daemon
