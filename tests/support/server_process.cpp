#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

extern char** environ;

namespace ninep::testing {
namespace {

bool unix_socket_accepts(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string find_program(const std::string& name) {
  std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
  dirs += ":/usr/sbin:/sbin:/usr/local/sbin";
  std::stringstream ss(dirs);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

Result<ServerProcess> ServerProcess::start(Options opts) {
  if (opts.argv.empty()) return fail(EINVAL, "no program to start");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string log = opts.log_path.empty() ? "/dev/null" : opts.log_path;
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (auto& a : opts.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    errno = rc;
    return fail_errno("spawn " + opts.argv[0]);
  }
  ServerProcess p;
  p.pid_ = pid;
  p.log_path_ = opts.log_path;
  // Polling is the only portable readiness signal a foreign server gives; it is bounded.
  auto deadline = std::chrono::steady_clock::now() + opts.ready_timeout;
  for (;;) {
    if (unix_socket_accepts(opts.socket_path)) return p;
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      p.pid_ = -1;
      return fail(ECHILD, opts.argv[0] + " exited before listening: " + p.log());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::string l = p.log();
      p.stop(SIGKILL);
      return fail(ETIMEDOUT, opts.argv[0] + " did not listen on " + opts.socket_path + ": " + l);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ServerProcess::ServerProcess(ServerProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), log_path_(std::move(o.log_path_)) {}

ServerProcess& ServerProcess::operator=(ServerProcess&& o) noexcept {
  if (this != &o) {
    stop();
    pid_ = std::exchange(o.pid_, -1);
    log_path_ = std::move(o.log_path_);
  }
  return *this;
}

ServerProcess::~ServerProcess() {
  stop();
}

void ServerProcess::stop(int sig, std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  ::kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + grace;
  int status;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  pid_ = -1;
}

std::string ServerProcess::log() const {
  if (log_path_.empty()) return {};
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ninep::testing
