#include "server/daemon/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "server/localfs/localfs.h"
#include "transport/activation.h"
#include "transport/address.h"
#include "transport/socket_file.h"

namespace ninep::server {
namespace {

// Below this many open files, a guest's cache of a large tree runs the server out of them.
constexpr rlim_t kFewOpenFiles = 4096;

// Raises this process's limit on open files as far as it may go (the hard limit; as root, the
// kernel's nr_open) and returns the new limit: every fid holds a descriptor, and a client keeps
// a fid for every file its kernel caches, so the usual soft limit of 1024 is soon reached.
rlim_t raise_open_file_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  rlim_t nr_open = 0;
  if (std::FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
    unsigned long v = 0;
    if (std::fscanf(f, "%lu", &v) == 1) nr_open = v;
    std::fclose(f);
  }
  if (nr_open > lim.rlim_max) {
    rlimit all{nr_open, nr_open};
    if (::setrlimit(RLIMIT_NOFILE, &all) == 0) return nr_open;  // allowed to raise the hard limit
  }
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

void signal_eventfd(int fd) {
  std::uint64_t one = 1;
  ssize_t n = ::write(fd, &one, sizeof one);
  (void)n;
}

}  // namespace

Result<std::unique_ptr<Server>> make_local_server(const ServerConfig& cfg,
                                                  const std::vector<ExportSpec>& specs,
                                                  bool unchecked_paths_for_tests) {
  std::vector<Export> exports;
  for (const auto& spec : specs) {
    localfs::Options lo;
    lo.read_only = spec.read_only;
    lo.unchecked_for_tests = unchecked_paths_for_tests;
    auto fs = localfs::LocalFs::open(spec.path, lo);
    if (!fs) {
      const Error& e = fs.error();
      return fail(e.code, e.message.empty() ? spec.path : e.message);
    }
    Export ex;
    ex.name = spec.name;
    ex.path = spec.path;
    ex.read_only = spec.read_only;
    ex.backend = std::move(*fs);
    if (!spec.policy_file.empty()) {
      auto slot = policy::PolicySlot::load(spec.policy_file);
      if (!slot)
        return fail(slot.error().code,
                    "export '" + spec.name + "': policy " + slot.error().message);
      ex.policy = std::move(*slot);
    }
    exports.push_back(std::move(ex));
  }
  return std::make_unique<Server>(cfg, std::move(exports));
}

Result<std::string> default_socket_path() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  struct stat st {};
  if (xdg != nullptr && *xdg != '\0' && ::stat(xdg, &st) == 0 && S_ISDIR(st.st_mode))
    return std::string(xdg) + "/ninep.sock";
  if (::geteuid() != 0)
    return fail(0,
                "no default socket: XDG_RUNTIME_DIR is not set (or not a directory); give an "
                "address with --listen, e.g. --listen unix:$HOME/ninep.sock");
  const std::string dir = "/run/ninep";
  const bool created = ::mkdir(dir.c_str(), 0700) == 0;
  if (!created && errno != EEXIST) return fail_errno("create " + dir);
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d || ::fstat(d.get(), &st) != 0) return fail_errno(dir);
  if (created) {
    ::fchmod(d.get(), 0700);  // mkdir's mode is masked by the umask
  } else if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
    return fail(0,
                "/run/ninep: not owned by root or writable by others; fix it or give an "
                "address with --listen");
  }
  return dir + "/ninep.sock";
}

