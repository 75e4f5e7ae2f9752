// `ninep serve`: serve host directories over 9P2000.L; and podman's `ninep server9p` form.
//
//   ninep serve [DIR] [--export NAME=PATH[,ro]]... [--listen ADDRESS]... [--exit-with-pid PID]
//               [--msize N] [--threads N] [--squash UID:GID] [--trace] [-v]
//   ninep server9p --serve PATH:PORT|PATH=ADDRESS ... PID
//
// Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM, the watched process exiting, or every
// inherited fd: connection ending), 1 for errors at start (one line naming the path or address
// and the errno text), 2 for usage errors.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "command.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "server/localfs/localfs.h"
#include "server/server.h"
#include "transport/address.h"
#include "transport/socket.h"
#include "transport/socket_file.h"

namespace ninep::tool {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

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

// Below this many open files, a guest's cache of a large tree runs the server out of them.
constexpr rlim_t kFewOpenFiles = 4096;

int start_error(const char* cmd, const std::string& what) {
  std::fprintf(stderr, "ninep %s: %s\n", cmd, what.c_str());
  return kExitError;
}

struct ExportArg {
  std::string name, path;
  bool read_only = false;
};

// NAME=PATH[,ro] or PATH[,ro] (the name is then the directory's base name).
Result<ExportArg> parse_export(std::string text) {
  ExportArg e;
  if (text.size() > 3 && text.ends_with(",ro")) {
    e.read_only = true;
    text.resize(text.size() - 3);
  } else if (text.size() > 3 && text.ends_with(",rw")) {
    text.resize(text.size() - 3);
  }
  auto eq = text.find('=');
  if (eq != std::string::npos) {
    e.name = text.substr(0, eq);
    e.path = text.substr(eq + 1);
  } else {
    e.path = text;
  }
  if (e.path.empty()) return fail(EINVAL, "--export '" + text + "': empty path");
  if (eq == std::string::npos) {
    std::string p = e.path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    auto slash = p.rfind('/');
    e.name = slash == std::string::npos ? p : p.substr(slash + 1);
  }
  return e;
}

// 4096, 64K, 1M, 2G.
Result<std::uint64_t> parse_size(const std::string& s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return fail(EINVAL, "'" + s + "' is not a size");
  std::string_view rest(p, s.data() + s.size() - p);
  if (rest == "k" || rest == "K" || rest == "KiB")
    v <<= 10;
  else if (rest == "m" || rest == "M" || rest == "MiB")
    v <<= 20;
  else if (rest == "g" || rest == "G" || rest == "GiB")
    v <<= 30;
  else if (!rest.empty())
    return fail(EINVAL, "'" + s + "' is not a size");
  if (v > (std::uint64_t{1} << 50)) return fail(EINVAL, "'" + s + "' is too large");
  return v;
}

Result<server::Owner> parse_owner(const std::string& s) {
  auto colon = s.find(':');
  server::Owner q;
  if (colon == std::string::npos) return fail(EINVAL, "--report-owner wants UID:GID");
  auto a = std::from_chars(s.data(), s.data() + colon, q.uid);
  auto b = std::from_chars(s.data() + colon + 1, s.data() + s.size(), q.gid);
  if (a.ec != std::errc() || a.ptr != s.data() + colon || b.ec != std::errc() ||
      b.ptr != s.data() + s.size() || colon == 0)
    return fail(EINVAL, "--report-owner '" + s + "': wants numeric UID:GID");
  return q;
}

// $XDG_RUNTIME_DIR/ninep.sock; for root /run/ninep/ninep.sock. Never a shared directory such as
// /tmp, where another user could take the name first.
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

// Who may reach the listeners (socket file group, peer filters); shared by serve and server9p.
struct AccessOptions {
  std::string socket_group;
  std::vector<std::uint32_t> allow_cids, allow_uids;
};

void add_access_options(CLI::App& app, AccessOptions& o) {
  app.add_option("--socket-group", o.socket_group,
                 "GROUP (name or number): unix socket files are 0660 and owned by GROUP "
                 "(default 0600, owner only)");
  app.add_option("--allow-cid", o.allow_cids,
                 "vsock listeners accept only guests with this CID (repeatable)");
  app.add_option("--allow-uid", o.allow_uids,
                 "unix listeners accept only peers running as this uid (repeatable)");
}

// One server with its listeners (or inherited connections).
struct Endpoint {
  std::unique_ptr<server::Server> server;
  std::vector<transport::Listener> listeners;
  std::vector<UniqueFd> inherited;  // fd:N connections, served once started
};

// Everything a running `serve` owns, and how it ends.
class Runner {
 public:
  explicit Runner(const char* cmd) : cmd_(cmd) {}

