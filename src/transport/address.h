// Transport addresses shared by server and client: unix:/path, tcp:HOST:PORT, vsock:CID:PORT,
// vsock:PORT (listen on any CID), fd:N (an inherited, already connected descriptor).
// Also accepted: unix:@name (Linux abstract socket), tcp:[v6addr]:PORT, and tcp:PORT (loopback,
// 127.0.0.1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace ninep::transport {

struct Address {
  enum class Kind { Unix, Tcp, Vsock, Fd };
  Kind kind = Kind::Unix;
  std::string path;         // Unix
  std::string host;         // Tcp (as written; IPv6 without brackets)
  std::uint16_t port = 0;   // Tcp
  std::uint32_t cid = 0;    // Vsock (VMADDR_CID_ANY when listening on vsock:PORT)
  std::uint32_t vport = 0;  // Vsock
  int fd = -1;              // Fd

  std::string to_string() const;  // canonical form, parseable again
};

// Parses an address; errors (EINVAL) name the bad part, e.g. "vsock: CID 'x' is not a number".
Result<Address> parse_address(std::string_view text);

}  // namespace ninep::transport
