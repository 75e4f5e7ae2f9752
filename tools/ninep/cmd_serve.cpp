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

// 4096, 64K, 1M.
Result<std::uint32_t> parse_size(const std::string& s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return fail(EINVAL, "'" + s + "' is not a size");
  std::string_view rest(p, s.data() + s.size() - p);
  if (rest == "k" || rest == "K" || rest == "KiB")
    v <<= 10;
  else if (rest == "m" || rest == "M" || rest == "MiB")
    v <<= 20;
  else if (!rest.empty())
    return fail(EINVAL, "'" + s + "' is not a size");
  if (v > 0xFFFFFFFFull) return fail(EINVAL, "'" + s + "' is too large");
  return static_cast<std::uint32_t>(v);
}

Result<server::Squash> parse_squash(const std::string& s) {
  auto colon = s.find(':');
  server::Squash q;
  if (colon == std::string::npos) return fail(EINVAL, "--squash wants UID:GID");
  auto a = std::from_chars(s.data(), s.data() + colon, q.uid);
  auto b = std::from_chars(s.data() + colon + 1, s.data() + s.size(), q.gid);
  if (a.ec != std::errc() || a.ptr != s.data() + colon || b.ec != std::errc() ||
      b.ptr != s.data() + s.size() || colon == 0)
    return fail(EINVAL, "--squash '" + s + "': wants numeric UID:GID");
  return q;
}

std::string default_socket_path() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  struct stat st {};
  if (xdg != nullptr && *xdg != '\0' && ::stat(xdg, &st) == 0 && S_ISDIR(st.st_mode))
    return std::string(xdg) + "/ninep.sock";
  return "/tmp/ninep-" + std::to_string(::getuid()) + ".sock";
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
    transport::ListenOptions lo;
    lo.allow_remote_tcp = allow_remote;
    auto l = transport::listen(*addr, lo);
    if (!l) return std::unexpected(l.error());
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
            auto c = lp->accept();
            if (!c) {
              if (c.error().code == ECANCELED) return;
              srv->log().log(server::LogLevel::Error, "{}", c.error().to_string());
              std::this_thread::sleep_for(std::chrono::milliseconds(100));
              continue;
            }
            (void)srv->serve(std::move(*c));
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
};

struct CommonOptions {
  std::string msize = "1M";
  unsigned threads = 16;
  std::string squash;
  bool trace = false;
  int verbose = 0;
  std::uint32_t max_connections = 256, max_fids = 65536, max_requests = 1024;
};

Result<server::ServerConfig> make_config(const CommonOptions& o) {
  server::ServerConfig cfg;
  auto msize = parse_size(o.msize);
  if (!msize) return fail(EINVAL, "--msize: " + msize.error().message);
  if (*msize < 4096) return fail(EINVAL, "--msize: at least 4096");
  cfg.max_msize = *msize;
  cfg.threads = std::max(1u, o.threads);
  if (!o.squash.empty()) {
    auto q = parse_squash(o.squash);
    if (!q) return std::unexpected(q.error());
    cfg.squash = *q;
  }
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
  app.add_option("--squash", o.squash, "report every file as owned by UID:GID");
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
                 "(repeatable; default a unix socket in $XDG_RUNTIME_DIR or /tmp)");
  app.add_option("--exit-with-pid", watch, "exit when process PID exits");
  app.add_flag("--allow-remote", allow_remote, "allow listening on non-loopback TCP addresses");
  add_common_options(app, common);
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
  if (default_listen) listen_args.push_back("unix:" + default_socket_path());
  for (const auto& l : listen_args) {
    if (auto a = transport::parse_address(l); !a) {
      std::fprintf(stderr, "ninep serve: bad address '%s': %s\n", l.c_str(),
                   a.error().to_string().c_str());
      return kExitUsage;
    }
  }

  Runner runner("serve");
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
