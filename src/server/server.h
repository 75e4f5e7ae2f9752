// A 9P2000.L server: a set of exports and the connections being served. It is handed connected
// byte streams (whoever accepts them — a listener, an inherited descriptor, a socketpair in a
// test) and serves each on its own thread until it ends or shutdown() is called.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "server/budget.h"
#include "server/config.h"
#include "server/log.h"

namespace ninep::server {

class Connection;

class Server {
 public:
  Server(ServerConfig cfg, std::vector<Export> exports);
  ~Server();  // shutdown()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves `stream` on a new thread; `on_close` runs on that thread once the connection has
  // ended and released everything. EAGAIN when max_connections are being served (the stream is
  // closed), ECANCELED after shutdown().
  Result<void> serve(UniqueFd stream, std::function<void()> on_close = {});
  // Serves `stream` on the calling thread until the connection ends.
  Result<void> serve_here(UniqueFd stream);
  // Stops every connection and waits until all have ended. Idempotent.
  void shutdown();
  // Reads every export's request policy file again (SIGHUP): each new policy is in force at
  // once for the requests that follow (those running keep the one they started with); a file
  // that fails to load leaves its export's policy as it was, and says why in the log.
  void reload_policies();

  std::size_t connection_count() const;
  const ServerConfig& config() const { return cfg_; }
  const std::vector<Export>& exports() const { return exports_; }
  const Log& log() const { return log_; }
  const Budget& budget() const { return budget_; }

 private:
  // A connection being served, and the thread serving it (joined by the next serve() or by
  // shutdown() once it has finished).
  struct Served {
    std::unique_ptr<Connection> conn;  // until it has ended
    std::thread thread;                // none for serve_here()
    bool finished = false;
  };
  Result<Served*> admit(UniqueFd stream);
  void run_and_retire(Served& s, const std::function<void()>& on_close);
  void reap_locked();

  const ServerConfig cfg_;
  const std::vector<Export> exports_;
  const Log log_;
  Budget budget_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::list<Served> served_;
  std::size_t running_ = 0;  // admitted and not yet retired
  std::uint64_t next_id_ = 1;
  bool shutting_down_ = false;
};

}  // namespace ninep::server
