// Dialing and listening on transport addresses. (Reading and writing connected streams: stream.h,
// included here for the whole-buffer helpers.)
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "common/error.h"
#include "common/unique_fd.h"
#include "transport/address.h"
#include "transport/peer.h"
#include "transport/stream.h"

namespace ninep::transport {

// Connects to `addr` (for Fd: takes over the inherited descriptor). CLOEXEC set.
Result<UniqueFd> dial(const Address& addr);

struct ListenOptions {
  // TCP listeners bind loopback only unless this is set (9P has no encryption); listen() prints
  // nothing itself, callers warn.
  bool allow_remote_tcp = false;
  // A unix socket file gets exactly this mode, whatever the process umask, and is never more
  // open meanwhile; 0 means 0600, or 0660 when socket_group is set.
  mode_t socket_mode = 0;
  std::optional<gid_t> socket_group{};  // the unix socket file's group
  // accept() closes and skips peers the filter refuses, telling on_refused (if set) who they were.
  PeerFilter filter{};
  std::function<void(const Peer&)> on_refused{};
};

struct Accepted {
  UniqueFd fd;
  Peer peer;  // kind Other when the kernel could not say
};

// A listening socket. A unix listener removes its socket file on destruction; at creation it
// replaces a stale socket file only when nothing is listening on it (EADDRINUSE otherwise).
class Listener {
 public:
  Listener() = default;
  Listener(Listener&&) noexcept;
  Listener& operator=(Listener&&) noexcept;
  ~Listener();

  // Blocks until an allowed connection arrives (or the listener is shut down: ECANCELED).
  //
  // Out of descriptors (EMFILE, ENFILE), a connection is not left waiting in the backlog: the
  // listener keeps one descriptor in reserve, gives it up to accept the connection, and refuses
  // it (closes it at once: ECONNREFUSED) unless the reserve can be taken back. EMFILE or ENFILE
  // only when even the reserve is gone; the caller then waits before accepting again.
  Result<UniqueFd> accept();
  // The same, with the peer's identity.
  Result<Accepted> accept_peer();
  int fd() const { return fd_.get(); }
  const Address& address() const { return addr_; }
  // Wakes blocked accept() calls and stops accepting (safe from another thread).
  void shutdown();

  // Takes over a socket that is already listening (socket activation: systemd bound it). Its
  // address is read back from the socket (unix, tcp or vsock); opts.filter and opts.on_refused
  // apply as for listen(), the rest of opts does not (who bound it decided). The socket file of
  // an adopted unix listener is left in place: it belongs to whoever bound it. EINVAL when `fd`
  // is not a listening stream socket, EAFNOSUPPORT for other address families. CLOEXEC set.
  static Result<Listener> adopt(UniqueFd fd, const ListenOptions& opts = {});

 private:
  friend Result<Listener> listen(const Address&, const ListenOptions&);
  UniqueFd fd_;
  Address addr_;
  // The socket file's directory (opened when it was made) and name, to remove it on close even
  // from a process whose root no longer contains that path (the server's sandbox).
  UniqueFd socket_dir_;
  std::string socket_name_;
  PeerFilter filter_;
  std::function<void(const Peer&)> on_refused_;
  UniqueFd reserve_;  // a duplicate of fd_, given up to accept while out of descriptors
  std::atomic<bool> shut_down_{false};
};

Result<Listener> listen(const Address& addr, const ListenOptions& opts = {});

// True when the address is a loopback TCP host (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(std::string_view host);

}  // namespace ninep::transport
