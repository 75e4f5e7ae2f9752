// Conversions between 9P2000.L values and what the kernel's FUSE interface expects.
#pragma once

#include <sys/stat.h>

#include <cstdint>

#include "client/types.h"
#include "common/error.h"

namespace ninep::fuse {

// struct stat from Rgetattr (st_ino is qid.path: stable and unique on the server).
struct stat to_stat(const client::Attr& a);

// Tsetattr for FUSE's setattr(to_set = FUSE_SET_ATTR_* bits).
client::SetAttr to_setattr(const struct stat& st, int to_set);

// Open flags for Tlopen: the Linux access mode and the flags a 9P server should see. Flags that
// only concern the local kernel (O_CLOEXEC, O_NOCTTY, O_NONBLOCK, O_DIRECT, ...) are dropped.
std::uint32_t to_lopen_flags(int linux_flags);

// The errno to report to the kernel for a failed operation: the server's errno when it sent one,
// EIO for a dead connection or anything that is not a plausible errno.
int to_errno(const Error& e, bool connection_alive);

}  // namespace ninep::fuse
