// Reading a whole directory from a server that may be hostile: the cookie chain is followed
// until the end, but a cookie requested twice (a cycle) or more entries than the caller allows
// (a listing that never ends) is an error instead of an endless loop or unbounded memory.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "client/fid.h"
#include "client/types.h"
#include "common/error.h"

namespace ninep::client {

// Every entry of `dir` (an lopen'ed directory handle), "." and ".." included when the server
// sends them. Fails with EPROTO when the server's cookies repeat or do not advance, or when a
// reply is malformed; with E2BIG when the listing has more than `max_entries` entries.
Result<std::vector<DirEntry>> read_directory(
    const Fid& dir, std::uint64_t max_entries = std::numeric_limits<std::uint64_t>::max());

}  // namespace ninep::client
