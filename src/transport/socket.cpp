// Dialing, listening and whole-buffer I/O for unix, tcp, vsock and inherited-fd transports.
#include "transport/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <utility>

#include "transport/socket_file.h"

namespace ninep::transport {
namespace {

constexpr int kBacklog = 128;

// Fills a sockaddr_un; a leading '@' names a Linux abstract socket.
bool is_abstract(const std::string& path) {
  return !path.empty() && path[0] == '@';
}

socklen_t make_unix_addr(const std::string& path, sockaddr_un& sa) {
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  if (is_abstract(path)) sa.sun_path[0] = '\0';
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                (is_abstract(path) ? 0 : 1));
}

std::unexpected<Error> fail_at(const Address& a, std::string_view what) {
  return fail_errno(fmt::format("{} {}", what, a.to_string()));
}

Result<UniqueFd> dial_unix(const Address& a) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_at(a, "socket for");
  sockaddr_un sa;
  socklen_t len = make_unix_addr(a.path, sa);
  while (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    if (errno != EINTR) return fail_at(a, "connect to");
  }
  return fd;
}

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

Result<AddrInfoPtr> resolve(const Address& a, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  std::string port = std::to_string(a.port);
  int rc = ::getaddrinfo(a.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    int code = rc == EAI_SYSTEM ? errno : (rc == EAI_NONAME ? ENOENT : EINVAL);
    return fail(code, fmt::format("resolve {}: {}", a.to_string(), ::gai_strerror(rc)));
  }
  return AddrInfoPtr(res);
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

Result<UniqueFd> dial_tcp(const Address& a) {
  auto ai = resolve(a, false);
  if (!ai) return std::unexpected(ai.error());
  int last_errno = ECONNREFUSED;
  for (addrinfo* p = ai->get(); p; p = p->ai_next) {
    UniqueFd fd(::socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol));
    if (!fd) {
      last_errno = errno;
      continue;
    }
    int rc;
    while ((rc = ::connect(fd.get(), p->ai_addr, p->ai_addrlen)) != 0 && errno == EINTR) {
    }
    if (rc == 0) {
      set_nodelay(fd.get());
      return fd;
    }
    last_errno = errno;
  }
  errno = last_errno;
  return fail_at(a, "connect to");
}

sockaddr_vm make_vsock_addr(const Address& a) {
  sockaddr_vm sa{};
  sa.svm_family = AF_VSOCK;
  sa.svm_cid = a.cid;
  sa.svm_port = a.vport;
  return sa;
}

Result<UniqueFd> dial_vsock(const Address& a) {
  if (a.cid == VMADDR_CID_ANY)
    return fail(EINVAL,
                fmt::format("dial {}: a CID is needed to connect (vsock:CID:PORT)", a.to_string()));
  UniqueFd fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_at(a, "socket for");
  sockaddr_vm sa = make_vsock_addr(a);
  while (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (errno != EINTR) return fail_at(a, "connect to");
  }
  return fd;
}

Result<UniqueFd> adopt_fd(const Address& a) {
  int flags = ::fcntl(a.fd, F_GETFD);
  if (flags < 0) return fail_at(a, "inherited descriptor");
  ::fcntl(a.fd, F_SETFD, flags | FD_CLOEXEC);
  return UniqueFd(a.fd);
}

// A unix socket file that exists: remove it only when nobody listens on it any more.
Result<void> clear_stale_unix_socket(const Address& a) {
  struct stat st;
  if (::lstat(a.path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return fail_at(a, "stat");
  }
  if (!S_ISSOCK(st.st_mode))
    return fail(EADDRINUSE,
                fmt::format("listen on {}: the path exists and is not a socket", a.to_string()));
  auto probe = dial_unix(a);
  if (probe) {
    return fail(EADDRINUSE,
                fmt::format("listen on {}: another server is listening there", a.to_string()));
  }
  if (probe.error().code != ECONNREFUSED) return std::unexpected(probe.error());
  if (::unlink(a.path.c_str()) != 0 && errno != ENOENT) return fail_at(a, "remove stale socket");
  return {};
}

}  // namespace

Result<UniqueFd> dial(const Address& addr) {
  switch (addr.kind) {
    case Address::Kind::Unix:
      return dial_unix(addr);
    case Address::Kind::Tcp:
      return dial_tcp(addr);
    case Address::Kind::Vsock:
      return dial_vsock(addr);
    case Address::Kind::Fd:
      return adopt_fd(addr);
  }
  return fail(EINVAL, "dial: bad address kind");
}

