// The readiness protocol of a mount that detaches (`ninep mount --daemon`, client9p): the
// command forks a detached process that mounts and serves, and returns only once that process
// says the mount is usable (exit 0) or why it failed (exit 1, its message) — so a script can use
// the mount the moment the command returns.
//
// Over a pipe the detached process writes "0" once the mount is usable, or "1<message>" when it
// failed; the pipe closing with nothing written means it died before either.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string_view>

#include "common/error.h"

namespace ninep::mount {

// In the detached process: tells the parent the mount is usable, closes `fd` (which becomes -1)
// and puts stdio on /dev/null (nobody reads it any more). Nothing when `fd` is -1.
void signal_ready(int& fd);
// In the detached process: tells the parent why the mount failed. Nothing when `fd` is -1.
void signal_failure(int fd, std::string_view message);

// Reads the detached process's report until the pipe closes: success, or an error whose message
// is the process's (or says that it exited without a word).
Result<void> read_readiness(int fd);

// Forks a detached process (its own session, cwd "/") that runs `body(ready_fd)` and exits with
// what it returns; `body` calls signal_ready or signal_failure on ready_fd. Returns once the
// process has reported: its pid when the mount is usable, else its failure (after reaping it).
// Call it before starting threads.
Result<pid_t> run_detached(const std::function<int(int ready_fd)>& body);

}  // namespace ninep::mount