  // Blocks SIGINT/SIGTERM (handled through a signalfd), ignores SIGPIPE, raises the descriptor
  // limit (every fid holds a descriptor).
  Result<void> prepare(std::optional<pid_t> watch) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return fail_errno("sigprocmask");
    sigfd_ = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd_) return fail_errno("signalfd");
    ::signal(SIGPIPE, SIG_IGN);
    if (rlim_t limit = raise_open_file_limit(); limit < kFewOpenFiles)
      std::fprintf(stderr,
                   "%s: warning: only %lu open files allowed (ulimit -n); every file a client "
                   "keeps in use needs one\n",
                   cmd_, static_cast<unsigned long>(limit));
    ended_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!ended_) return fail_errno("eventfd");
    if (watch) {
      long fd = ::syscall(SYS_pidfd_open, *watch, 0);
      if (fd < 0) {
        if (errno == ESRCH)
          return fail(ESRCH, "--exit-with-pid " + std::to_string(*watch) + ": no such process");
        return fail_errno("--exit-with-pid " + std::to_string(*watch));
      }
      pidfd_ = UniqueFd(static_cast<int>(fd));
    }
    return {};
  }

  // Socket file group and peer filters for the listeners opened after this.
  Result<void> set_access(const AccessOptions& a) {
    if (!a.socket_group.empty()) {
      auto g = transport::resolve_group(a.socket_group);
      if (!g) return fail(g.error().code, "--socket-group: " + g.error().message);
      listen_base_.socket_group = *g;
    }
    listen_base_.filter.allow_cids = a.allow_cids;
    listen_base_.filter.allow_uids.assign(a.allow_uids.begin(), a.allow_uids.end());
    return {};
  }

  // Parses and opens one address for `ep`.
  Result<void> add_address(Endpoint& ep, const std::string& text, bool allow_remote) {
    auto addr = transport::parse_address(text);
    if (!addr) return std::unexpected(addr.error());
    if (addr->kind == transport::Address::Kind::Fd) {
      auto fd = transport::dial(*addr);
      if (!fd) return std::unexpected(fd.error());
      ep.inherited.push_back(std::move(*fd));
      return {};
    }
    transport::ListenOptions lo = listen_base_;
    lo.allow_remote_tcp = allow_remote;
    server::Server* srv = ep.server.get();
    lo.on_refused = [srv](const transport::Peer& p) {
      srv->log().log(server::LogLevel::Warn, "refused a connection from {} (not allowed)",
                     p.to_string());
    };
    auto l = transport::listen(*addr, lo);
    if (!l) return std::unexpected(l.error());
    const auto& f = lo.filter;
    const bool unfiltered = addr->kind == transport::Address::Kind::Unix    ? f.allow_uids.empty()
                            : addr->kind == transport::Address::Kind::Vsock ? f.allow_cids.empty()
                                                                            : true;
    if (!f.empty() && unfiltered)
      std::fprintf(stderr,
                   "ninep %s: warning: %s is not restricted (--allow-uid applies to unix "
                   "listeners, --allow-cid to vsock listeners)\n",
                   cmd_, l->address().to_string().c_str());
    if (addr->kind == transport::Address::Kind::Tcp && !transport::is_loopback_host(addr->host))
      std::fprintf(stderr,
                   "ninep %s: warning: listening on %s: 9P is not encrypted, anyone who can reach "
                   "this address can use the export\n",
                   cmd_, l->address().to_string().c_str());
    ep.listeners.push_back(std::move(*l));
    return {};
  }

  // Starts accepting and serving; then waits for a signal, the watched process, or (with only
  // inherited connections) their end. Shuts everything down cleanly.
  int run(std::vector<Endpoint>& eps) {
    for (auto& ep : eps) {
      for (auto& fd : ep.inherited) {
        ++inherited_live_;
        auto r = ep.server->serve(std::move(fd), [this] {
          if (--inherited_live_ == 0) {
            std::uint64_t one = 1;
            ssize_t n = ::write(ended_.get(), &one, sizeof one);
            (void)n;
          }
        });
        if (!r) {
          --inherited_live_;
          std::fprintf(stderr, "ninep %s: %s\n", cmd_, r.error().to_string().c_str());
        }
      }
      for (auto& l : ep.listeners) {
        server::Server* srv = ep.server.get();
        transport::Listener* lp = &l;
        acceptors_.emplace_back([srv, lp] {
          for (;;) {
            auto c = lp->accept_peer();
            if (!c) {
              if (c.error().code == ECANCELED) return;
              srv->log().log(server::LogLevel::Error, "{}", c.error().to_string());
              std::this_thread::sleep_for(std::chrono::milliseconds(100));
              continue;
            }
            srv->log().log(server::LogLevel::Info, "connection from {} on {}", c->peer.to_string(),
                           lp->address().to_string());
            (void)srv->serve(std::move(c->fd));
          }
        });
        ++listening_;
      }
    }
    const bool only_inherited = listening_ == 0;
    if (only_inherited && inherited_live_ == 0) return shutdown(eps);
    for (;;) {
      pollfd p[3] = {
          {sigfd_.get(), POLLIN, 0}, {ended_.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}};
      int n = ::poll(p, pidfd_ ? 3 : 2, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      if (p[0].revents) break;
      if (pidfd_ && p[2].revents) break;
      if (p[1].revents && only_inherited && inherited_live_ == 0) break;
      if (p[1].revents) {
        std::uint64_t v;
        ssize_t r = ::read(ended_.get(), &v, sizeof v);
        (void)r;
      }
    }
    return shutdown(eps);
  }

 private:
  int shutdown(std::vector<Endpoint>& eps) {
    for (auto& ep : eps)
      for (auto& l : ep.listeners) l.shutdown();
    for (auto& t : acceptors_) t.join();
    for (auto& ep : eps) ep.server->shutdown();
    // Destroying the listeners removes their unix socket files.
    for (auto& ep : eps) ep.listeners.clear();
    return 0;
  }

  const char* cmd_;
  UniqueFd sigfd_, pidfd_, ended_;
  std::vector<std::thread> acceptors_;
  std::atomic<int> inherited_live_{0};
  int listening_ = 0;
  transport::ListenOptions listen_base_;
};

