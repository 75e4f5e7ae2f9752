// `ninep serve`: serve host directories over 9P2000.L; and podman's `ninep server9p` form.
//
//   ninep serve [DIR] [--export NAME=PATH[,ro][,policy=FILE]]... [--listen ADDRESS]...
//   [--exit-with-pid PID] ninep server9p --serve PATH:PORT|PATH=ADDRESS ... PID
//
// Started by systemd socket activation, it serves the passed sockets (and any --listen too), and
// it reports readiness to systemd (Type=notify); see contrib/systemd/.
//
// Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM, the watched process exiting, or every
// inherited fd: connection ending), 1 for errors at start (one line naming the path or address
// and the errno text), 2 for usage errors.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "server/daemon/confinement.h"
#include "server/daemon/daemon.h"
#include "server/daemon/settings.h"
#include "transport/address.h"

namespace ninep::tool {
namespace {

void add_settings(CLI::App& app, server::Settings& o) {
  app.add_option("--msize", o.msize, "largest message size accepted (default 1M)");
  app.add_option("--threads", o.threads, "worker threads per connection (default 16)");
  app.add_option("--poll-us", o.poll_us,
                 "poll a busy connection for its next request for up to this many microseconds "
                 "before sleeping (adaptive; default 50, 0 = never)");
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
  app.add_option("--max-watches", o.max_watches,
                 "directories watched for change events per export, least recently used "
                 "dropped beyond (8192)");
  app.add_flag("--test-hooks", o.test_hooks, "tests only: requests that exercise the filter")
      ->group("");
}

// --print-seccomp: the filter as bpf_asm text, then exit.
int print_seccomp(const char* cmd, const server::ConfinementSettings& c) {
  auto mode = server::parse_seccomp_mode(c.seccomp);
  if (!mode) return usage_error(cmd, mode.error());
  auto text = server::seccomp_listing(*mode, static_cast<int>(::getpid()));
  if (!text) return start_error(cmd, text.error());
  std::fputs(text->c_str(), stdout);
  return 0;
}

void add_access(CLI::App& app, server::ListenAccess& o) {
  app.add_option("--socket-group", o.socket_group,
                 "GROUP (name or number): unix socket files are 0660 and owned by GROUP "
                 "(default 0600, owner only)");
  app.add_option("--allow-cid", o.allow_cids,
                 "vsock listeners accept only guests with this CID (repeatable)");
  app.add_option("--allow-uid", o.allow_uids,
                 "unix listeners accept only peers running as this uid (repeatable)");
}

// The sandbox, capabilities and seccomp filter a server runs with (server/daemon/confinement.h).
void add_confinement(CLI::App& app, server::ConfinementSettings& c, bool& print_filter) {
  app.add_option("--sandbox", c.sandbox,
                 "namespace: the server's root holds only the exports; chroot: chroot into the "
                 "directory holding them; none (default: namespace where the system allows it)");
  app.add_option("--seccomp", c.seccomp,
                 "what a system call the server never makes does: kill the server (default), "
                 "log it (and allow it), or none (no seccomp filter)")
      ->check(CLI::IsMember({"kill", "log", "none"}));
  app.add_flag("--print-seccomp", print_filter, "print the seccomp filter (bpf_asm text) and exit");
  app.add_flag("--test-unchecked-paths", c.unchecked_paths,
               "tests only: walks follow symlinks, unchecked (shows what the sandbox stops)")
      ->group("");
}

server::Daemon::Notice notice_for(const char* cmd) {
  return
      [cmd](const std::string& line) { std::fprintf(stderr, "ninep %s: %s\n", cmd, line.c_str()); };
}

int cmd_serve(int argc, char** argv) {
  CLI::App app{"Serve host directories over 9P2000.L"};
  app.name("ninep serve");
  std::string dir;
  std::vector<std::string> export_args, listen_args;
  std::optional<pid_t> watch;
  bool allow_remote = false;
  server::Settings settings;
  server::ListenAccess access;
  app.add_option("DIR", dir, "directory to serve (default: the current directory)");
  app.add_option("--export", export_args,
                 "NAME=PATH[,ro][,policy=FILE]: export PATH as NAME (repeatable); ro: read-only; "
                 "policy=FILE: judge every request by the cBPF request policy in FILE (bpf_asm, "
                 "tcpdump -ddd bytecode, C array or listing; checked at start, read again on "
                 "SIGHUP: a bad file keeps the old policy)");
  app.add_option("--listen", listen_args,
                 "address to listen on: unix:PATH, tcp:HOST:PORT, vsock:[CID:]PORT, fd:N "
                 "(repeatable; default: the sockets passed by systemd socket activation, "
                 "else unix:$XDG_RUNTIME_DIR/ninep.sock, for root unix:/run/ninep/ninep.sock)");
  app.add_option("--exit-with-pid", watch, "exit when process PID exits");
  app.add_flag("--allow-remote", allow_remote, "allow listening on non-loopback TCP addresses");
  add_settings(app, settings);
  add_access(app, access);
  server::ConfinementSettings confinement;
  bool print_filter = false;
  add_confinement(app, confinement, print_filter);
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  if (print_filter) return print_seccomp("serve", confinement);

  if (dir.empty() && export_args.empty()) {
    char* cwd = ::getcwd(nullptr, 0);
    if (cwd == nullptr) return start_error("serve", Error{errno, "current directory"});
    dir = cwd;
    std::free(cwd);
  }
  if (!dir.empty()) export_args.insert(export_args.begin(), dir);
  std::vector<server::ExportSpec> exports;
  for (const auto& a : export_args) {
    auto e = server::parse_export(a);
    if (!e) return usage_error("serve", e.error());
    exports.push_back(*e);
  }
  auto cfg = server::make_config(settings);
  if (!cfg) return usage_error("serve", cfg.error());
  for (const auto& l : listen_args)
    if (auto a = transport::parse_address(l); !a)
      return usage_error(
          "serve", Error{a.error().code, "bad address '" + l + "': " + a.error().to_string()});

  if (auto r = server::Confinement::check(confinement); !r) return usage_error("serve", r.error());

  auto daemon = server::Daemon::prepare(watch, access, notice_for("serve"));
  if (!daemon) return start_error("serve", daemon.error());
  std::vector<std::string> paths;
  for (const auto& e : exports) paths.push_back(e.path);
  auto confined = server::Confinement::prepare(confinement, paths, notice_for("serve"));
  if (!confined) return start_error("serve", confined.error());
  auto srv = server::make_local_server(*cfg, exports, confinement.unchecked_paths);
  if (!srv) return start_error("serve", srv.error());
  server::Server& server = (*daemon)->add(std::move(*srv));
  // Sockets passed by systemd (socket activation) are served, and so is every --listen; with
  // neither, the default socket.
  auto activated = (*daemon)->add_activated(server);
  if (!activated) return start_error("serve", activated.error());
  if (listen_args.empty() && *activated == 0) {
    auto path = server::default_socket_path();
    if (!path) return start_error("serve", path.error());
    listen_args.push_back("unix:" + *path);
  }
  for (const auto& l : listen_args)
    if (auto r = (*daemon)->add_address(server, l, allow_remote); !r)
      return start_error("serve", r.error());
  for (const auto& e : exports)
    std::fprintf(stderr, "ninep serve: exporting %s as '%s'%s%s%s\n", e.path.c_str(),
                 e.name.c_str(), e.read_only ? " (read-only)" : "",
                 e.policy_file.empty() ? "" : ", request policy ", e.policy_file.c_str());
  for (const auto& a : (*daemon)->listening())
    std::fprintf(stderr, "ninep serve: listening on %s\n  mount it with: ninep mount %s DIR\n",
                 a.c_str(), a.c_str());
  const bool all_xattrs = cfg->xattr_namespaces == server::XattrNamespaces::All;
  if (auto r = confined->lock_down(all_xattrs, settings.verbose > 0, notice_for("serve")); !r)
    return start_error("serve", r.error());
  return (*daemon)->run();
}

int cmd_server9p(int argc, char** argv) {
  CLI::App app{"Serve directories to a VM the way podman's server9p does"};
  app.name("ninep server9p");
  std::vector<std::string> serves;
  pid_t pid = 0;
  server::Settings settings;
  server::ListenAccess access;
  app.add_option("--serve", serves, "PATH:VSOCK_PORT or PATH=ADDRESS (repeatable)")->required();
  app.add_option("PID", pid, "exit when this process exits")->required();
  add_settings(app, settings);
  add_access(app, access);
  server::ConfinementSettings confinement;
  bool print_filter = false;
  add_confinement(app, confinement, print_filter);
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  if (print_filter) return print_seccomp("server9p", confinement);
  auto cfg = server::make_config(settings);
  if (!cfg) return usage_error("server9p", cfg.error());
  if (auto r = server::Confinement::check(confinement); !r)
    return usage_error("server9p", r.error());
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& s : serves) {
    auto p = server::parse_podman_serve(s);
    if (!p) return usage_error("server9p", p.error());
    pairs.push_back(*p);
  }
  auto daemon = server::Daemon::prepare(pid, access, notice_for("server9p"));
  if (!daemon) return start_error("server9p", daemon.error());
  std::vector<std::string> paths;
  for (const auto& p : pairs) paths.push_back(p.first);
  auto confined = server::Confinement::prepare(confinement, paths, notice_for("server9p"));
  if (!confined) return start_error("server9p", confined.error());
  for (const auto& [path, address] : pairs) {
    // One server per directory: each listener serves only its own directory.
    auto srv = server::make_local_server(*cfg, {server::ExportSpec{path, path, false, {}}},
                                         confinement.unchecked_paths);
    if (!srv) return start_error("server9p", srv.error());
    server::Server& server = (*daemon)->add(std::move(*srv));
    if (auto r = (*daemon)->add_address(server, address, false); !r)
      return start_error("server9p", r.error());
    std::fprintf(stderr, "ninep server9p: serving %s on %s\n", path.c_str(), address.c_str());
  }
  const bool all_xattrs = cfg->xattr_namespaces == server::XattrNamespaces::All;
  if (auto r = confined->lock_down(all_xattrs, settings.verbose > 0, notice_for("server9p")); !r)
    return start_error("server9p", r.error());
  return (*daemon)->run();
}

}  // namespace

int run_serve(int argc, char** argv) {
  return cmd_serve(argc, argv);
}
int run_server9p(int argc, char** argv) {
  return cmd_server9p(argc, argv);
}

}  // namespace ninep::tool
