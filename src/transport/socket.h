// Dialing and listening on transport addresses, and whole-buffer I/O on stream descriptors.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <span>

#include "common/error.h"
#include "common/unique_fd.h"
#include "transport/address.h"

namespace ninep::transport {

// Connects to `addr` (for Fd: takes over the inherited descriptor). CLOEXEC set.
Result<UniqueFd> dial(const Address& addr);

struct ListenOptions {
  // TCP listeners bind loopback only unless this is set (9P has no encryption); listen() prints
  // nothing itself, callers warn.
  bool allow_remote_tcp = false;
};

// A listening socket. A unix listener removes its socket file on destruction; at creation it
// replaces a stale socket file only when nothing is listening on it (EADDRINUSE otherwise).
class Listener {
 public:
  Listener() = default;
  Listener(Listener&&) noexcept;
  Listener& operator=(Listener&&) noexcept;
  ~Listener();

  // Blocks until a connection arrives (or the listener is shut down: ECANCELED).
  Result<UniqueFd> accept();
  int fd() const { return fd_.get(); }
  const Address& address() const { return addr_; }
  // Wakes blocked accept() calls and stops accepting (safe from another thread).
  void shutdown();

 private:
  friend Result<Listener> listen(const Address&, const ListenOptions&);
  UniqueFd fd_;
  Address addr_;
  bool unlink_on_close_ = false;
  std::atomic<bool> shut_down_{false};
};

Result<Listener> listen(const Address& addr, const ListenOptions& opts = {});

// True when the address is a loopback TCP host (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(std::string_view host);

// Writes/reads all bytes, retrying on EINTR and short transfers. read_full returns ECONNRESET
// on EOF before `buf` is full.
Result<void> write_all(int fd, std::span<const std::uint8_t> buf);
Result<void> writev_all(int fd, std::span<iovec> iov);  // iov is modified
Result<void> read_full(int fd, std::span<std::uint8_t> buf);

}  // namespace ninep::transport