struct CommonOptions {
  std::string msize = "1M";
  unsigned threads = 16;
  std::string report_owner;
  bool no_root_squash = false, all_squash = false;
  std::uint32_t anon_uid = 65534, anon_gid = 65534;
  std::string xattr_namespaces = "user";
  std::string max_memory = "2G";
  std::uint64_t max_open_files = 0;
  bool trace = false;
  int verbose = 0;
  std::uint32_t max_connections = 256, max_fids = 65536, max_requests = 1024;
};

Result<server::ServerConfig> make_config(const CommonOptions& o) {
  server::ServerConfig cfg;
  auto msize = parse_size(o.msize);
  if (!msize) return fail(EINVAL, "--msize: " + msize.error().message);
  if (*msize < 4096) return fail(EINVAL, "--msize: at least 4096");
  if (*msize > 0xFFFFFFFFull) return fail(EINVAL, "--msize: at most 4G");
  cfg.max_msize = static_cast<std::uint32_t>(*msize);
  cfg.threads = std::max(1u, o.threads);
  if (!o.report_owner.empty()) {
    auto q = parse_owner(o.report_owner);
    if (!q) return std::unexpected(q.error());
    cfg.report_owner = *q;
  }
  if (o.no_root_squash && o.all_squash)
    return fail(EINVAL, "--no-root-squash and --all-squash contradict each other");
  cfg.identity.squash = o.all_squash       ? server::Squash::All
                        : o.no_root_squash ? server::Squash::None
                                           : server::Squash::Root;
  cfg.identity.anon_uid = o.anon_uid;
  cfg.identity.anon_gid = o.anon_gid;
  if (o.xattr_namespaces == "all")
    cfg.xattr_namespaces = server::XattrNamespaces::All;
  else if (o.xattr_namespaces != "user")
    return fail(EINVAL, "--xattr-namespaces: 'user' or 'all'");
  auto mem = parse_size(o.max_memory);
  if (!mem) return fail(EINVAL, "--max-memory: " + mem.error().message);
  cfg.max_memory = *mem;
  cfg.max_open_files = o.max_open_files;
  cfg.trace = o.trace;
  cfg.log_level = o.verbose >= 2   ? server::LogLevel::Debug
                  : o.verbose == 1 ? server::LogLevel::Info
                                   : server::LogLevel::Warn;
  cfg.max_connections = std::max(1u, o.max_connections);
  cfg.max_fids = std::max(1u, o.max_fids);
  cfg.max_outstanding = std::max(1u, o.max_requests);
  return cfg;
}