Result<std::unique_ptr<Daemon>> Daemon::prepare(std::optional<pid_t> exit_with,
                                                const ListenAccess& access, Notice notice) {
  if (!notice) notice = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  std::unique_ptr<Daemon> d(new Daemon(std::move(notice)));
  if (!access.socket_group.empty()) {
    auto g = transport::resolve_group(access.socket_group);
    if (!g) return fail(g.error().code, "--socket-group: " + g.error().message);
    d->listen_base_.socket_group = *g;
  }
  d->listen_base_.filter.allow_cids = access.allow_cids;
  d->listen_base_.filter.allow_uids.assign(access.allow_uids.begin(), access.allow_uids.end());

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);  // reloads the exports' request policies
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return fail_errno("sigprocmask");
  d->sigfd_ = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!d->sigfd_) return fail_errno("signalfd");
  ::signal(SIGPIPE, SIG_IGN);
  if (rlim_t limit = raise_open_file_limit(); limit < kFewOpenFiles)
    d->notice_("warning: only " + std::to_string(limit) +
               " open files allowed (ulimit -n); every file a client keeps in use needs one");
  d->service_manager_ = transport::ServiceManager::connect();
  d->ended_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!d->ended_) return fail_errno("eventfd");
  if (exit_with) {
    long fd = ::syscall(SYS_pidfd_open, *exit_with, 0);
    const std::string what = "--exit-with-pid " + std::to_string(*exit_with);
    if (fd < 0) return errno == ESRCH ? fail(ESRCH, what + ": no such process") : fail_errno(what);
    d->pidfd_ = UniqueFd(static_cast<int>(fd));
  }
  return d;
}

Daemon::~Daemon() {
  shutdown();
}

Server& Daemon::add(std::unique_ptr<Server> server) {
  endpoints_.push_back(Endpoint{std::move(server), {}, {}});
  return *endpoints_.back().server;
}

Daemon::Endpoint& Daemon::endpoint_of(Server& s) {
  for (auto& ep : endpoints_)
    if (ep.server.get() == &s) return ep;
  return endpoints_.back();  // add() is the only source of servers
}

Result<void> Daemon::add_address(Server& server, std::string_view text, bool allow_remote_tcp) {
  Endpoint& ep = endpoint_of(server);
  auto addr = transport::parse_address(std::string(text));
  if (!addr) return std::unexpected(addr.error());
  using Kind = transport::Address::Kind;
  if (addr->kind == Kind::Fd) {
    auto fd = transport::dial(*addr);
    if (!fd) return std::unexpected(fd.error());
    ep.inherited.push_back(std::move(*fd));
    return {};
  }
  transport::ListenOptions lo = listen_options(server);
  lo.allow_remote_tcp = allow_remote_tcp;
  auto l = transport::listen(*addr, lo);
  if (!l) return std::unexpected(l.error());
  add_listener(ep, std::move(*l));
  return {};
}

transport::ListenOptions Daemon::listen_options(Server& server) const {
  transport::ListenOptions lo = listen_base_;
  Server* srv = &server;
  lo.on_refused = [srv](const transport::Peer& p) {
    srv->log().log(LogLevel::Warn, "refused a connection from {} (not allowed)", p.to_string());
  };
  return lo;
}

void Daemon::add_listener(Endpoint& ep, transport::Listener l) {
  using Kind = transport::Address::Kind;
  const transport::Address& addr = l.address();
  const std::string where = addr.to_string();
  const auto& f = listen_base_.filter;
  const bool covered = addr.kind == Kind::Unix    ? !f.allow_uids.empty()
                       : addr.kind == Kind::Vsock ? !f.allow_cids.empty()
                                                  : false;
  if (!f.empty() && !covered)
    notice_("warning: " + where +
            " is not restricted (--allow-uid applies to unix listeners, --allow-cid to vsock "
            "listeners)");
  if (addr.kind == Kind::Tcp && !transport::is_loopback_host(addr.host))
    notice_("warning: listening on " + where +
            ": 9P is not encrypted, anyone who can reach this address can use the export");
  ep.listeners.push_back(std::move(l));
}

Result<std::size_t> Daemon::add_activated(Server& server) {
  Endpoint& ep = endpoint_of(server);
  auto passed = transport::take_activated_sockets();
  if (!passed) return std::unexpected(passed.error());
  const std::size_t n = passed->listening.size() + passed->connected.size();
  for (auto& fd : passed->listening) {
    const std::string what = "socket activation: descriptor " + std::to_string(fd.get());
    auto l = transport::Listener::adopt(std::move(fd), listen_options(server));
    if (!l) return fail(l.error().code, what + ": " + l.error().message);
    add_listener(ep, std::move(*l));
  }
  for (auto& fd : passed->connected) ep.inherited.push_back(std::move(fd));
  return n;
}

