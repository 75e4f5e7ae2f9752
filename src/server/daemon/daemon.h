// A server process's life, shared by `ninep serve` and podman's `ninep server9p`: servers with
// their listeners and inherited connections, accepted on threads, until SIGINT/SIGTERM, the exit
// of a watched process, or (with only inherited connections) their end; then a clean shutdown
// that removes the socket files.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "server/daemon/export_spec.h"
#include "server/server.h"
#include "transport/activation.h"
#include "transport/socket.h"

namespace ninep::server {

// Who may reach the listeners.
struct ListenAccess {
  std::string socket_group;  // name or number: socket files 0660 and owned by it (else 0600)
  std::vector<std::uint32_t> allow_cids, allow_uids;
};

// A Server for `exports`, each served by localfs from its host directory. Errors name the path.
// `unchecked_paths_for_tests`: localfs's containment checks off (serve --test-unchecked-paths,
// so that a test can show what the sandbox alone stops).
Result<std::unique_ptr<Server>> make_local_server(const ServerConfig& cfg,
                                                  const std::vector<ExportSpec>& exports,
                                                  bool unchecked_paths_for_tests = false);

// $XDG_RUNTIME_DIR/ninep.sock; for root /run/ninep/ninep.sock (the directory made 0700 when
// missing, refused when someone else could write it). Never a shared directory such as /tmp,
// where another user could take the name first: otherwise an error asking for an address.
Result<std::string> default_socket_path();

class Daemon {
 public:
  // Lines for the operator (warnings, the listening banner); stderr when not set.
  using Notice = std::function<void(const std::string&)>;

  // Blocks SIGINT/SIGTERM (read through a signalfd: call it before starting any thread), ignores
  // SIGPIPE, raises the open-file limit as far as allowed (every fid holds a descriptor; a
  // warning below 4096), and watches `exit_with` when given (ESRCH when it does not exist).
  static Result<std::unique_ptr<Daemon>> prepare(std::optional<pid_t> exit_with,
                                                 const ListenAccess& access, Notice notice = {});
  ~Daemon();

  // Adds a server; its listeners and connections are added with add_address().
  Server& add(std::unique_ptr<Server> server);
  // Listens on `address` for `server` (or, for fd:N, takes that connection). Warns about
  // unencrypted remote TCP and about listeners the allow lists do not cover.
  Result<void> add_address(Server& server, std::string_view address, bool allow_remote_tcp);
  // Adopts, for `server`, the sockets systemd passed by socket activation (LISTEN_PID,
  // LISTEN_FDS, LISTEN_FDNAMES): a listening socket becomes a listener (the allow lists apply as
  // for add_address()), a connected one (a unit with Accept=yes) is served as an inherited
  // connection. Returns how many were adopted: 0 when this process was not activated. The
  // variables are unset so that no child inherits them.
  Result<std::size_t> add_activated(Server& server);
  // The addresses listened on, in order.
  std::vector<std::string> listening() const;

  // Serves until a stop condition, then shuts down. Returns the exit status (0). Under a service
  // manager (NOTIFY_SOCKET set: systemd's Type=notify) it reports READY=1, with a STATUS= naming
  // the exports and addresses, once serving, and STOPPING=1 when shutting down.
  int run();
  // Makes run() return as SIGTERM would (from any thread; for tests and embedders).
  void stop();

 private:
  struct Endpoint {
    std::unique_ptr<Server> server;
    std::vector<transport::Listener> listeners;
    std::vector<UniqueFd> inherited;
  };
  explicit Daemon(Notice notice) : notice_(std::move(notice)) {}
  Endpoint& endpoint_of(Server& s);
  transport::ListenOptions listen_options(Server& server) const;
  void add_listener(Endpoint& ep, transport::Listener l);
  std::string status() const;
  void start_serving();
  void shutdown();

  Notice notice_;
  transport::ServiceManager service_manager_;
  transport::ListenOptions listen_base_;
  UniqueFd sigfd_, pidfd_, ended_;
  std::vector<Endpoint> endpoints_;
  std::vector<std::thread> acceptors_;
  std::atomic<int> inherited_live_{0};
  std::atomic<bool> stop_requested_{false};
};

}  // namespace ninep::server
