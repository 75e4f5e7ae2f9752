#include "fuse/connection.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

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

std::string attach_name(std::uint32_t uid) {
  struct passwd pw {};
  struct passwd* res = nullptr;
  char buf[1024];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) return res->pw_name;
  return std::to_string(uid);
}

std::uint32_t primary_gid(std::uint32_t uid) {
  if (uid == ::geteuid()) return ::getegid();
  struct passwd pw {};
  struct passwd* res = nullptr;
  char buf[1024];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) return res->pw_gid;
  return uid;
}

Result<std::shared_ptr<client::Fid>> Connection::attach(client::Session& session,
                                                        std::uint32_t uid) const {
  std::string uname = uid == opts_.uid && !opts_.uname.empty() ? opts_.uname : attach_name(uid);
  auto root = session.attach(uname, opts_.aname, uid);
  if (!root) {
    return fail(root.error().code,
                opts_.address.to_string() + ": attach to '" + opts_.aname + "' as '" + uname +
                    "' (uid " + std::to_string(uid) + ") refused" +
                    (root.error().message.empty() ? "" : ": " + root.error().message));
  }
  return std::make_shared<client::Fid>(std::move(*root));
}

Result<void> Connection::dial_and_attach(const std::vector<std::uint32_t>& others,
                                         std::shared_ptr<client::Session>& session,
                                         Roots& roots) const {
  SignalsBlocked blocked;  // for the session's reader thread
  std::string where = opts_.address.to_string();
  auto conn = transport::dial(opts_.address);
  if (!conn) return fail(conn.error().code, where + ": " + conn.error().message);
  auto s = client::Session::start(std::move(*conn), opts_.session);
  if (!s) {
    return fail(s.error().code, where + ": version negotiation failed" +
                                    (s.error().message.empty() ? "" : ": " + s.error().message));
  }
  auto root = attach(**s, opts_.uid);
  if (!root) {
    (*s)->shutdown();
    return std::unexpected(root.error());
  }
  roots.clear();
  roots[opts_.uid] = std::move(*root);
  // Users that were attached before a reconnect: at once, so that a user the server now refuses
  // finds out at its next request rather than in the middle of one. A refusal here is retried
  // at that user's next request.
  for (std::uint32_t uid : others) {
    if (roots.count(uid)) continue;
    if (auto r = attach(**s, uid)) roots[uid] = std::move(*r);
  }
  session = std::move(*s);
  return {};
}

Result<std::unique_ptr<Connection>> Connection::open(const ConnectionOptions& opts) {
  std::unique_ptr<Connection> c(new Connection(opts));
  auto ok = c->dial_and_attach({}, c->session_, c->roots_);
  if (!ok) return std::unexpected(ok.error());
  c->generation_ = 1;
  return c;
}

Connection::~Connection() {
  shutdown();
  if (reconnector_.joinable()) reconnector_.join();
}

Connection::Snapshot Connection::current() const {
  std::lock_guard lk(mu_);
  Snapshot s;
  s.session = session_;
  s.generation = generation_;
  s.uid = opts_.uid;
  if (auto it = roots_.find(opts_.uid); it != roots_.end()) s.root = it->second;
  return s;
}

Connection::Snapshot Connection::current(std::uint32_t uid) {
  if (!opts_.per_uid) return current();
  Snapshot s;
  s.uid = uid;
  {
    std::lock_guard lk(mu_);
    s.session = session_;
    s.generation = generation_;
    if (auto it = roots_.find(uid); it != roots_.end()) {
      s.root = it->second;
      return s;
    }
  }
  // First request of this user on this connection. Two racing first requests both attach; the
  // loser's root is clunked when `mine` goes out of scope (outside the lock).
  auto mine = attach(*s.session, uid);
  if (!mine) {
    s.error = mine.error();
    return s;
  }
  std::lock_guard lk(mu_);
  if (generation_ == s.generation) {
    auto [it, inserted] = roots_.emplace(uid, *mine);
    s.root = it->second;
  } else {
    s.root = *mine;  // of a connection replaced meanwhile: the operation fails and runs again
  }
  return s;
}

std::uint32_t Connection::msize() const {
  auto s = current();
  return s.session ? s.session->msize() : 0;
}

client::SessionStats Connection::stats() const {
  auto s = current();
  return s.session ? s.session->stats() : client::SessionStats{};
}

std::size_t Connection::attached_users() const {
  std::lock_guard lk(mu_);
  return roots_.size();
}

void Connection::shutdown() {
  std::shared_ptr<client::Session> old;
  {
    std::lock_guard lk(mu_);
    shut_down_ = true;
    old = session_;
  }
  cv_.notify_all();
  if (old) old->shutdown();
}

bool Connection::may_reconnect() const {
  std::lock_guard lk(mu_);
  return opts_.reconnect && !shut_down_;
}

Result<client::EventStream> Connection::subscribe_events(std::uint64_t& generation) const {
  std::shared_ptr<client::Session> session;
  {
    std::lock_guard lk(mu_);
    session = session_;
    generation = generation_;
  }
  if (!session || !session->connected()) return fail(ENOTCONN, "not connected");
  std::string uname = opts_.uname.empty() ? attach_name(opts_.uid) : opts_.uname;
  return client::EventStream::open(session, uname, opts_.aname, opts_.uid);
}

bool Connection::await_reconnect(std::uint64_t failed, const std::function<bool()>& interrupted) {
  if (!opts_.reconnect) return false;
  std::unique_lock lk(mu_);
  if (shut_down_) return false;
  if (generation_ == failed && !reconnecting_) {
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
  while (generation_ == failed && !shut_down_) {
    if (interrupted && interrupted()) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    cv_.wait_for(lk, std::chrono::milliseconds(100));
  }
  return !shut_down_ && generation_ != failed;
}

void Connection::reconnect_loop() {
  auto delay = std::chrono::milliseconds(50);
  std::vector<std::uint32_t> users;  // every user attached before: attached again
  {
    std::lock_guard lk(mu_);
    for (const auto& [uid, root] : roots_) users.push_back(uid);
    // Make sure the old session is closed even if only some requests noticed.
    if (session_) session_->shutdown();
  }
  for (;;) {
    {
      std::unique_lock lk(mu_);
      if (shut_down_) {
        reconnecting_ = false;
        return;
      }
    }
    std::shared_ptr<client::Session> session;
    Roots roots;
    auto ok = dial_and_attach(users, session, roots);
    std::unique_lock lk(mu_);
    if (ok) {
      if (shut_down_) {
        session->shutdown();
        reconnecting_ = false;
        return;
      }
      session_ = std::move(session);
      // The old roots are released outside the lock (their clunks fail: the session is dead).
      std::swap(roots_, roots);
      ++generation_;
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
