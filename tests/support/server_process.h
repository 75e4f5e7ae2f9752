// A server child process for tests: started from an argv, considered ready when its unix socket
// accepts a connection, stopped (SIGTERM, then SIGKILL) on destruction. Its stdout/stderr go to
// a log file whose content is included in start errors.
#pragma once

#include <sys/types.h>

#include <csignal>

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace ninep::testing {

class ServerProcess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] is the program path
    std::string socket_path;        // ready once connect() to this unix socket succeeds
    std::string log_path;           // child's stdout+stderr ("" = /dev/null)
    std::chrono::milliseconds ready_timeout{10000};
  };

  static Result<ServerProcess> start(Options opts);
  ServerProcess() = default;
  ServerProcess(ServerProcess&& o) noexcept;
  ServerProcess& operator=(ServerProcess&& o) noexcept;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Sends `sig` and reaps the child (SIGKILL after `grace` if it has not exited).
  void stop(int sig = SIGTERM, std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
  // Kills immediately (SIGKILL) and reaps: a server dying mid-stream.
  void kill() { stop(SIGKILL); }
  // The child's log so far ("" without a log file).
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// The full path of a program found in PATH or /usr/sbin, /sbin ("" if none).
std::string find_program(const std::string& name);

}  // namespace ninep::testing
