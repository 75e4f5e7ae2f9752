// The connection to the 9P server behind a FUSE mount: the client session and the attached root,
// and (with reconnect) re-dialing and re-attaching when the server goes away.
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

#include "client/fid.h"
#include "client/session.h"
#include "common/error.h"
#include "transport/address.h"

namespace ninep::fuse {

struct ConnectionOptions {
  transport::Address address;
  client::SessionOptions session;
  std::string uname, aname;
  std::uint32_t n_uname = 0xFFFFFFFF;
  bool reconnect = false;
  // How long an operation waits for a lost connection to come back before failing with EIO.
  std::chrono::milliseconds reconnect_wait{30000};
};

class Connection {
 public:
  // The state operations run against: the root of the current connection and its generation.
  struct Snapshot {
    std::shared_ptr<client::Fid> root;
    std::uint64_t generation = 0;
    bool alive() const { return root && root->session().connected(); }
  };

  // Dials, negotiates and attaches. Errors name the address and the step that failed.
  static Result<std::unique_ptr<Connection>> open(const ConnectionOptions& opts);
  ~Connection();

  Snapshot current() const;

  // After an operation of generation `failed` found the connection dead: true once a newer
  // generation is available (reconnect on), false when the caller should give up (reconnect off,
  // shutting down, `interrupted()` returned true, or the wait timed out).
  bool await_reconnect(std::uint64_t failed, const std::function<bool()>& interrupted);

  // Closes the connection; operations fail from now on and no reconnect is attempted.
  void shutdown();

  std::uint64_t reconnects() const { return reconnects_.load(); }
  std::uint32_t msize() const;
  client::SessionStats stats() const;

 private:
  explicit Connection(const ConnectionOptions& opts) : opts_(opts) {}
  Result<Snapshot> dial_and_attach(std::uint64_t generation) const;
  void reconnect_loop();

  ConnectionOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Snapshot current_;
  bool reconnecting_ = false;
  bool shut_down_ = false;
  std::thread reconnector_;
  std::atomic<std::uint64_t> reconnects_{0};
};

}  // namespace ninep::fuse
