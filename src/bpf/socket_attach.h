// Installing a classic BPF program on a socket (SO_ATTACH_FILTER): what Go's bpf.Setter and
// SetBPF are for. The only function of bpf/ that touches the system.
#pragma once

#include <span>

#include "bpf/raw.h"
#include "common/error.h"

namespace ninep::bpf {

// Attaches `program` to `socket_fd` as its socket filter, replacing any previous one. The kernel
// decides; when it refuses the program (EINVAL), the message says why, as the validator sees it:
// "SO_ATTACH_FILTER on fd 5: instruction 3: division by constant 0: Invalid argument".
Result<void> attach_filter(int socket_fd, std::span<const RawInstruction> program);

// Removes the socket's filter (SO_DETACH_FILTER); ENOENT when there is none.
Result<void> detach_filter(int socket_fd);

}  // namespace ninep::bpf
