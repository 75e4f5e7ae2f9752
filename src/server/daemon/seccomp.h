// The server filters its own system calls: a seccomp filter, a classic BPF program built with
// src/bpf, installed on every thread (SECCOMP_FILTER_FLAG_TSYNC) just before the server starts
// serving. It allows exactly the system calls the request path and shutdown make; any other
// kills the process (or is logged). See docs/seccomp.md for what is and is not enforced.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/instruction.h"
#include "bpf/text.h"
#include "common/error.h"

namespace ninep::server {

// What a system call outside the allow-list gets: kill = SECCOMP_RET_KILL_PROCESS (the default),
// log = SECCOMP_RET_LOG (allowed, and the kernel logs it), none = no filter at all.
enum class SeccompMode { Kill, Log, None };

// "kill", "log" or "none"; EINVAL naming --seccomp otherwise.
Result<SeccompMode> parse_seccomp_mode(std::string_view text);
const char* seccomp_mode_name(SeccompMode mode);

// The filter for `mode` (Kill or Log), typed. `self` is the process's pid as the process sees
// it: tgkill() and kill() may signal only it. The program differs in builds with sanitizers,
// whose runtimes need more system calls.
Result<std::vector<bpf::Instruction>> seccomp_filter(SeccompMode mode, int self);

// The same, assembled and checked by our validator in seccomp mode (bpf::FilterKind::Seccomp).
Result<bpf::Program> seccomp_program(SeccompMode mode, int self);

// The program as bpf_asm text (what `ninep serve --print-seccomp` prints; `cbpf` reads it), with
// a comment saying what it is. For None, only a comment.
Result<std::string> seccomp_listing(SeccompMode mode, int self);

// Installs the filter for `mode` on every thread of the process (PR_SET_NO_NEW_PRIVS first).
// None installs nothing. A kernel without seccomp filters (EINVAL, ENOSYS): with Kill an error,
// the server does not start unfiltered; with Log a warning through `notice` and success.
Result<void> install_seccomp(SeccompMode mode,
                             const std::function<void(const std::string&)>& notice);

}  // namespace ninep::server
