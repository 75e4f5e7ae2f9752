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

// The service manager's notification socket ($NOTIFY_SOCKET), connected when made, so that
// states can still be sent once the process's root no longer contains its path (the server's
// sandbox). Without NOTIFY_SOCKET, notify() does nothing.
class ServiceManager {
 public:
  static ServiceManager connect();
  // Tells the service manager `state` (e.g. "READY=1").
  void notify(std::string_view state) const;

 private:
  UniqueFd fd_;
  bool other_form_ = false;  // an address form not connected here (vsock:): sd_notify() sends
};

}  // namespace ninep::transport
