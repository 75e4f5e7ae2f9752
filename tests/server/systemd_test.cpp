// `ninep serve` under systemd, through the real binary: socket activation (started by
// systemd-socket-activate, which passes the listening socket the way systemd does), readiness
// and stopping notifications (read from a NOTIFY_SOCKET this test binds), and the units in
// contrib/systemd (as the build configures them) checked by `systemd-analyze verify`.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"

#ifndef NINEP_BINARY
#error "NINEP_BINARY must name the ninep program"
#endif
#ifndef NINEP_UNITS_DIR
#error "NINEP_UNITS_DIR must name the configured systemd units (BUILD/contrib/systemd)"
#endif

namespace ninep::servertest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kSocketActivate = "/usr/bin/systemd-socket-activate";
constexpr const char* kAnalyze = "/usr/bin/systemd-analyze";

// A child process with stdout and stderr captured in a file.
class Child {
 public:
  Child(std::vector<std::string> args, const std::string& log) : log_(log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
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
  int wait(std::chrono::milliseconds timeout) {
    auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(1ms);
    }
    return -1;
  }
  std::string out() const { return read_file(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

sockaddr_un unix_addr(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  return sa;
}

// The datagram socket a service manager reads notifications from.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un sa = unix_addr(path);
    ok_ = fd_ && ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  // The next notification that contains `what` ("READY=1"), skipping others; empty after
  // `timeout`.
  std::string wait_for(const std::string& what, std::chrono::milliseconds timeout = 5s) {
    auto end = Clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      if (left.count() <= 0) return {};
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string msg(buf, static_cast<std::size_t>(n));
      if (msg.find(what) != std::string::npos) return msg;
    }
  }

 private:
  std::string path_;
  UniqueFd fd_;
  bool ok_ = false;
};

// Connects to a unix socket, retrying until it exists (bounded).
UniqueFd connect_unix(const std::string& path, std::chrono::milliseconds timeout = 5s) {
  auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un sa = unix_addr(path);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return fd;
    std::this_thread::sleep_for(5ms);
  }
  return {};
}

class Systemd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kSocketActivate, X_OK) != 0)
      GTEST_SKIP() << kSocketActivate << " is missing (Debian package systemd)";
    auto d = testing::TempDir::create("ninep-systemd-");
    ASSERT_TRUE(d);
    dir_ = std::move(*d);
    exp_ = dir_ / "export";
    ASSERT_EQ(::mkdir(exp_.c_str(), 0755), 0);
    write_file(exp_ + "/hello", "hi");
    sock_ = dir_ / "activated.sock";
    notify_ = std::make_unique<NotifySocket>(dir_ / "notify");
    ASSERT_TRUE(notify_->ok());
  }
  // systemd-socket-activate listening on sock_ (under the name "ninep"), passing NOTIFY_SOCKET
  // (it passes on no other variable) and starting `ninep serve` at the first connection.
  std::unique_ptr<Child> activate(std::vector<std::string> serve_args) {
    std::vector<std::string> a = {kSocketActivate,
                                  "-l",
                                  sock_,
                                  "--fdname=ninep",
                                  "-E",
                                  "NOTIFY_SOCKET=" + notify_->path(),
                                  "--",
                                  NINEP_BINARY,
                                  "serve",
                                  exp_,
                                  "--no-root-squash"};
    a.insert(a.end(), serve_args.begin(), serve_args.end());
    return std::make_unique<Child>(std::move(a), dir_ / "serve.log");
  }
  static void expect_root_served(client::Session& s) {
    auto root = s.attach("0", "", ::getuid());
    ASSERT_TRUE(root) << root.error().to_string();
    auto attr = root->getattr();
    ASSERT_TRUE(attr) << attr.error().to_string();
    EXPECT_TRUE(S_ISDIR(attr->mode));
    auto hello = root->walk({"hello"});
    ASSERT_TRUE(hello) << hello.error().to_string();
    auto hattr = hello->getattr();
    ASSERT_TRUE(hattr) << hattr.error().to_string();
    EXPECT_EQ(hattr->size, 2u);
  }

  testing::TempDir dir_;
  std::string exp_, sock_;
  std::unique_ptr<NotifySocket> notify_;
};

