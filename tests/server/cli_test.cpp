// `ninep serve` and `ninep server9p` through the real binary: start errors, signals,
// --exit-with-pid timing, the default socket, exports selected by aname, the podman form.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/version.h"
#include "harness.h"

#ifndef NINEP_BINARY
#error "NINEP_BINARY must name the ninep program"
#endif

namespace ninep::servertest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A child process with stderr captured in a file.
class Child {
 public:
  Child(std::vector<std::string> args, const std::string& log,
        std::vector<std::string> env_extra = {}, const std::string& cwd = {})
      : log_(log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      ::dup2(fd, 2);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
      for (auto& e : env_extra) ::putenv(e.data());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // The exit code (or 128+signal), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout = 10s) {
    auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(1ms);
    }
    return -1;
  }
  std::string err() const { return read_file(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

bool can_connect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

bool wait_ready(const std::string& sock, Child& c) {
  for (int i = 0; i < 1000; ++i) {
    if (can_connect(sock)) return true;
    if (c.wait(0ms) >= 0) return false;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = testing::TempDir::create("ninep-cli-");
    ASSERT_TRUE(d);
    dir_ = std::move(*d);
    exp_ = dir_ / "export";
    ASSERT_EQ(::mkdir(exp_.c_str(), 0755), 0);
    sock_ = dir_ / "s.sock";
  }
  std::vector<std::string> serve(std::vector<std::string> extra) {
    std::vector<std::string> a = {NINEP_BINARY, "serve"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  int run(std::vector<std::string> args, std::string* err = nullptr) {
    Child c(std::move(args), dir_ / "run.log");
    int rc = c.wait();
    if (err) *err = c.err();
    return rc;
  }
  Child sleeper() { return Child({"/bin/sleep", "60"}, dir_ / "sleep.log"); }
  client::Fid attach(std::shared_ptr<client::Session>& s, const std::string& aname = "") {
    auto ss = client::Session::connect("unix:" + sock_);
    EXPECT_TRUE(ss) << ss.error().to_string();
    if (!ss) return {};
    s = *ss;
    auto r = s->attach("0", aname, ::getuid());
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? std::move(*r) : client::Fid();
  }

  testing::TempDir dir_;
  std::string exp_, sock_;
};

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

TEST_F(Cli, StartErrorsAreOneClearLine) {
  std::string err;
  EXPECT_EQ(run(serve({dir_ / "missing", "--listen", "unix:" + sock_}), &err), 1);
  EXPECT_EQ(lines(err), 1) << err;
  EXPECT_NE(err.find(dir_ / "missing"), std::string::npos) << err;
  EXPECT_NE(err.find("No such file or directory"), std::string::npos) << err;

  write_file(dir_ / "file", "x");
  EXPECT_EQ(run(serve({dir_ / "file", "--listen", "unix:" + sock_}), &err), 1);
  EXPECT_EQ(lines(err), 1) << err;
  EXPECT_NE(err.find("Not a directory"), std::string::npos) << err;

  EXPECT_EQ(run(serve({exp_, "--listen", "bogus:1"}), &err), 2);
  EXPECT_NE(err.find("bogus:1"), std::string::npos) << err;

  EXPECT_EQ(run(serve({exp_, "--listen", "unix:" + dir_ / "no/such/dir/s.sock"}), &err), 1);
  EXPECT_EQ(lines(err), 1) << err;

  Child gone({"/bin/true"}, dir_ / "true.log");
  const pid_t dead = gone.pid();
  ASSERT_EQ(gone.wait(), 0);
  EXPECT_EQ(run(serve({exp_, "--listen", "unix:" + sock_, "--exit-with-pid", std::to_string(dead)}),
                &err),
            1);
  EXPECT_NE(err.find("no such process"), std::string::npos) << err;
  EXPECT_FALSE(exists(sock_)) << "a failed start leaves no socket behind";
}

TEST_F(Cli, AddressInUseIsAnError) {
  Child first(serve({exp_, "--listen", "unix:" + sock_}), dir_ / "first.log");
  ASSERT_TRUE(wait_ready(sock_, first)) << first.err();
  std::string err;
  EXPECT_EQ(run(serve({exp_, "--listen", "unix:" + sock_}), &err), 1);
  EXPECT_EQ(lines(err), 1) << err;
  EXPECT_NE(err.find(sock_), std::string::npos) << err;
  EXPECT_TRUE(can_connect(sock_)) << "the first server is untouched";
}

TEST_F(Cli, SigtermShutsDownAndRemovesTheSocket) {
  Child srv(serve({exp_, "--listen", "unix:" + sock_}), dir_ / "srv.log");
  ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
  std::shared_ptr<client::Session> s;
  auto root = attach(s);
  ASSERT_TRUE(root);
  ASSERT_EQ(::kill(srv.pid(), SIGTERM), 0);
  EXPECT_EQ(srv.wait(5s), 0) << srv.err();
  EXPECT_FALSE(exists(sock_));
  EXPECT_FALSE(root.getattr()) << "the connection was closed";
}

TEST_F(Cli, ExitsWithin200msOfTheWatchedProcess) {
  Child watched = sleeper();
  Child srv(
      serve({exp_, "--listen", "unix:" + sock_, "--exit-with-pid", std::to_string(watched.pid())}),
      dir_ / "srv.log");
  ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
  std::shared_ptr<client::Session> s;
  auto root = attach(s);
  ASSERT_TRUE(root);
  auto killed = Clock::now();
  ASSERT_EQ(::kill(watched.pid(), SIGKILL), 0);
  EXPECT_EQ(srv.wait(2s), 0) << srv.err();
  auto took = Clock::now() - killed;
  EXPECT_LT(took, 200ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                         << " ms";
  EXPECT_FALSE(exists(sock_));
}

TEST_F(Cli, NoArgumentsServesTheCurrentDirectoryOnTheDefaultSocket) {
  const std::string runtime = dir_ / "run";
  ASSERT_EQ(::mkdir(runtime.c_str(), 0700), 0);
  write_file(exp_ + "/hello", "hi");
  Child srv({NINEP_BINARY, "serve"}, dir_ / "srv.log", {"XDG_RUNTIME_DIR=" + runtime}, exp_);
  sock_ = runtime + "/ninep.sock";
  ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
  // The socket accepts connections a moment before the banner is written.
  for (auto end = Clock::now() + 5s;
       srv.err().find("ninep mount unix:" + sock_) == std::string::npos && Clock::now() < end;)
    std::this_thread::sleep_for(1ms);
  EXPECT_NE(srv.err().find("ninep mount unix:" + sock_), std::string::npos) << srv.err();
  std::shared_ptr<client::Session> s;
  auto root = attach(s);
  ASSERT_TRUE(root);
  EXPECT_EQ(root.qid().path, lstat_of(exp_).st_ino);
  EXPECT_TRUE(root.walk({"hello"}));
  ::kill(srv.pid(), SIGINT);
  EXPECT_EQ(srv.wait(5s), 0);
  EXPECT_FALSE(exists(sock_));
}

TEST_F(Cli, ExportsAreSelectedByNameOrPath) {
  const std::string second = dir_ / "second";
  ASSERT_EQ(::mkdir(second.c_str(), 0755), 0);
  write_file(second + "/only-in-second", "x");
  Child srv(serve({"--export", "one=" + exp_, "--export", "two=" + second + ",ro", "--listen",
                   "unix:" + sock_}),
            dir_ / "srv.log");
  ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
  std::shared_ptr<client::Session> s;
  auto first = attach(s, "");
  EXPECT_EQ(first.qid().path, lstat_of(exp_).st_ino) << "empty aname: the first export";
  auto by_path = s->attach("0", exp_, ::getuid());
  ASSERT_TRUE(by_path);
  EXPECT_EQ(by_path->qid().path, lstat_of(exp_).st_ino);
  auto two = s->attach("0", "two", ::getuid());
  ASSERT_TRUE(two);
  EXPECT_TRUE(two->walk({"only-in-second"}));
  auto m = two->mkdir("x", 0755, 0);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, EROFS);
  EXPECT_FALSE(s->attach("0", "three", ::getuid()));
}

TEST_F(Cli, TracePrintsRequestsAndReplies) {
  Child srv(serve({exp_, "--listen", "unix:" + sock_, "--trace"}), dir_ / "srv.log");
  ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
  {
    std::shared_ptr<client::Session> s;
    auto root = attach(s);
    ASSERT_TRUE(root.getattr());
  }
  ::kill(srv.pid(), SIGTERM);
  srv.wait();
  const std::string err = srv.err();
  EXPECT_NE(err.find("Tversion tag=NOTAG msize="), std::string::npos) << err;
  EXPECT_NE(err.find("Rattach tag="), std::string::npos) << err;
  EXPECT_NE(err.find("Tgetattr tag="), std::string::npos) << err;
}

TEST_F(Cli, RaisesItsOpenFileLimitSinceEveryFidHoldsADescriptor) {
  // Started with the usual soft limit far below what a guest caching a large tree needs.
  std::vector<std::string> argv = serve({exp_, "--listen", "unix:" + sock_});
  argv.insert(argv.begin(), {"/bin/sh", "-c", "ulimit -S -n 128 && exec \"$0\" \"$@\""});
  Child srv(argv, dir_ / "srv.log");
  ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
  std::shared_ptr<client::Session> s;
  auto root = attach(s);
  ASSERT_TRUE(root);
  std::vector<client::Fid> fids;
  for (int i = 0; i < 1000; ++i) {
    auto c = root.clone();
    ASSERT_TRUE(c) << "fid " << i << ": " << c.error().to_string();
    fids.push_back(std::move(*c));
  }
}

TEST_F(Cli, Server9pFormServesEachDirectoryOnItsOwnListener) {
  const std::string second = dir_ / "second", sock2 = dir_ / "t.sock";
  ASSERT_EQ(::mkdir(second.c_str(), 0755), 0);
  write_file(exp_ + "/in-first", "1");
  write_file(second + "/in-second", "2");
  Child watched = sleeper();
  Child srv({NINEP_BINARY, "server9p", "--serve", exp_ + "=unix:" + sock_, "--serve",
             second + "=unix:" + sock2, std::to_string(watched.pid())},
            dir_ / "srv.log");
  ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
  ASSERT_TRUE(wait_ready(sock2, srv)) << srv.err();
  std::shared_ptr<client::Session> s1;
  auto r1 = attach(s1);
  EXPECT_TRUE(r1.walk({"in-first"}));
  EXPECT_FALSE(r1.walk({"in-second"}));
  auto s2 = client::Session::connect("unix:" + sock2);
  ASSERT_TRUE(s2);
  auto r2 = (*s2)->attach("0", "", ::getuid());
  ASSERT_TRUE(r2);
  EXPECT_TRUE(r2->walk({"in-second"}));
  ::kill(watched.pid(), SIGKILL);
  EXPECT_EQ(srv.wait(2s), 0) << srv.err();
  EXPECT_FALSE(exists(sock_));
  EXPECT_FALSE(exists(sock2));
}

TEST_F(Cli, Server9pRejectsMalformedServeValues) {
  std::string err;
  for (const std::string& bad : {exp_ + ":notaport", exp_, exp_ + ":"}) {
    EXPECT_EQ(run({NINEP_BINARY, "server9p", "--serve", bad, std::to_string(::getpid())}, &err), 2)
        << bad;
    EXPECT_NE(err.find("--serve"), std::string::npos) << err;
  }
}

TEST_F(Cli, ANonRootServerRefusesChownCleanly) {
  if (::geteuid() != 0 || !exists("/usr/bin/setpriv")) GTEST_SKIP() << "needs root and setpriv";
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0777), 0);
  ASSERT_EQ(::chown(exp_.c_str(), 65534, 65534), 0);
  Child srv({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", NINEP_BINARY,
             "serve", exp_, "--listen", "unix:" + sock_},
            dir_ / "srv.log");
  ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
  std::shared_ptr<client::Session> s;
  auto root = attach(s);
  ASSERT_TRUE(root);
  auto c = root.clone();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->lcreate("f", p9::kORdwr, 0644, 0));
  EXPECT_EQ(lstat_of(exp_ + "/f").st_uid, 65534u) << "everything runs as the server's user";
  auto f = root.walk({"f"});
  ASSERT_TRUE(f);
  client::SetAttr sa;
  sa.valid = p9::kSetattrUid;
  sa.uid = 0;
  auto r = f->setattr(sa);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPERM);
  EXPECT_TRUE(root.getattr()) << "and the server carries on";
}

