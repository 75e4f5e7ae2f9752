// systemd's side of a service's sockets: the descriptors it passes (socket activation,
// LISTEN_FDS) and the state messages it reads (sd_notify, NOTIFY_SOCKET).
#pragma once

#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace ninep::transport {

struct ActivatedSockets {
  std::vector<UniqueFd> listening;  // listening stream sockets: adopt them (Listener::adopt)
  std::vector<UniqueFd> connected;  // connected stream sockets (Accept=yes): serve them
};

// Takes every descriptor systemd passed to this process (none without LISTEN_FDS). EINVAL when
// one is not a stream socket; every descriptor is closed then.
Result<ActivatedSockets> take_activated_sockets();

// Tells the service manager `state` (e.g. "READY=1"); nothing without NOTIFY_SOCKET.
void notify_service_manager(std::string_view state);

}  // namespace ninep::transport
