#include "harness.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "fuse/mount_table.h"

extern char** environ;

namespace ninep::testing {

std::string ninep_binary() {
  return NINEP_BINARY;
}

bool ninep_can_serve() {
  static int cached = -1;
  if (cached < 0) {
    auto r = run_shell(shell_quote(ninep_binary()) + " serve --help >/dev/null 2>&1", 30);
    cached = r.status == 0 ? 1 : 0;
  }
  return cached == 1;
}

bool ninep_serve_has(const std::string& flag) {
  static std::string help;
  static bool fetched = false;
  if (!fetched) {
    help = run_shell(shell_quote(ninep_binary()) + " serve --help", 30).output;
    fetched = true;
  }
  return help.find(flag) != std::string::npos;
}

const char* server_name(ServerKind k) {
  return k == ServerKind::Ours ? "ours" : "diod";
}

Result<std::unique_ptr<ExportServer>> ExportServer::start(ServerKind kind,
                                                          const std::string& export_dir,
                                                          ExportOptions options) {
  auto dir = TempDir::create("ninep-fuse-srv-");
  if (!dir) return std::unexpected(dir.error());
  std::unique_ptr<ExportServer> s(new ExportServer);
  s->kind_ = kind;
  s->options_ = std::move(options);
  s->dir_ = std::move(*dir);
  s->export_ = export_dir;
  s->socket_ = s->dir_ / "9p.sock";
  s->aname_ = kind == ServerKind::Ours ? "test" : export_dir;
  auto r = s->spawn();
  if (!r) return std::unexpected(r.error());
  return s;
}

Result<void> ExportServer::spawn() {
  ServerProcess::Options o;
  if (kind_ == ServerKind::Ours) {
    o.argv = {ninep_binary(), "serve"};
    if (!options_.root_squash && ninep_serve_has("--no-root-squash"))
      o.argv.push_back("--no-root-squash");
    o.argv.insert(o.argv.end(), options_.server_args.begin(), options_.server_args.end());
    o.argv.insert(o.argv.end(), {"--export", "test=" + export_, "--listen", "unix:" + socket_});
  } else {
    std::string diod = find_program("diod");
    if (diod.empty()) return fail(ENOENT, "diod is not installed");
    ::unlink(socket_.c_str());  // diod does not replace a stale socket
    o.argv = {diod, "-f", "-n", "-c", "/dev/null", "-e", export_, "-l", socket_, "-L", "stderr"};
  }
  o.socket_path = socket_;
  o.log_path = dir_ / "server.log";
  auto p = ServerProcess::start(std::move(o));
  if (!p) return std::unexpected(p.error());
  proc_ = std::move(*p);
  return {};
}

Result<void> ExportServer::restart() {
  proc_.kill();
  return spawn();
}

bool is_fuse_mounted(const std::string& dir) {
  auto m = fuse::find_mount(dir);
  return m && *m && fuse::is_fuse_type((*m)->fstype);
}

Result<std::unique_ptr<FuseMountProcess>> FuseMountProcess::start(const ExportServer& server,
                                                                  const std::string& dir,
                                                                  std::vector<std::string> extra) {
  std::unique_ptr<FuseMountProcess> m(new FuseMountProcess);
  m->dir_ = dir;
  m->log_path_ = dir + ".mount.log";
  std::vector<std::string> args = {ninep_binary(), "mount",   "--via",
                                   "fuse",         "--aname", server.aname()};
  for (auto& e : extra) args.push_back(std::move(e));
  args.push_back(server.address());
  args.push_back(dir);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, m->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return fail(rc, "spawn ninep mount");
  m->pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!m->mounted()) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      m->pid_ = -1;
      return fail(ECHILD, "ninep mount exited: " + m->log());
    }
    if (std::chrono::steady_clock::now() > deadline)
      return fail(ETIMEDOUT, "no mount: " + m->log());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return fail_errno("stat " + dir);
  return m;
}

bool FuseMountProcess::mounted() const {
  return is_fuse_mounted(dir_);
}

std::string FuseMountProcess::log() const {
  return read_file(log_path_);
}

Result<int> FuseMountProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > deadline) return fail(ETIMEDOUT, "mount still running");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<void> FuseMountProcess::unmount() {
  auto r = run_shell(shell_quote(ninep_binary()) + " umount " + shell_quote(dir_), 30);
  if (r.status != 0) return fail(EBUSY, "ninep umount: " + r.output);
  auto e = wait_exit(std::chrono::seconds(10));
  if (!e) return std::unexpected(e.error());
  if (*e != 0) return fail(EIO, "mount process exited with " + std::to_string(*e) + ": " + log());
  return {};
}

FuseMountProcess::~FuseMountProcess() {
  if (mounted()) run_shell(shell_quote(ninep_binary()) + " umount -l " + shell_quote(dir_), 30);
  if (!wait_exit(std::chrono::seconds(5))) {
    ::kill(pid_, SIGKILL);
    (void)wait_exit(std::chrono::seconds(5));
  }
  if (mounted()) ::umount2(dir_.c_str(), MNT_DETACH);
  ::unlink(log_path_.c_str());
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

CommandResult run_shell(const std::string& command, int timeout_seconds) {
  std::string full = "timeout -k 5 " + std::to_string(timeout_seconds) + " sh -c " +
                     shell_quote(command) + " 2>&1";
  CommandResult r;
  FILE* p = ::popen(full.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

int run_as_user(uid_t uid, const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid < 0) return 255;
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
        ::setresuid(uid, uid, uid) != 0)
      ::_exit(254);
    ::_exit(fn());
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return 255;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  ASSERT_TRUE(out.good()) << "write " << path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ninep::testing