void add_common_options(CLI::App& app, CommonOptions& o) {
  app.add_option("--msize", o.msize, "largest message size accepted (default 1M)");
  app.add_option("--threads", o.threads, "worker threads per connection (default 16)");
  app.add_flag("--no-root-squash", o.no_root_squash,
               "requests from uid 0 run as root on the host (for a VM's root filesystem); by "
               "default they run as the anonymous identity (root_squash)");
  app.add_flag("--all-squash", o.all_squash, "every request runs as the anonymous identity");
  app.add_option("--anon-uid", o.anon_uid, "uid of the anonymous identity (65534, nobody)");
  app.add_option("--anon-gid", o.anon_gid, "gid of the anonymous identity (65534, nogroup)");
  app.add_option("--xattr-namespaces", o.xattr_namespaces,
                 "user: user.* and system.posix_acl_* only (default); all: also security.* and "
                 "trusted.* (the host kernel still decides)");
  app.add_option("--report-owner", o.report_owner,
                 "report every file as owned by UID:GID (what clients see, not what they may "
                 "do; chown is accepted and ignored)");
  app.add_option("--max-memory", o.max_memory,
                 "memory the server holds for all clients together: request frames, xattr "
                 "values, directory buffers (default 2G, shared fairly between connections)");
  app.add_option("--max-open-files", o.max_open_files,
                 "descriptors fids may hold, all clients together (default 90% of the open-file "
                 "limit, raised at start as far as allowed)");
  app.add_flag("--trace", o.trace, "print every request and reply to stderr");
  app.add_flag("-v,--verbose", o.verbose, "log connections (-v) and more (-vv)");
  app.add_option("--max-connections", o.max_connections, "connections served at once (256)");
  app.add_option("--max-fids", o.max_fids, "fids per connection (65536)");
  app.add_option("--max-requests", o.max_requests, "requests in flight per connection (1024)");
}

Result<std::unique_ptr<server::Server>> make_server(const server::ServerConfig& cfg,
                                                    const std::vector<ExportArg>& args) {
  std::vector<server::Export> exports;
  for (const auto& a : args) {
    server::localfs::Options lo;
    lo.read_only = a.read_only;
    auto fs = server::localfs::LocalFs::open(a.path, lo);
    if (!fs) {
      const Error& e = fs.error();
      std::string msg = e.message.empty() ? a.path : e.message;
      return fail(e.code, msg);
    }
    server::Export ex;
    ex.name = a.name;
    ex.path = a.path;
    ex.read_only = a.read_only;
    ex.backend = std::move(*fs);
    exports.push_back(std::move(ex));
  }
  return std::make_unique<server::Server>(cfg, std::move(exports));
}

int cmd_serve(int argc, char** argv) {
  CLI::App app{"Serve host directories over 9P2000.L"};
  app.name("ninep serve");
  std::string dir;
  std::vector<std::string> export_args, listen_args;
  std::optional<pid_t> watch;
  bool allow_remote = false;
  CommonOptions common;
  app.add_option("DIR", dir, "directory to serve (default: the current directory)");
  app.add_option("--export", export_args, "NAME=PATH[,ro]: export PATH as NAME (repeatable)");
  app.add_option("--listen", listen_args,
                 "address to listen on: unix:PATH, tcp:HOST:PORT, vsock:[CID:]PORT, fd:N "
                 "(repeatable; default unix:$XDG_RUNTIME_DIR/ninep.sock, for root "
                 "unix:/run/ninep/ninep.sock)");
  app.add_option("--exit-with-pid", watch, "exit when process PID exits");
  app.add_flag("--allow-remote", allow_remote, "allow listening on non-loopback TCP addresses");
  add_common_options(app, common);
  AccessOptions access;
  add_access_options(app, access);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  std::vector<ExportArg> exports;
  if (!dir.empty()) {
    auto e = parse_export(dir);
    if (!e) return start_error("serve", e.error().to_string());
    exports.push_back(*e);
  }
  for (const auto& a : export_args) {
    auto e = parse_export(a);
    if (!e) {
      std::fprintf(stderr, "ninep serve: %s\n", e.error().message.c_str());
      return kExitUsage;
    }
    exports.push_back(*e);
  }
  if (exports.empty()) {
    char* cwd = ::getcwd(nullptr, 0);
    if (cwd == nullptr)
      return start_error("serve", "current directory: " + Error{errno, {}}.to_string());
    auto e = parse_export(cwd);
    std::free(cwd);
    exports.push_back(*e);
  }
  auto cfg = make_config(common);
  if (!cfg) {
    std::fprintf(stderr, "ninep serve: %s\n", cfg.error().message.c_str());
    return kExitUsage;
  }
  const bool default_listen = listen_args.empty();
  if (default_listen) {
    auto path = default_socket_path();
    if (!path) return start_error("serve", path.error().to_string());
    listen_args.push_back("unix:" + *path);
  }
  for (const auto& l : listen_args) {
    if (auto a = transport::parse_address(l); !a) {
      std::fprintf(stderr, "ninep serve: bad address '%s': %s\n", l.c_str(),
                   a.error().to_string().c_str());
      return kExitUsage;
    }
  }

  Runner runner("serve");
  if (auto r = runner.set_access(access); !r) return start_error("serve", r.error().to_string());
  if (auto r = runner.prepare(watch); !r) return start_error("serve", r.error().to_string());
  auto srv = make_server(*cfg, exports);
  if (!srv) return start_error("serve", srv.error().to_string());
  std::vector<Endpoint> eps(1);
  eps[0].server = std::move(*srv);
  for (const auto& l : listen_args)
    if (auto r = runner.add_address(eps[0], l, allow_remote); !r)
      return start_error("serve", r.error().to_string());

  for (const auto& e : exports)
    std::fprintf(stderr, "ninep serve: exporting %s as '%s'%s\n", e.path.c_str(), e.name.c_str(),
                 e.read_only ? " (read-only)" : "");
  for (const auto& l : eps[0].listeners) {
    std::string a = l.address().to_string();
    std::fprintf(stderr, "ninep serve: listening on %s\n  mount it with: ninep mount %s DIR\n",
                 a.c_str(), a.c_str());
  }
  return runner.run(eps);
}