bool is_loopback_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host == "localhost.localdomain" || host == "ip6-localhost")
    return true;
  std::string h(host);
  in_addr v4;
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;
}

Listener::Listener(Listener&& o) noexcept
    : fd_(std::move(o.fd_)),
      addr_(std::move(o.addr_)),
      socket_dir_(std::move(o.socket_dir_)),
      socket_name_(std::move(o.socket_name_)),
      filter_(std::move(o.filter_)),
      on_refused_(std::move(o.on_refused_)),
      reserve_(std::move(o.reserve_)),
      shut_down_(o.shut_down_.load()) {}

Listener& Listener::operator=(Listener&& o) noexcept {
  if (this != &o) {
    this->~Listener();
    new (this) Listener(std::move(o));
  }
  return *this;
}

Listener::~Listener() {
  if (socket_dir_ && fd_) ::unlinkat(socket_dir_.get(), socket_name_.c_str(), 0);
  socket_dir_.reset();
  reserve_.reset();
  fd_.reset();
}

Result<Accepted> Listener::accept_peer() {
  for (;;) {
    if (shut_down_.load()) return fail(ECANCELED, "listener shut down");
    if (!reserve_) reserve_.reset(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
    int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0 && (errno == EMFILE || errno == ENFILE) && reserve_) {
      // Out of descriptors: the reserve's slot takes the connection (accept4 holds the slot
      // while it waits for one). If the reserve cannot be taken back, that was the last
      // descriptor: refuse the connection rather than serve it with none to spare.
      const int why = errno;
      reserve_.reset();
      c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      const int accept_errno = errno;
      reserve_.reset(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
      if (c < 0) {
        errno = accept_errno;  // handled below
      } else if (!reserve_) {
        ::close(c);
        reserve_.reset(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
        if (shut_down_.load()) return fail(ECANCELED, "listener shut down");
        return fail(ECONNREFUSED, fmt::format("accept on {}: refused a connection: {}",
                                              addr_.to_string(), std::strerror(why)));
      }
    }
    if (c >= 0) {
      UniqueFd conn(c);
      if (shut_down_.load()) return fail(ECANCELED, "listener shut down");
      auto peer = describe_peer(c);
      // A peer that cannot be identified is refused when there is a filter (fail closed).
      if (!filter_.empty() && (!peer || !peer_allowed(*peer, filter_))) {
        conn.reset();
        if (on_refused_) on_refused_(peer ? *peer : Peer{});
        continue;
      }
      if (addr_.kind == Address::Kind::Tcp) set_nodelay(c);
      return Accepted{std::move(conn), peer ? std::move(*peer) : Peer{}};
    }
    if (shut_down_.load()) return fail(ECANCELED, "listener shut down");
    // Transient conditions (the peer gave up, per-process limits) must not end a server.
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    return fail_at(addr_, "accept on");
  }
}

Result<UniqueFd> Listener::accept() {
  auto a = accept_peer();
  if (!a) return std::unexpected(a.error());
  return std::move(a->fd);
}

void Listener::shutdown() {
  shut_down_.store(true);
  // On Linux, shutdown() on a listening socket wakes threads blocked in accept().
  if (fd_) ::shutdown(fd_.get(), SHUT_RDWR);
}

Result<Listener> Listener::adopt(UniqueFd fd, const ListenOptions& opts) {
  const std::string what = fmt::format("inherited socket {}", fd.get());
  int acc = 0, type = 0;
  socklen_t al = sizeof acc, tl = sizeof type;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) != 0 ||
      ::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &tl) != 0)
    return fail_errno(what);
  if (!acc || type != SOCK_STREAM) return fail(EINVAL, what + ": not a listening stream socket");
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &sl) != 0) return fail_errno(what);
  Listener l;
  switch (ss.ss_family) {
    case AF_UNIX: {
      const auto* sa = reinterpret_cast<const sockaddr_un*>(&ss);
      const std::size_t off = offsetof(sockaddr_un, sun_path);
      const std::size_t n = sl > off ? sl - off : 0;
      l.addr_.kind = Address::Kind::Unix;
      if (n > 0 && sa->sun_path[0] == '\0')
        l.addr_.path = "@" + std::string(sa->sun_path + 1, n - 1);
      else
        l.addr_.path = std::string(sa->sun_path, ::strnlen(sa->sun_path, n));
      break;
    }
    case AF_INET:
    case AF_INET6: {
      char host[INET6_ADDRSTRLEN] = {};
      l.addr_.kind = Address::Kind::Tcp;
      if (ss.ss_family == AF_INET) {
        const auto* sa = reinterpret_cast<const sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
        l.addr_.port = ntohs(sa->sin_port);
      } else {
        const auto* sa = reinterpret_cast<const sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &sa->sin6_addr, host, sizeof host);
        l.addr_.port = ntohs(sa->sin6_port);
      }
      l.addr_.host = host;
      break;
    }
    case AF_VSOCK: {
      const auto* sa = reinterpret_cast<const sockaddr_vm*>(&ss);
      l.addr_.kind = Address::Kind::Vsock;
      l.addr_.cid = sa->svm_cid;
      l.addr_.vport = sa->svm_port;
      break;
    }
    default:
      return fail(EAFNOSUPPORT, fmt::format("{}: address family {} is not unix, tcp or vsock", what,
                                            static_cast<int>(ss.ss_family)));
  }
  ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
  l.fd_ = std::move(fd);
  l.filter_ = opts.filter;
  l.on_refused_ = opts.on_refused;
  return l;
}

