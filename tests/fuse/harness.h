// Test harness for FUSE mounts: export servers (ours or diod) on unix sockets in temporary
// directories, `ninep mount --via fuse` child processes that are always unmounted, and helpers
// to run shell commands with a time limit.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "server_process.h"
#include "temp_dir.h"

namespace ninep::testing {

// The `ninep` binary under test.
std::string ninep_binary();
// True when the binary has a `serve` sub-command (the server may not be built yet).
bool ninep_can_serve();
// True when `ninep serve --help` mentions `flag` (e.g. "--no-root-squash").
bool ninep_serve_has(const std::string& flag);

enum class ServerKind { Ours, Diod };
const char* server_name(ServerKind k);

struct ExportOptions {
  // The suite runs as root and works on files it made as root: unless a test asks for the
  // server's default (root_squash), our server gets --no-root-squash when it knows the flag.
  bool root_squash = false;
  std::vector<std::string> server_args;  // further `ninep serve` arguments (ours only)
};

// A 9P server exporting `export_dir` on a unix socket in its own temporary directory.
class ExportServer {
 public:
  static Result<std::unique_ptr<ExportServer>> start(ServerKind kind, const std::string& export_dir,
                                                     ExportOptions options = {});
  std::string address() const { return "unix:" + socket_; }
  const std::string& aname() const { return aname_; }
  ServerKind kind() const { return kind_; }
  void kill() { proc_.kill(); }
  // Starts the server again on the same socket (after kill()).
  Result<void> restart();
  std::string log() const { return proc_.log(); }

 private:
  Result<void> spawn();
  ServerKind kind_ = ServerKind::Ours;
  ExportOptions options_;
  TempDir dir_;
  std::string export_, socket_, aname_;
  ServerProcess proc_;
};

// `ninep mount --via fuse ... ADDRESS DIR` in the foreground as a child process. The destructor
// unmounts (lazily if busy) and reaps the child, killing it if it does not exit in time.
class FuseMountProcess {
 public:
  static Result<std::unique_ptr<FuseMountProcess>> start(const ExportServer& server,
                                                         const std::string& dir,
                                                         std::vector<std::string> extra = {});
  ~FuseMountProcess();
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  // Unmounts with `ninep umount` and waits for the mount process to exit. Returns the umount
  // command's output on failure.
  Result<void> unmount();
  // True while DIR is a mount point of our FUSE file system.
  bool mounted() const;
  // Waits up to `timeout` for the mount process to exit; its exit status, or ETIMEDOUT.
  Result<int> wait_exit(std::chrono::milliseconds timeout);
  std::string log() const;

 private:
  std::string dir_, log_path_;
  pid_t pid_ = -1;
};

// True when DIR is a mount point of a fuse.ninep file system (per /proc/self/mountinfo).
bool is_fuse_mounted(const std::string& dir);

struct CommandResult {
  int status = -1;     // exit code, or 128+signal
  std::string output;  // stdout and stderr
};
// Runs `sh -c command` (with `timeout` seconds as an upper bound) and captures its output.
CommandResult run_shell(const std::string& command, int timeout_seconds = 600);
// Single-quotes `s` for sh.
std::string shell_quote(const std::string& s);

// Runs `fn` in a forked child whose uids and gids are all `uid` (no supplementary groups), as a
// guest user other than root would. `fn` returns 0 or an errno; that is the result (254 when the
// child could not switch user, 255 when it died). Build strings before: the parent may have
// threads, so the child should only make system calls.
int run_as_user(uid_t uid, const std::function<int()>& fn);
// Like run_as_user: `0` when `call` (a system call's result) is not negative, else errno.
inline int errno_of(long call) {
  return call < 0 ? errno : 0;
}

// Writes `data` to `path` (creating it), or fails the current test.
void write_file(const std::string& path, const std::string& data);
std::string read_file(const std::string& path);

}  // namespace ninep::testing
