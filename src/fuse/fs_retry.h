// FileSystem::retrying and helpers shared by the operation files (not part of the API).
#pragma once

#include "fuse/filesystem.h"

namespace ninep::fuse {

template <typename T, typename F>
Result<T> FileSystem::retrying_as(fuse_req_t req, std::uint32_t uid, F&& op) {
  for (int attempt = 0;; ++attempt) {
    Connection::Snapshot snap = conn_.current(uid);
    Result<T> r = snap.root ? op(snap) : Result<T>(std::unexpected(snap.error));
    if (r || snap.alive()) return r;
    // The connection is gone. Without reconnect (or when it does not come back) the operation
    // fails at once: never leave a process waiting on a dead server.
    auto interrupted = [req] { return req != nullptr && fuse_req_interrupted(req) != 0; };
    if (attempt >= 3 || !conn_.await_reconnect(snap.generation, interrupted)) {
      if (req != nullptr && fuse_req_interrupted(req)) return fail(EINTR, "interrupted");
      return fail(EIO, "connection to the server lost");
    }
  }
}

inline OpenHandle* handle_of(const fuse_file_info* fi) {
  return reinterpret_cast<OpenHandle*>(static_cast<std::uintptr_t>(fi->fh));
}

}  // namespace ninep::fuse
