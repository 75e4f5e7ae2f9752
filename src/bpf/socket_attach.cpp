#include "bpf/socket_attach.h"

#include <fmt/format.h>
#include <linux/filter.h>
#include <sys/socket.h>

#include <cerrno>
#include <limits>

#include "bpf/validate.h"

namespace ninep::bpf {

static_assert(sizeof(RawInstruction) == sizeof(sock_filter));

Result<void> attach_filter(int socket_fd, std::span<const RawInstruction> program) {
  const std::string what = fmt::format("SO_ATTACH_FILTER on fd {}", socket_fd);
  if (program.size() > std::numeric_limits<unsigned short>::max())
    return fail(EINVAL, fmt::format("{}: {} instructions, more than the kernel's {}", what,
                                    program.size(), kMaxInstructions));
  static const RawInstruction kEmpty{};
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.size());
  // The kernel reads the instructions; it wants a non-null pointer even for an empty program.
  fprog.filter = reinterpret_cast<sock_filter*>(
      const_cast<RawInstruction*>(program.empty() ? &kEmpty : program.data()));
  if (setsockopt(socket_fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) == 0) return {};
  const int error = errno;
  if (error == EINVAL) {
    if (auto why = find_rejection(program))
      return fail(error, fmt::format("{}: {}", what, why->to_string()));
  }
  return fail(error, what);
}

Result<void> detach_filter(int socket_fd) {
  int unused = 0;
  if (setsockopt(socket_fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused) == 0) return {};
  return fail_errno(fmt::format("SO_DETACH_FILTER on fd {}", socket_fd));
}

}  // namespace ninep::bpf
