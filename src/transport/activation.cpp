#include "transport/activation.h"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

namespace ninep::transport {

Result<ActivatedSockets> take_activated_sockets() {
  char** names = nullptr;
  const int n = ::sd_listen_fds_with_names(1, &names);
  if (n < 0) return fail(-n, "socket activation (LISTEN_FDS)");
  std::vector<std::string> fdnames;
  for (int i = 0; names != nullptr && names[i] != nullptr; ++i) {
    fdnames.emplace_back(names[i]);
    std::free(names[i]);
  }
  std::free(names);
  // Every passed descriptor is ours from here: those not handed out yet close on an error.
  std::vector<UniqueFd> fds;
  for (int i = 0; i < n; ++i) fds.emplace_back(SD_LISTEN_FDS_START + i);
  ActivatedSockets out;
  for (int i = 0; i < n; ++i) {
    const int fd = fds[i].get();
    const std::string what = "socket activation: descriptor " + std::to_string(fd) +
                             (i < static_cast<int>(fdnames.size()) ? " (" + fdnames[i] + ")" : "");
    if (::sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0)
      out.listening.push_back(std::move(fds[i]));
    else if (::sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 0) > 0)
      out.connected.push_back(std::move(fds[i]));
    else
      return fail(EINVAL, what + ": not a stream socket");
  }
  return out;
}

void notify_service_manager(std::string_view state) {
  ::sd_notify(0, std::string(state).c_str());
}

}  // namespace ninep::transport