Result<Listener> listen(const Address& addr, const ListenOptions& opts) {
  Listener l;
  l.addr_ = addr;
  l.filter_ = opts.filter;
  l.on_refused_ = opts.on_refused;
  switch (addr.kind) {
    case Address::Kind::Unix: {
      if (!is_abstract(addr.path)) {
        if (auto r = clear_stale_unix_socket(addr); !r) return std::unexpected(r.error());
      }
      l.fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!l.fd_) return fail_at(addr, "socket for");
      if (is_abstract(addr.path)) {
        sockaddr_un sa;
        socklen_t len = make_unix_addr(addr.path, sa);
        if (::bind(l.fd_.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0)
          return fail_at(addr, "bind");
        break;
      }
      mode_t mode = opts.socket_mode != 0 ? opts.socket_mode : opts.socket_group ? 0660 : 0600;
      if (auto r =
              listen_unix_socket_file(l.fd_.get(), addr.path, mode, opts.socket_group, kBacklog);
          !r)
        return std::unexpected(r.error());
      const std::size_t slash = addr.path.rfind('/');
      const std::string dir = slash == std::string::npos ? "."
                              : slash == 0               ? "/"
                                                         : addr.path.substr(0, slash);
      l.socket_dir_.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      l.socket_name_ = addr.path.substr(slash + 1);
      break;
    }
    case Address::Kind::Tcp: {
      if (!opts.allow_remote_tcp && !is_loopback_host(addr.host))
        return fail(EPERM, fmt::format("listen on {}: not a loopback address (9P is unencrypted; "
                                       "remote TCP listening must be allowed explicitly)",
                                       addr.to_string()));
      auto ai = resolve(addr, true);
      if (!ai) return std::unexpected(ai.error());
      addrinfo* p = ai->get();
      l.fd_.reset(::socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol));
      if (!l.fd_) return fail_at(addr, "socket for");
      int one = 1;
      ::setsockopt(l.fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (::bind(l.fd_.get(), p->ai_addr, p->ai_addrlen) != 0) return fail_at(addr, "bind");
      // Report the real port when 0 (ephemeral) was asked for.
      sockaddr_storage ss{};
      socklen_t sl = sizeof ss;
      if (::getsockname(l.fd_.get(), reinterpret_cast<sockaddr*>(&ss), &sl) == 0) {
        if (ss.ss_family == AF_INET)
          l.addr_.port = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
          l.addr_.port = ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
      }
      break;
    }
    case Address::Kind::Vsock: {
      l.fd_.reset(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!l.fd_) return fail_at(addr, "socket for");
      sockaddr_vm sa = make_vsock_addr(addr);
      if (::bind(l.fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        return fail_at(addr, "bind");
      break;
    }
    case Address::Kind::Fd: {
      // An inherited descriptor can be listened on only if it already is a listening socket
      // (socket activation).
      int acc = 0;
      socklen_t al = sizeof acc;
      if (::getsockopt(addr.fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) != 0)
        return fail_at(addr, "inherited descriptor");
      if (!acc)
        return fail(EINVAL, fmt::format("listen on {}: the descriptor is not a listening socket",
                                        addr.to_string()));
      l.fd_.reset(addr.fd);
      ::fcntl(addr.fd, F_SETFD, FD_CLOEXEC);
      return l;
    }
  }
  if (::listen(l.fd_.get(), kBacklog) != 0) return fail_at(addr, "listen on");
  return l;
}

}  // namespace ninep::transport