std::string Daemon::status() const {
  std::string out;
  for (const auto& ep : endpoints_) {
    if (!out.empty()) out += "; ";
    out += "serving";
    const char* sep = " ";
    for (const auto& e : ep.server->exports()) {
      out += sep + e.path + " as '" + e.name + "'" + (e.read_only ? " (read-only)" : "");
      sep = ", ";
    }
    sep = " on ";
    for (const auto& l : ep.listeners) {
      out += sep + l.address().to_string();
      sep = ", ";
    }
    if (ep.listeners.empty()) out += " on inherited connections";
  }
  return out;
}

std::vector<std::string> Daemon::listening() const {
  std::vector<std::string> out;
  for (const auto& ep : endpoints_)
    for (const auto& l : ep.listeners) out.push_back(l.address().to_string());
  return out;
}

void Daemon::start_serving() {
  for (auto& ep : endpoints_) {
    for (auto& fd : ep.inherited) {
      ++inherited_live_;
      auto r = ep.server->serve(std::move(fd), [this] {
        if (--inherited_live_ == 0) signal_eventfd(ended_.get());
      });
      if (!r) {
        --inherited_live_;
        notice_(r.error().to_string());
      }
    }
    ep.inherited.clear();
    for (auto& l : ep.listeners) {
      Server* srv = ep.server.get();
      transport::Listener* lp = &l;
      acceptors_.emplace_back([srv, lp] {
        std::string failing;  // the error accept() repeats, logged once
        for (;;) {
          auto c = lp->accept_peer();
          if (!c) {
            if (c.error().code == ECANCELED) return;
            if (c.error().code == ECONNREFUSED) {
              // Out of descriptors: that connection was closed at once; the next may fit.
              srv->log().log(LogLevel::Warn, "{}", c.error().to_string());
              continue;
            }
            std::string what = c.error().to_string();
            if (what != failing) srv->log().log(LogLevel::Error, "{} (retrying)", what);
            failing = std::move(what);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
          }
          if (!failing.empty())
            srv->log().log(LogLevel::Warn, "accepting connections on {} again",
                           lp->address().to_string());
          failing.clear();
          srv->log().log(LogLevel::Info, "connection from {} on {}", c->peer.to_string(),
                         lp->address().to_string());
          (void)srv->serve(std::move(c->fd));
        }
      });
    }
  }
}

int Daemon::run() {
  const std::string ready = "READY=1\nSTATUS=" + status();
  start_serving();
  service_manager_.notify(ready);
  const bool only_inherited = acceptors_.empty();
  if (!(only_inherited && inherited_live_ == 0)) {
    for (;;) {
      pollfd p[3] = {
          {sigfd_.get(), POLLIN, 0}, {ended_.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}};
      int n = ::poll(p, pidfd_ ? 3 : 2, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || (pidfd_ && p[2].revents)) break;
      if (p[0].revents) {
        signalfd_siginfo si{};
        if (::read(sigfd_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si) &&
            si.ssi_signo == SIGHUP) {
          for (auto& ep : endpoints_) ep.server->reload_policies();
          continue;
        }
        break;
      }
      if (p[1].revents) {
        std::uint64_t v;
        ssize_t r = ::read(ended_.get(), &v, sizeof v);
        (void)r;
        if (stop_requested_ || (only_inherited && inherited_live_ == 0)) break;
      }
    }
  }
  service_manager_.notify("STOPPING=1");
  shutdown();
  return 0;
}

void Daemon::stop() {
  stop_requested_ = true;
  signal_eventfd(ended_.get());
}

void Daemon::shutdown() {
  for (auto& ep : endpoints_)
    for (auto& l : ep.listeners) l.shutdown();
  for (auto& t : acceptors_) t.join();
  acceptors_.clear();
  for (auto& ep : endpoints_) ep.server->shutdown();
  // Destroying the listeners removes their unix socket files.
  for (auto& ep : endpoints_) ep.listeners.clear();
}

}  // namespace ninep::server
