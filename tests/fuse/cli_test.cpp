// `ninep mount` / `ninep umount` / `ninep client9p` from the command line: one-line errors with
// exit codes, --daemon readiness, and clean unmounting on SIGTERM/SIGINT.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "mounted_fixture.h"

namespace ninep::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0)
      GTEST_SKIP() << "needs root and /dev/fuse";
    kind_ = ninep_can_serve() ? ServerKind::Ours : ServerKind::Diod;
    if (kind_ == ServerKind::Diod && find_program("diod").empty())
      GTEST_SKIP() << "neither `ninep serve` nor diod is available";
    auto t = TempDir::create("ninep-fuse-cli-");
    ASSERT_TRUE(t);
    tmp_ = std::move(*t);
    export_ = tmp_ / "export";
    mnt_ = tmp_ / "mnt";
    ASSERT_EQ(::mkdir(export_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(mnt_.c_str(), 0755), 0);
    write_file(export_ + "/hello", "hello");
    auto s = ExportServer::start(kind_, export_);
    ASSERT_TRUE(s) << s.error().to_string();
    server_ = std::move(*s);
  }
  void TearDown() override {
    if (!mnt_.empty() && is_fuse_mounted(mnt_))
      run_shell(shell_quote(ninep_binary()) + " umount -l " + shell_quote(mnt_));
    server_.reset();
  }

  CommandResult ninep(const std::string& args) {
    return run_shell(shell_quote(ninep_binary()) + " " + args, 60);
  }
  std::string mount_args() const {
    return "--via fuse --aname " + shell_quote(server_->aname()) + " " + server_->address();
  }

  ServerKind kind_ = ServerKind::Ours;
  TempDir tmp_;
  std::string export_, mnt_;
  std::unique_ptr<ExportServer> server_;
};

// Pids of live processes whose command line is `... mount ... DIR`.
std::vector<pid_t> mount_processes(const std::string& dir) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  while (dirent* e = proc ? ::readdir(proc) : nullptr) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::string cmd = read_file("/proc/" + std::string(e->d_name) + "/cmdline");
    std::vector<std::string> args;
    for (std::size_t p = 0; p < cmd.size(); p += args.back().size() + 1)
      args.emplace_back(cmd.c_str() + p);
    if (args.size() >= 3 && args[1] == "mount" && args.back() == dir) out.push_back(pid);
  }
  if (proc) ::closedir(proc);
  return out;
}

int count_lines(const std::string& s) {
  return int(std::count(s.begin(), s.end(), '\n'));
}

TEST_F(CliTest, MountPointErrors) {
  auto r = ninep("mount " + mount_args() + " " + shell_quote(tmp_ / "missing"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("missing: No such file or directory"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
  r = ninep("mount " + mount_args() + " " + shell_quote(export_ + "/hello"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("hello: Not a directory"), std::string::npos) << r.output;
}

TEST_F(CliTest, ServerErrors) {
  auto r =
      ninep("mount --via fuse unix:" + shell_quote(tmp_ / "nobody.sock") + " " + shell_quote(mnt_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("nobody.sock"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
  r = ninep("mount --via fuse --aname /no/such/export " + server_->address() + " " +
            shell_quote(mnt_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("attach"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
  EXPECT_FALSE(is_fuse_mounted(mnt_));
  r = ninep("mount --via fuse bogus:address " + shell_quote(mnt_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("bogus"), std::string::npos) << r.output;
  // podman's client9p: vsock to the host (CID 2), which does not exist here.
  r = ninep("client9p 5640 " + shell_quote(mnt_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("vsock:2:5640"), std::string::npos) << r.output;
}

TEST_F(CliTest, UsageErrors) {
  EXPECT_EQ(ninep("mount").status, 2);
  EXPECT_EQ(ninep("mount --via floppy unix:/x /tmp").status, 2);
  EXPECT_EQ(ninep("mount --cache bogus unix:/x /tmp").status, 2);
  EXPECT_EQ(ninep("umount").status, 2);
  EXPECT_EQ(ninep("mount --help").status, 0);
  auto r = ninep("umount " + shell_quote(mnt_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("not mounted"), std::string::npos) << r.output;
}

TEST_F(CliTest, DaemonReturnsOnceUsableAndUmountEndsIt) {
  auto r = ninep("mount --daemon " + mount_args() + " " + shell_quote(mnt_));
  ASSERT_EQ(r.status, 0) << r.output;
  // Usable the moment the command returned.
  EXPECT_EQ(read_file(mnt_ + "/hello"), "hello");
  r = ninep("mount " + mount_args() + " " + shell_quote(mnt_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("already mounted"), std::string::npos) << r.output;
  r = ninep("umount " + shell_quote(mnt_));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(is_fuse_mounted(mnt_));
  // The daemon is gone: no live process runs `ninep mount ... DIR` any more.
  bool found = true;
  for (int i = 0; i < 200 && found; ++i) {
    found = !mount_processes(mnt_).empty();
    if (found) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_FALSE(found);
  // A failing daemon mount reports the error and exit code from the parent.
  r = ninep("mount --daemon --via fuse --aname /no/such " + server_->address() + " " +
            shell_quote(mnt_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("attach"), std::string::npos) << r.output;
}

TEST_F(CliTest, SignalsUnmountCleanly) {
  for (int sig : {SIGTERM, SIGINT}) {
    auto m = FuseMountProcess::start(*server_, mnt_);
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_EQ(read_file(mnt_ + "/hello"), "hello");
    ::kill((*m)->pid(), sig);
    auto rc = (*m)->wait_exit(std::chrono::seconds(10));
    ASSERT_TRUE(rc) << "mount process did not exit on signal " << sig;
    EXPECT_EQ(*rc, 0) << (*m)->log();
    EXPECT_FALSE(is_fuse_mounted(mnt_));
  }
}

TEST_F(CliTest, SigtermWithABusyMountStillEnds) {
  auto m = FuseMountProcess::start(*server_, mnt_);
  ASSERT_TRUE(m) << m.error().to_string();
  // A process keeps a file open and its working directory on the mount.
  pid_t busy = ::fork();
  if (busy == 0) {
    if (::chdir(mnt_.c_str()) != 0) ::_exit(1);
    int fd = ::open("hello", O_RDONLY);
    (void)fd;
    ::pause();
    ::_exit(0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill((*m)->pid(), SIGTERM);
  auto rc = (*m)->wait_exit(std::chrono::seconds(10));
  EXPECT_TRUE(rc) << "mount process did not exit with a busy mount";
  EXPECT_FALSE(is_fuse_mounted(mnt_));
  ::kill(busy, SIGKILL);
  int status;
  ::waitpid(busy, &status, 0);
}

}  // namespace
}  // namespace ninep::testing
