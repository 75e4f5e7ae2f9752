// The connection to the 9P server behind a FUSE mount: the client session, the roots attached on
// it, and (with reconnect) re-dialing and re-attaching when the server goes away.
//
// Identity: a 9P server runs each request as the user that attached the fid's tree, so a mount
// used by several guest users attaches once per user (as v9fs does with access=user): the root of
// a uid is attached on that uid's first request, and every fid used on its behalf descends from
// it. A single-identity connection maps every uid to the one it attached at start.
//
// Every connection has a generation number. Fids belong to one generation; after a reconnect the
// file system re-walks the fids it still needs by path (see InodeTable) and re-opens open files.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "client/events.h"
#include "client/fid.h"
#include "client/session.h"
#include "common/error.h"
#include "transport/address.h"

namespace ninep::fuse {

struct ConnectionOptions {
  transport::Address address;
  client::SessionOptions session;
  std::string aname;
  // The uid attached at start (the only one unless per_uid), and its Tattach uname (empty: its
  // user name, or the number when it has none).
  std::uint32_t uid = 0;
  std::string uname;
  // Attach once per uid that asks (current(uid)); otherwise every uid means `uid`.
  bool per_uid = false;
  bool reconnect = false;
  // How long an operation waits for a lost connection to come back before failing with EIO.
  std::chrono::milliseconds reconnect_wait{30000};
};

// The Tattach uname for `uid`: its user name in this system's user database, else the number.
std::string attach_name(std::uint32_t uid);
// The primary group of `uid`: this process's effective gid if it is `uid`, else the one in the
// user database, else the same number (as servers assume for users they do not know).
std::uint32_t primary_gid(std::uint32_t uid);

class Connection {
 public:
  // The state an operation runs against: the current connection and the root of the user the
  // operation runs as.
  struct Snapshot {
    std::shared_ptr<client::Session> session;
    std::shared_ptr<client::Fid> root;  // null when the attach failed: see `error`
    std::uint64_t generation = 0;
    std::uint32_t uid = 0;
    Error error;
    bool alive() const { return session && session->connected(); }
  };

  // Dials, negotiates and attaches the start uid. Errors name the address and the step that failed.
  static Result<std::unique_ptr<Connection>> open(const ConnectionOptions& opts);
  ~Connection();

  // The current connection as the start uid sees it (never attaches).
  Snapshot current() const;
  // The current connection as `uid` sees it: its root is attached on its first use (per_uid),
  // or the start uid's root is used (single identity).
  Snapshot current(std::uint32_t uid);
  bool per_uid() const { return opts_.per_uid; }
  std::uint32_t start_uid() const { return opts_.uid; }

  // After an operation of generation `failed` found the connection dead: true once a newer
  // generation is available (reconnect on), false when the caller should give up (reconnect off,
  // shutting down, `interrupted()` returned true, or the wait timed out).
  bool await_reconnect(std::uint64_t failed, const std::function<bool()>& interrupted);

  // Closes the connection; operations fail from now on and no reconnect is attempted.
  void shutdown();
  // False once no newer connection can come (reconnect off, or shut down).
  bool may_reconnect() const;

  // Subscribes to the export's change events (client::EventStream) as the start uid on the
  // current connection, whose generation goes to `generation`.
  Result<client::EventStream> subscribe_events(std::uint64_t& generation) const;

  std::uint64_t reconnects() const { return reconnects_.load(); }
  std::uint32_t msize() const;
  client::SessionStats stats() const;
  // Users with an attached root on the current connection.
  std::size_t attached_users() const;

 private:
  using Roots = std::unordered_map<std::uint32_t, std::shared_ptr<client::Fid>>;
  explicit Connection(const ConnectionOptions& opts) : opts_(opts) {}
  // Dials and negotiates; attaches the start uid and then every uid of `others`.
  Result<void> dial_and_attach(const std::vector<std::uint32_t>& others,
                               std::shared_ptr<client::Session>& session, Roots& roots) const;
  Result<std::shared_ptr<client::Fid>> attach(client::Session& session, std::uint32_t uid) const;
  void reconnect_loop();

  ConnectionOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // The current connection; replaced as a whole by a reconnect.
  std::shared_ptr<client::Session> session_;
  Roots roots_;
  std::uint64_t generation_ = 0;
  bool reconnecting_ = false;
  bool shut_down_ = false;
  std::thread reconnector_;
  std::atomic<std::uint64_t> reconnects_{0};
};

}  // namespace ninep::fuse
