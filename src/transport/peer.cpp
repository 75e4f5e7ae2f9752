// Peer identities from the kernel: SO_PEERCRED for unix sockets, getpeername() otherwise.
#include "transport/peer.h"

#include <arpa/inet.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <algorithm>

namespace ninep::transport {

std::string Peer::to_string() const {
  switch (kind) {
    case Kind::Unix:
      return fmt::format("unix pid {} uid {} gid {}", pid, uid, gid);
    case Kind::Tcp:
      if (host.find(':') != std::string::npos) return fmt::format("tcp [{}]:{}", host, port);
      return fmt::format("tcp {}:{}", host, port);
    case Kind::Vsock:
      return fmt::format("vsock {}:{}", cid, vport);
    case Kind::Other:
      break;
  }
  return "unknown peer";
}

Result<Peer> describe_peer(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  // The local address gives the family even when the peer's (an unnamed unix socket) is empty.
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return fail_errno("describe peer");
  Peer p;
  switch (ss.ss_family) {
    case AF_UNIX: {
      ucred cred{};
      socklen_t cl = sizeof cred;
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0)
        return fail_errno("describe peer: SO_PEERCRED");
      p.kind = Peer::Kind::Unix;
      p.pid = cred.pid;
      p.uid = cred.uid;
      p.gid = cred.gid;
      return p;
    }
    case AF_INET:
    case AF_INET6: {
      len = sizeof ss;
      if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return fail_errno("describe peer");
      char buf[INET6_ADDRSTRLEN] = {};
      p.kind = Peer::Kind::Tcp;
      if (ss.ss_family == AF_INET) {
        auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &sa->sin_addr, buf, sizeof buf);
        p.port = ntohs(sa->sin_port);
      } else {
        auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &sa->sin6_addr, buf, sizeof buf);
        p.port = ntohs(sa->sin6_port);
      }
      p.host = buf;
      return p;
    }
    case AF_VSOCK: {
      sockaddr_vm sv{};
      len = sizeof sv;
      if (::getpeername(fd, reinterpret_cast<sockaddr*>(&sv), &len) != 0)
        return fail_errno("describe peer");
      p.kind = Peer::Kind::Vsock;
      p.cid = sv.svm_cid;
      p.vport = sv.svm_port;
      return p;
    }
    default:
      return p;
  }
}

bool peer_allowed(const Peer& peer, const PeerFilter& filter) {
  auto in = [](const auto& list, auto v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  switch (peer.kind) {
    case Peer::Kind::Unix:
      return in(filter.allow_uids, peer.uid);
    case Peer::Kind::Vsock:
      return in(filter.allow_cids, peer.cid);
    case Peer::Kind::Tcp:
    case Peer::Kind::Other:
      break;
  }
  return true;
}

}  // namespace ninep::transport
