// Unix socket files created with exact permissions: never, not even for a moment, more open
// than asked, whatever the process umask.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace ninep::transport {

// Binds the AF_UNIX socket `fd` to `path` and listens on it. The socket is bound inside a fresh
// private (0700) directory beside `path`, given `mode` and `group` there, set listening, and
// only then moved to `path` (never replacing an existing file: EADDRINUSE).
Result<void> listen_unix_socket_file(int fd, const std::string& path, mode_t mode,
                                     std::optional<gid_t> group, int backlog);

// A group by name ("kvm") or number ("107").
Result<gid_t> resolve_group(std::string_view name_or_number);

}  // namespace ninep::transport
