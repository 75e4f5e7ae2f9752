// Who is on the other end of an accepted connection, and whether a listener lets it in.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace ninep::transport {

struct Peer {
  enum class Kind { Other, Unix, Tcp, Vsock };
  Kind kind = Kind::Other;
  // Unix: the peer's credentials when it connected (SO_PEERCRED).
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  std::string host;        // Tcp: numeric address (IPv6 without brackets)
  std::uint16_t port = 0;  // Tcp
  std::uint32_t cid = 0;   // Vsock
  std::uint32_t vport = 0;

  // For logs: "unix pid 42 uid 1000 gid 1000", "tcp 127.0.0.1:51234", "tcp [::1]:51234",
  // "vsock 3:1024".
  std::string to_string() const;
};

// Describes the peer of a connected socket.
Result<Peer> describe_peer(int fd);

// Which peers a listener accepts. An empty list allows everyone; each list applies only to
// peers of its own family (a uid list does not restrict vsock peers, and so on).
struct PeerFilter {
  std::vector<std::uint32_t> allow_cids{};  // vsock peers: guest CIDs
  std::vector<uid_t> allow_uids{};          // unix peers: uids (SO_PEERCRED)

  bool empty() const { return allow_cids.empty() && allow_uids.empty(); }
};

bool peer_allowed(const Peer& peer, const PeerFilter& filter);

}  // namespace ninep::transport