// podman's form: each --serve is PATH:ID (split at the last ':'; ID a vsock port number) or
// PATH=ADDRESS (any transport); one listener per directory, each serving only its directory.
Result<std::pair<std::string, std::string>> parse_serve(const std::string& v) {
  auto eq = v.rfind('=');
  if (eq != std::string::npos && eq > 0 && transport::parse_address(v.substr(eq + 1)))
    return std::pair{v.substr(0, eq), v.substr(eq + 1)};
  auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == v.size())
    return fail(EINVAL, "--serve '" + v + "': expected PATH:PORT or PATH=ADDRESS");
  std::string id = v.substr(colon + 1);
  std::uint32_t port = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), port);
  if (ec != std::errc() || p != id.data() + id.size())
    return fail(EINVAL, "--serve '" + v + "': '" + id + "' is not a vsock port number");
  return std::pair{v.substr(0, colon), "vsock:" + id};
}

int cmd_server9p(int argc, char** argv) {
  CLI::App app{"Serve directories to a VM the way podman's server9p does"};
  app.name("ninep server9p");
  std::vector<std::string> serves;
  pid_t pid = 0;
  CommonOptions common;
  app.add_option("--serve", serves, "PATH:VSOCK_PORT or PATH=ADDRESS (repeatable)")->required();
  app.add_option("PID", pid, "exit when this process exits")->required();
  add_common_options(app, common);
  AccessOptions access;
  add_access_options(app, access);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  auto cfg = make_config(common);
  if (!cfg) {
    std::fprintf(stderr, "ninep server9p: %s\n", cfg.error().message.c_str());
    return kExitUsage;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& s : serves) {
    auto p = parse_serve(s);
    if (!p) {
      std::fprintf(stderr, "ninep server9p: %s\n", p.error().message.c_str());
      return kExitUsage;
    }
    pairs.push_back(*p);
  }
  Runner runner("server9p");
  if (auto r = runner.set_access(access); !r) return start_error("server9p", r.error().to_string());
  if (auto r = runner.prepare(pid); !r) return start_error("server9p", r.error().to_string());
  std::vector<Endpoint> eps;
  for (const auto& [path, address] : pairs) {
    ExportArg e;
    e.path = path;
    e.name = path;
    auto srv = make_server(*cfg, {e});
    if (!srv) return start_error("server9p", srv.error().to_string());
    Endpoint ep;
    ep.server = std::move(*srv);
    if (auto r = runner.add_address(ep, address, false); !r)
      return start_error("server9p", r.error().to_string());
    std::fprintf(stderr, "ninep server9p: serving %s on %s\n", path.c_str(), address.c_str());
    eps.push_back(std::move(ep));
  }
  return runner.run(eps);
}

CommandRegistration reg_serve("serve", "serve host directories over 9P2000.L", &cmd_serve);
CommandRegistration reg_server9p("server9p", "podman's server9p: --serve PATH:PORT... PID",
                                 &cmd_server9p);

}  // namespace
}  // namespace ninep::tool