TEST_F(Systemd, ServesTheActivatedSocketAndNotifiesReadyAndStopping) {
  auto srv = activate({});
  // systemd-socket-activate starts the server at the first connection, which is then served.
  UniqueFd first = connect_unix(sock_);
  ASSERT_TRUE(first) << srv->out();
  const std::string ready = notify_->wait_for("READY=1");
  ASSERT_FALSE(ready.empty()) << "no READY=1 within 5 s\n" << srv->out();
  EXPECT_NE(ready.find("STATUS="), std::string::npos) << ready;
  EXPECT_NE(ready.find(exp_), std::string::npos) << ready;
  EXPECT_NE(ready.find("unix:" + sock_), std::string::npos) << ready;

  auto s = client::Session::start(std::move(first));
  ASSERT_TRUE(s) << s.error().to_string() << "\n" << srv->out();
  expect_root_served(**s);

  ASSERT_EQ(::kill(srv->pid(), SIGTERM), 0);
  EXPECT_FALSE(notify_->wait_for("STOPPING=1").empty()) << "no STOPPING=1\n" << srv->out();
  EXPECT_EQ(srv->wait(5s), 0) << srv->out();
  EXPECT_NE(srv->out().find("listening on unix:" + sock_), std::string::npos) << srv->out();
}

TEST_F(Systemd, ServesTheActivatedSocketAndEveryListen) {
  const std::string other = dir_ / "other.sock";
  auto srv = activate({"--listen", "unix:" + other});
  UniqueFd first = connect_unix(sock_);
  ASSERT_TRUE(first) << srv->out();
  const std::string ready = notify_->wait_for("READY=1");
  ASSERT_FALSE(ready.empty()) << "no READY=1 within 5 s\n" << srv->out();
  EXPECT_NE(ready.find("unix:" + sock_), std::string::npos) << ready;
  EXPECT_NE(ready.find("unix:" + other), std::string::npos) << ready;

  auto a = client::Session::start(std::move(first));
  ASSERT_TRUE(a) << a.error().to_string();
  expect_root_served(**a);
  auto b = client::Session::connect("unix:" + other);
  ASSERT_TRUE(b) << b.error().to_string();
  expect_root_served(**b);

  ASSERT_EQ(::kill(srv->pid(), SIGTERM), 0);
  EXPECT_FALSE(notify_->wait_for("STOPPING=1").empty()) << srv->out();
  EXPECT_EQ(srv->wait(5s), 0) << srv->out();
  EXPECT_FALSE(exists(other)) << "the server's own socket file is removed";
  EXPECT_TRUE(exists(sock_)) << "the activated socket's file belongs to the service manager";
}

// Verifies `units` (file names in dir) with systemd-analyze; "" when it accepts them, else what
// it said.
std::string analyze_verify(const std::string& dir, const std::vector<std::string>& units, int* rc) {
  std::string cmd = std::string(kAnalyze) + " verify --man=no";
  for (const auto& u : units) cmd += " '" + dir + "/" + u + "'";
  cmd += " 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    int st = ::pclose(p);
    *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  } else {
    *rc = -1;
  }
  return out;
}

TEST(SystemdUnits, VerifyCleanly) {
  if (::access(kAnalyze, X_OK) != 0) GTEST_SKIP() << kAnalyze << " is missing";
  auto d = testing::TempDir::create("ninep-units-");
  ASSERT_TRUE(d);
  // systemd-analyze needs no running systemd; if it cannot work here at all (an odd container),
  // a trivial unit shows it.
  write_file(*d / "probe.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n");
  int rc = 0;
  std::string out = analyze_verify(d->path(), {"probe.service"}, &rc);
  if (rc != 0) GTEST_SKIP() << "systemd-analyze verify does not work here: " << out;

  // The units as the build configured them (contrib/CMakeLists.txt), but with ExecStart= naming
  // the binary just built instead of the installed one (verify checks that the program exists).
  const std::string src = std::string(NINEP_UNITS_DIR) + "/";
  for (const std::string name : {"ninep-serve@.socket", "ninep-serve@.service"}) {
    std::string text = read_file(src + name);
    ASSERT_FALSE(text.empty()) << src + name;
    const std::string exec = "\nExecStart=";
    if (auto at = text.find(exec); at != std::string::npos) {
      const std::size_t program = at + exec.size();
      const std::size_t end = text.find(' ', program);
      ASSERT_NE(end, std::string::npos) << text;
      EXPECT_EQ(text.substr(program, end - program).find('/'), 0u)
          << "ExecStart= names the installed binary by its absolute path";
      text.replace(program, end - program, NINEP_BINARY);
    }
    write_file(*d / name, text);
  }
  out = analyze_verify(d->path(), {"ninep-serve@.socket", "ninep-serve@.service"}, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << "warnings";
}

}  // namespace
}  // namespace ninep::servertest
