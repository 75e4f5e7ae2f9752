// Byte relay between a stream device the kernel cannot use for trans=fd (a virtio-serial port)
// and one end of a socketpair whose other end goes to mount(2).
#pragma once

#include <cstdint>
#include <span>

#include "common/error.h"
#include "common/unique_fd.h"

namespace ninep::mount {

// One buffer per direction, so a stalled direction never stops the other one (a single blocking
// copy loop deadlocks as soon as both peers write large messages at the same time).
struct RelayBuffers {
  std::span<std::uint8_t> a_to_b;
  std::span<std::uint8_t> b_to_a;
};

// Copies bytes both ways between `a` and `b` (both set to non-blocking) until one side reaches
// EOF (or hangs up) and what it sent has been delivered, or a transfer fails. Returns 0 on an
// orderly end, else the errno of the failing call. Allocates nothing and uses only
// async-signal-safe calls, so it may run in a child forked from a multi-threaded process.
int run_relay(int a, int b, RelayBuffers buffers);

// Forks a detached relay process (its own session, cwd "/", stdio on /dev/null, every other
// descriptor closed) that runs run_relay(device, socket_end) and exits when it ends. The relay
// is not a child of the caller, so nobody has to reap it. Both descriptors are closed here.
Result<void> spawn_relay(UniqueFd device, UniqueFd socket_end);

}  // namespace ninep::mount
