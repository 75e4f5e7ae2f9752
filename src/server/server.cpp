#include "server/server.h"

#include <malloc.h>
#include <sys/resource.h>

#include <thread>

#include "server/connection.h"
#include "server/events.h"

namespace ninep::server {

namespace {

// 90% of the open-file limit: the rest is for listeners, connections, locks and the process.
std::uint64_t default_open_files() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return 1u << 20;
  return lim.rlim_cur / 10 * 9;
}

std::vector<Export> with_event_hubs(std::vector<Export> exports, const ServerConfig& cfg) {
  for (Export& e : exports)
    if (e.backend && !e.events) e.events = std::make_shared<EventHub>(*e.backend, cfg.max_watches);
  return exports;
}

}  // namespace

Server::Server(ServerConfig cfg, std::vector<Export> exports)
    : cfg_(std::move(cfg)),
      exports_(with_event_hubs(std::move(exports), cfg_)),
      log_(cfg_),
      budget_(cfg_.max_memory,
              cfg_.max_open_files != 0 ? cfg_.max_open_files : default_open_files()) {}

Server::~Server() {
  shutdown();
}

Result<Server::Served*> Server::admit(UniqueFd stream) {
  std::lock_guard lk(mu_);
  if (shutting_down_) return fail(ECANCELED, "server is shutting down");
  reap_locked();
  if (running_ >= cfg_.max_connections) {
    log_.log(LogLevel::Warn, "refusing a connection: {} connections already (the maximum)",
             running_);
    return fail(EAGAIN, "too many connections");
  }
  auto& s = served_.emplace_back();
  s.conn =
      std::make_unique<Connection>(cfg_, exports_, log_, budget_, next_id_++, std::move(stream));
  ++running_;
  return &s;
}

void Server::run_and_retire(Served& s, const std::function<void()>& on_close) {
  s.conn->run();
  std::unique_ptr<Connection> ended;
  {
    std::lock_guard lk(mu_);
    ended = std::move(s.conn);
  }
  // Destroy the connection (closing its stream) before telling anyone it ended.
  ended.reset();
  if (on_close) on_close();
  bool idle = false;
  {
    std::lock_guard lk(mu_);
    s.finished = true;
    idle = --running_ == 0;
    cv_.notify_all();
  }
#ifdef __GLIBC__
  // The last connection has ended: give the memory the connections used back to the system
  // (glibc keeps freed memory in its per-thread arenas otherwise), so that an idle server is
  // back to its baseline.
  if (idle) ::malloc_trim(0);
#endif
}

void Server::reap_locked() {
  for (auto it = served_.begin(); it != served_.end();) {
    if (!it->finished) {
      ++it;
      continue;
    }
    if (it->thread.joinable()) it->thread.join();  // it has returned or is about to
    it = served_.erase(it);
  }
}

Result<void> Server::serve(UniqueFd stream, std::function<void()> on_close) {
  auto s = admit(std::move(stream));
  if (!s) return std::unexpected(s.error());
  Served* served = *s;
  std::lock_guard lk(mu_);
  served->thread =
      std::thread([this, served, cb = std::move(on_close)] { run_and_retire(*served, cb); });
  return {};
}

Result<void> Server::serve_here(UniqueFd stream) {
  auto s = admit(std::move(stream));
  if (!s) return std::unexpected(s.error());
  run_and_retire(**s, {});
  return {};
}

void Server::shutdown() {
  std::unique_lock lk(mu_);
  shutting_down_ = true;
  for (auto& s : served_)
    if (s.conn) s.conn->stop();
  cv_.wait(lk, [this] { return running_ == 0; });
  reap_locked();
}

void Server::reload_policies() {
  for (const Export& e : exports_) {
    if (!e.policy) continue;
    if (auto r = e.policy->reload(); !r)
      log_.log(LogLevel::Error, "export '{}': policy not reloaded, the old one stays: {}", e.name,
               r.error().to_string());
    else
      log_.log(LogLevel::Warn, "export '{}': policy reloaded from {}", e.name, e.policy->path());
  }
}

std::size_t Server::connection_count() const {
  std::lock_guard lk(mu_);
  return running_;
}

}  // namespace ninep::server
