#include "transport/activation.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
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

ServiceManager ServiceManager::connect() {
  ServiceManager m;
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return m;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof sa.sun_path) {
    m.other_form_ = true;
    return m;
  }
  std::memcpy(sa.sun_path, path, len);
  if (path[0] == '@') sa.sun_path[0] = '\0';  // the abstract namespace
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const auto salen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  if (fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), salen) == 0)
    m.fd_ = std::move(fd);
  return m;
}

void ServiceManager::notify(std::string_view state) const {
  if (fd_) {
    ssize_t n = ::send(fd_.get(), state.data(), state.size(), MSG_NOSIGNAL);
    (void)n;  // the service manager gone is not the server's problem
  } else if (other_form_) {
    ::sd_notify(0, std::string(state).c_str());
  }
}

}  // namespace ninep::transport
