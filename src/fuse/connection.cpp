#include "fuse/connection.h"

#include <signal.h>

#include <algorithm>

#include "transport/socket.h"

namespace ninep::fuse {
namespace {

// Threads of the mount must not take SIGINT/SIGTERM/SIGHUP: the thread that waits for them is
// the one that unmounts cleanly. New threads inherit the mask of their creator.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

}  // namespace

Result<Connection::Snapshot> Connection::dial_and_attach(std::uint64_t generation) const {
  SignalsBlocked blocked;  // for the session's reader thread
  std::string where = opts_.address.to_string();
  auto conn = transport::dial(opts_.address);
  if (!conn) return fail(conn.error().code, where + ": " + conn.error().message);
  auto session = client::Session::start(std::move(*conn), opts_.session);
  if (!session) {
    return fail(session.error().code,
                where + ": version negotiation failed" +
                    (session.error().message.empty() ? "" : ": " + session.error().message));
  }
  auto root = (*session)->attach(opts_.uname, opts_.aname, opts_.n_uname);
  if (!root) {
    return fail(root.error().code,
                where + ": attach to '" + opts_.aname + "' as '" + opts_.uname + "' refused" +
                    (root.error().message.empty() ? "" : ": " + root.error().message));
  }
  return Snapshot{std::make_shared<client::Fid>(std::move(*root)), generation};
}

Result<std::unique_ptr<Connection>> Connection::open(const ConnectionOptions& opts) {
  std::unique_ptr<Connection> c(new Connection(opts));
  auto snap = c->dial_and_attach(1);
  if (!snap) return std::unexpected(snap.error());
  c->current_ = std::move(*snap);
  return c;
}

Connection::~Connection() {
  shutdown();
  if (reconnector_.joinable()) reconnector_.join();
}

Connection::Snapshot Connection::current() const {
  std::lock_guard lk(mu_);
  return current_;
}

std::uint32_t Connection::msize() const {
  auto s = current();
  return s.root ? s.root->session().msize() : 0;
}

client::SessionStats Connection::stats() const {
  auto s = current();
  return s.root ? s.root->session().stats() : client::SessionStats{};
}

void Connection::shutdown() {
  Snapshot old;
  {
    std::lock_guard lk(mu_);
    shut_down_ = true;
    old = current_;
  }
  cv_.notify_all();
  if (old.root) old.root->session().shutdown();
}

bool Connection::await_reconnect(std::uint64_t failed, const std::function<bool()>& interrupted) {
  if (!opts_.reconnect) return false;
  std::unique_lock lk(mu_);
  if (shut_down_) return false;
  if (current_.generation == failed && !reconnecting_) {
    reconnecting_ = true;
    if (reconnector_.joinable()) {
      lk.unlock();
      reconnector_.join();
      lk.lock();
    }
    SignalsBlocked blocked;
    reconnector_ = std::thread([this] { reconnect_loop(); });
  }
  auto deadline = std::chrono::steady_clock::now() + opts_.reconnect_wait;
  while (current_.generation == failed && !shut_down_) {
    if (interrupted && interrupted()) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    cv_.wait_for(lk, std::chrono::milliseconds(100));
  }
  return !shut_down_ && current_.generation != failed;
}

void Connection::reconnect_loop() {
  auto delay = std::chrono::milliseconds(50);
  std::uint64_t next;
  {
    std::lock_guard lk(mu_);
    next = current_.generation + 1;
    // Make sure the old session is closed even if only some requests noticed.
    if (current_.root) current_.root->session().shutdown();
  }
  for (;;) {
    {
      std::unique_lock lk(mu_);
      if (shut_down_) {
        reconnecting_ = false;
        return;
      }
    }
    auto snap = dial_and_attach(next);
    std::unique_lock lk(mu_);
    if (snap) {
      if (shut_down_) {
        snap->root->session().shutdown();
        reconnecting_ = false;
        return;
      }
      current_ = std::move(*snap);
      reconnecting_ = false;
      reconnects_.fetch_add(1);
      lk.unlock();
      cv_.notify_all();
      return;
    }
    cv_.wait_for(lk, delay, [this] { return shut_down_; });
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace ninep::fuse
