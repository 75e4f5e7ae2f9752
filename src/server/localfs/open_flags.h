// Translation of 9P2000.L open flags (the Linux values, whatever the host) into host open(2)
// flags, bit by bit, with the server's policy for each.
#pragma once

#include <cstdint>

#include "common/error.h"

namespace ninep::server::localfs {

struct HostOpen {
  int flags = 0;             // for open(2), without O_CREAT/O_EXCL
  bool wants_write = false;  // write access or truncation
};

// Access mode O_RDONLY/O_WRONLY/O_RDWR (3, "no access", is EINVAL); O_TRUNC, O_APPEND,
// O_NONBLOCK, O_DSYNC, O_SYNC and O_DIRECTORY pass through. Always added: O_CLOEXEC, O_NOCTTY
// (and O_LARGEFILE where it exists). Dropped: O_CREAT and O_EXCL (Tlcreate adds its own),
// O_NOFOLLOW (nothing is ever followed, and reopening through /proc needs the magic link),
// O_DIRECT (replies are not aligned buffers), O_ASYNC (signals would go to the server),
// O_NOATIME (refused for non-owners) and any unknown bit.
Result<HostOpen> translate_open_flags(std::uint32_t p9_flags);

// Linux XATTR_CREATE/XATTR_REPLACE into the host's values.
int translate_xattr_flags(std::uint32_t p9_flags);

}  // namespace ninep::server::localfs