TEST_F(Cli, WithoutXdgRuntimeDirANonRootServerAsksForAnAddress) {
  std::vector<std::string> args = serve({exp_});
  if (::geteuid() == 0) {
    if (!exists("/usr/bin/setpriv")) {
      GTEST_SKIP() << "needs setpriv to run as another user";
    }
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    args.insert(args.begin(),
                {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  }
  // putenv without '=' removes the variable (glibc).
  Child c(args, dir_ / "noxdg.log", {"XDG_RUNTIME_DIR"});
  EXPECT_EQ(c.wait(), 1);
  std::string err = c.err();
  EXPECT_EQ(lines(err), 1) << err;
  EXPECT_NE(err.find("--listen"), std::string::npos) << err;
  EXPECT_EQ(err.find("/tmp"), std::string::npos) << "never a shared directory: " << err;
}

TEST_F(Cli, RootWithoutXdgRuntimeDirListensOwnerOnlyInRunNinep) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string run_dir = "/run/ninep", sock = run_dir + "/ninep.sock";
  if (can_connect(sock)) GTEST_SKIP() << sock << " is in use";
  const bool had_dir = exists(run_dir);
  mode_t old_umask = ::umask(0);  // the server must not depend on its umask
  Child srv(serve({exp_}), dir_ / "srv.log", {"XDG_RUNTIME_DIR"});
  ::umask(old_umask);
  ASSERT_TRUE(wait_ready(sock, srv)) << srv.err();
  struct stat st = lstat_of(sock);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  struct stat d = lstat_of(run_dir);
  EXPECT_TRUE(S_ISDIR(d.st_mode));
  EXPECT_EQ(d.st_uid, 0u);
  if (!had_dir) {
    EXPECT_EQ(d.st_mode & 07777, 0700u);
  }
  ::kill(srv.pid(), SIGTERM);
  EXPECT_EQ(srv.wait(5s), 0);
  EXPECT_FALSE(exists(sock));
  if (!had_dir) ::rmdir(run_dir.c_str());
}

// Polls the child's stderr for `what`.
bool wait_log(Child& c, const std::string& what) {
  for (int i = 0; i < 500; ++i) {
    if (c.err().find(what) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST_F(Cli, ConnectionsAreLoggedWithTheirPeerAndFilteredByUid) {
  const std::string me =
      "unix pid " + std::to_string(::getpid()) + " uid " + std::to_string(::geteuid());
  {
    const std::string other = std::to_string(::geteuid() + 4242);
    Child srv(serve({exp_, "-v", "--listen", "unix:" + sock_, "--allow-uid", other}),
              dir_ / "refuse.log");
    ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
    EXPECT_EQ(lstat_of(sock_).st_mode & 07777, 0600u);
    EXPECT_FALSE(client::Session::connect("unix:" + sock_)) << "a refused peer got a session";
    EXPECT_TRUE(wait_log(srv, "refused a connection from " + me)) << srv.err();
    EXPECT_EQ(srv.err().find(": connection from " + me), std::string::npos) << srv.err();
  }
  Child srv(
      serve({exp_, "-v", "--listen", "unix:" + sock_, "--allow-uid", std::to_string(::geteuid())}),
      dir_ / "allow.log");
  ASSERT_TRUE(wait_ready(sock_, srv)) << srv.err();
  std::shared_ptr<client::Session> s;
  EXPECT_TRUE(attach(s));
  EXPECT_TRUE(wait_log(srv, ": connection from " + me)) << srv.err();
  EXPECT_EQ(srv.err().find("refused"), std::string::npos) << srv.err();

  std::string err;
  EXPECT_EQ(run(serve({exp_, "--listen", "unix:" + dir_ / "g.sock", "--socket-group",
                       "no-such-group-ninep"}),
                &err),
            1);
  EXPECT_EQ(lines(err), 1) << err;
  EXPECT_NE(err.find("--socket-group"), std::string::npos) << err;
}

TEST(CliVersion, PrintsTheProjectVersion) {
  FILE* p = ::popen(NINEP_BINARY " --version", "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(out, std::string("ninep ") + kVersionString + "\n");
  EXPECT_EQ(out.rfind(std::string("ninep ") + kVersion, 0), 0u) << out;
}

}  // namespace
}  // namespace ninep::servertest
