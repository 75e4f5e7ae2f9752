#include "server/server.h"

#include <sys/resource.h>

#include <thread>

#include "server/connection.h"

namespace ninep::server {

namespace {

// 90% of the open-file limit: the rest is for listeners, connections, locks and the process.
std::uint64_t default_open_files() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return 1u << 20;
  return lim.rlim_cur / 10 * 9;
}

}  // namespace

Server::Server(ServerConfig cfg, std::vector<Export> exports)
    : cfg_(std::move(cfg)),
      exports_(std::move(exports)),
      log_(cfg_),
      budget_(cfg_.max_memory,
              cfg_.max_open_files != 0 ? cfg_.max_open_files : default_open_files()) {}

Server::~Server() {
  shutdown();
}

Result<Connection*> Server::admit(UniqueFd stream) {
  std::lock_guard lk(mu_);
  if (shutting_down_) return fail(ECANCELED, "server is shutting down");
  if (live_.size() >= cfg_.max_connections) {
    log_.log(LogLevel::Warn, "refusing a connection: {} connections already (the maximum)",
             live_.size());
    return fail(EAGAIN, "too many connections");
  }
  auto* c = new Connection(cfg_, exports_, log_, budget_, next_id_++, std::move(stream));
  live_.push_back(c);
  ++running_;
  return c;
}

void Server::retire(Connection* c, std::function<void()> on_close) {
  {
    std::lock_guard lk(mu_);
    live_.remove(c);
  }
  // Delete the connection (closing its stream) before telling anyone it ended.
  delete c;
  if (on_close) on_close();
  on_close = nullptr;
  std::lock_guard lk(mu_);
  --running_;
  cv_.notify_all();
}

Result<void> Server::serve(UniqueFd stream, std::function<void()> on_close) {
  auto c = admit(std::move(stream));
  if (!c) return std::unexpected(c.error());
  Connection* conn = *c;
  std::thread([this, conn, cb = std::move(on_close)]() mutable {
    conn->run();
    retire(conn, std::move(cb));
  }).detach();
  return {};
}

Result<void> Server::serve_here(UniqueFd stream) {
  auto c = admit(std::move(stream));
  if (!c) return std::unexpected(c.error());
  (*c)->run();
  retire(*c, {});
  return {};
}

void Server::shutdown() {
  std::unique_lock lk(mu_);
  shutting_down_ = true;
  for (Connection* c : live_) c->stop();
  cv_.wait(lk, [this] { return running_ == 0; });
}

std::size_t Server::connection_count() const {
  std::lock_guard lk(mu_);
  return live_.size();
}

}  // namespace ninep::server
