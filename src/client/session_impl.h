// Session internals shared by session.cpp and the Fid operation files.
#pragma once

#include <atomic>
#include <memory>

#include "client/connection.h"
#include "client/fid_pool.h"
#include "client/session.h"

namespace ninep::client {

struct Session::Impl {
  SessionOptions opts;
  FidPool fids;
  std::unique_ptr<Connection> conn;
  std::atomic<bool> no_unlinkat{false};
  std::atomic<bool> no_renameat{false};
};

// Connection wait parameters for CallOptions, given the session's default timeout.
inline Connection::Wait to_wait(const CallOptions& o, std::chrono::milliseconds session_default) {
  Connection::Wait w;
  w.timeout = o.timeout.count() < 0 ? session_default : o.timeout;
  w.stop = o.stop;
  return w;
}

// The reply type answering request type `t`.
inline p9::Type reply_type(p9::Type t) {
  return static_cast<p9::Type>(static_cast<std::uint8_t>(t) + 1);
}

}  // namespace ninep::client
