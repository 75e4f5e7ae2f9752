// The server's seccomp filter: the program itself (validated in seccomp mode and run through our
// VM over seccomp_data), and `ninep serve --seccomp kill|log|none` through the real binary, with
// the test hook that makes a request perform a system call outside the allow-list.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <thread>

#include "bpf/text.h"
#include "bpf/validate.h"
#include "bpf/vm.h"
#include "client/session.h"
#include "harness.h"
#include "server/daemon/seccomp.h"
#include "temp_dir.h"

#ifndef NINEP_BINARY
#error "NINEP_BINARY must name the ninep program"
#endif
#ifndef CBPF_BINARY
#error "CBPF_BINARY must name the cbpf program"
#endif

namespace ninep::servertest {
namespace {

using namespace std::chrono_literals;
using server::SeccompMode;

// A struct seccomp_data as our VM reads it: its loads are big-endian (a packet's byte order),
// the kernel's seccomp loads are native words, so each 32-bit word is stored big-endian.
std::array<std::uint8_t, 64> seccomp_data_for(std::uint32_t nr,
                                              std::initializer_list<std::uint64_t> args,
                                              std::uint32_t arch = AUDIT_ARCH_X86_64) {
  std::array<std::uint8_t, 64> d{};
  const auto put = [&](std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) d[off + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
  };
  put(0, nr);
  put(4, arch);
  std::size_t off = 16;
  for (std::uint64_t a : args) {
    put(off, static_cast<std::uint32_t>(a));  // low word first: x86_64 is little-endian
    put(off + 4, static_cast<std::uint32_t>(a >> 32));
    off += 8;
  }
  return d;
}

class Filter : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = server::seccomp_program(SeccompMode::Kill, 4242);
    ASSERT_TRUE(p) << p.error().to_string();
    auto vm = bpf::Vm::create(*p);
    ASSERT_TRUE(vm) << vm.error().to_string();
    vm_.emplace(std::move(*vm));
  }
  std::uint32_t verdict(std::uint32_t nr, std::initializer_list<std::uint64_t> args = {},
                        std::uint32_t arch = AUDIT_ARCH_X86_64) {
    const auto d = seccomp_data_for(nr, args, arch);
    return vm_->run(d);
  }
  std::optional<bpf::Vm> vm_;
};

constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW, kKill = SECCOMP_RET_KILL_PROCESS;

TEST_F(Filter, IsAValidSeccompProgram) {
  for (SeccompMode m : {SeccompMode::Kill, SeccompMode::Log}) {
    auto p = server::seccomp_program(m, 1);
    ASSERT_TRUE(p) << p.error().to_string();
    EXPECT_FALSE(bpf::find_rejection(*p, bpf::FilterKind::Seccomp));
  }
}

TEST_F(Filter, ChecksTheArchitectureFirst) {
  EXPECT_EQ(verdict(SYS_read), kAllow);
  EXPECT_EQ(verdict(SYS_read, {}, AUDIT_ARCH_I386), kKill);
  EXPECT_EQ(verdict(SYS_read | 0x40000000), kKill);  // x32
}

TEST_F(Filter, AllowsTheRequestPathAndRefusesTheRest) {
  for (long nr : {SYS_openat, SYS_getdents64, SYS_futex, SYS_setfsuid, SYS_renameat2, SYS_fsync,
                  SYS_exit_group, SYS_inotify_init1, SYS_inotify_add_watch, SYS_inotify_rm_watch})
    EXPECT_EQ(verdict(static_cast<std::uint32_t>(nr)), kAllow) << nr;
  for (long nr : {SYS_execve, SYS_execveat, SYS_fork, SYS_vfork, SYS_mount, SYS_setuid, SYS_bind,
                  SYS_listen, SYS_syslog, SYS_bpf, SYS_chroot})
    EXPECT_EQ(verdict(static_cast<std::uint32_t>(nr)), kKill) << nr;
}

TEST_F(Filter, ChecksIntegerArguments) {
  EXPECT_EQ(verdict(SYS_clone3), SECCOMP_RET_ERRNO | ENOSYS);
  EXPECT_EQ(verdict(SYS_clone, {CLONE_VM | CLONE_THREAD | CLONE_SIGHAND}), kAllow);
  EXPECT_EQ(verdict(SYS_clone, {SIGCHLD}), kKill);  // fork()
  EXPECT_EQ(verdict(SYS_socket, {AF_UNIX, SOCK_STREAM}), kAllow);
  EXPECT_EQ(verdict(SYS_socket, {AF_INET, SOCK_STREAM}), kKill);
  EXPECT_EQ(verdict(SYS_unshare, {CLONE_FS}), kAllow);
  EXPECT_EQ(verdict(SYS_unshare, {CLONE_FS | CLONE_NEWNS}), kKill);
  EXPECT_EQ(verdict(SYS_mprotect, {0, 4096, PROT_READ | PROT_EXEC}), kAllow);
  EXPECT_EQ(verdict(SYS_mprotect, {0, 4096, PROT_WRITE | PROT_EXEC}), kKill);
  EXPECT_EQ(verdict(SYS_mmap, {0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE}), kAllow);
  EXPECT_EQ(verdict(SYS_mmap, {0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC}), kKill);
#if !defined(__SANITIZE_ADDRESS__)  // LeakSanitizer's tracer needs these
  EXPECT_EQ(verdict(SYS_ptrace), kKill);
  EXPECT_EQ(verdict(SYS_tgkill, {4242, 4243, SIGABRT}), kAllow);
  EXPECT_EQ(verdict(SYS_tgkill, {1, 1, SIGKILL}), kKill);
  EXPECT_EQ(verdict(SYS_kill, {1, SIGKILL}), kKill);
  EXPECT_EQ(verdict(SYS_fcntl, {3, F_OFD_SETLK}), kAllow);
  EXPECT_EQ(verdict(SYS_fcntl, {3, F_SETOWN}), kKill);
  EXPECT_EQ(verdict(SYS_prlimit64, {0, RLIMIT_NOFILE}), kAllow);
  EXPECT_EQ(verdict(SYS_prlimit64, {1, RLIMIT_NOFILE}), kKill);
#endif
}

TEST(FilterModes, LogAllowsAndLogsWhatKillRefuses) {
  auto p = server::seccomp_program(SeccompMode::Log, 1);
  ASSERT_TRUE(p);
  auto vm = bpf::Vm::create(*p);
  ASSERT_TRUE(vm);
  EXPECT_EQ(vm->run(seccomp_data_for(SYS_syslog, {})), SECCOMP_RET_LOG);
  EXPECT_EQ(vm->run(seccomp_data_for(SYS_read, {})), SECCOMP_RET_ALLOW);
  EXPECT_TRUE(server::parse_seccomp_mode("none"));
  EXPECT_FALSE(server::parse_seccomp_mode("trap"));
}

// `ninep serve` as a child process, its stdout and stderr in a file.
class Served {
 public:
  Served(const std::string& log, std::vector<std::string> args) : log_(log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Served() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // The wait status, or -1 if still running after `timeout`.
  int wait(std::chrono::milliseconds timeout) {
    for (auto end = std::chrono::steady_clock::now() + timeout;
         std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(2ms)) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return st;
      }
    }
    return -1;
  }
  std::string log() const { return read_file(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

class Serve : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = testing::TempDir::create("ninep-seccomp-");
    ASSERT_TRUE(d);
    dir_ = std::move(*d);
    exp_ = dir_ / "export";
    ASSERT_EQ(::mkdir(exp_.c_str(), 0755), 0);
    write_file(exp_ + "/hello", "hello");
    sock_ = dir_ / "s.sock";
  }
  std::unique_ptr<Served> start(std::vector<std::string> extra) {
    std::vector<std::string> a = {NINEP_BINARY,    "serve",        exp_, "--listen",
                                  "unix:" + sock_, "--test-hooks", "-v"};
    a.insert(a.end(), extra.begin(), extra.end());
    auto s = std::make_unique<Served>(dir_ / "serve.log", a);
    for (int i = 0; i < 2000 && ::access(sock_.c_str(), F_OK) != 0; ++i) {
      if (s->wait(0ms) != -1) break;
      std::this_thread::sleep_for(5ms);
    }
    return s;
  }
  // Attaches with `aname`: the error code, 0 on success.
  int attach(const std::string& aname) {
    auto s = client::Session::connect("unix:" + sock_);
    if (!s) return s.error().code;
    auto r = (*s)->attach("0", aname, ::getuid());
    return r ? 0 : r.error().code;
  }
  // The server still answers: attach and read the file.
  void expect_serving(Served& s) {
    auto session = client::Session::connect("unix:" + sock_);
    ASSERT_TRUE(session) << session.error().to_string() << "\n" << s.log();
    auto root = (*session)->attach("0", "", ::getuid());
    ASSERT_TRUE(root) << root.error().to_string() << "\n" << s.log();
    auto f = root->walk({"hello"});
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->lopen(O_RDONLY));
    std::array<std::uint8_t, 16> buf{};
    auto n = f->read(0, buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(std::string(buf.begin(), buf.begin() + *n), "hello");
  }

  testing::TempDir dir_;
  std::string exp_, sock_;
};

TEST_F(Serve, KillIsTheDefaultAndAForbiddenSystemCallKillsTheServerWithSigsys) {
  auto s = start({});
  expect_serving(*s);
  EXPECT_NE(s->log().find("seccomp: kill"), std::string::npos) << s->log();
  EXPECT_NE(attach("ninep-test:forbidden-syscall"), 0);
  const int st = s->wait(10s);
  ASSERT_NE(st, -1) << "the server survived\n" << s->log();
  ASSERT_TRUE(WIFSIGNALED(st)) << st << "\n" << s->log();
  EXPECT_EQ(WTERMSIG(st), SIGSYS) << s->log();
}

TEST_F(Serve, LogLetsTheServerLive) {
  auto s = start({"--seccomp", "log"});
  expect_serving(*s);
  EXPECT_NE(s->log().find("seccomp: log"), std::string::npos) << s->log();
  EXPECT_EQ(attach("ninep-test:forbidden-syscall"), ENOENT);  // no such export, after the call
  expect_serving(*s);
  EXPECT_EQ(s->wait(0ms), -1);
}

TEST_F(Serve, NoneInstallsNoFilter) {
  auto s = start({"--seccomp", "none"});
  EXPECT_EQ(attach("ninep-test:forbidden-syscall"), ENOENT);
  expect_serving(*s);
  EXPECT_EQ(s->wait(0ms), -1);
}

TEST_F(Serve, WithoutTestHooksTheAnameIsJustUnknown) {
  std::vector<std::string> a = {NINEP_BINARY, "serve", exp_, "--listen", "unix:" + sock_};
  Served s(dir_ / "plain.log", a);
  for (int i = 0; i < 2000 && ::access(sock_.c_str(), F_OK) != 0; ++i)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(attach("ninep-test:forbidden-syscall"), ENOENT);
  expect_serving(s);
}

TEST_F(Serve, PrintSeccompPrintsAProgramCbpfAndTheValidatorAccept) {
  Served s(dir_ / "print.asm", {NINEP_BINARY, "serve", "--print-seccomp"});
  const int st = s.wait(10s);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  const std::string text = s.log();
  auto program = bpf::parse_program(text);
  ASSERT_TRUE(program) << program.error().to_string() << "\n" << text;
  EXPECT_FALSE(bpf::find_rejection(*program, bpf::FilterKind::Seccomp));
  EXPECT_GT(program->size(), 50u);
  // cbpf reads it back.
  Served check(dir_ / "check.log", {CBPF_BINARY, "check", dir_ / "print.asm"});
  const int cst = check.wait(10s);
  EXPECT_TRUE(WIFEXITED(cst) && WEXITSTATUS(cst) == 0) << check.log();
  // Unknown modes are usage errors.
  Served bad(dir_ / "bad.log", {NINEP_BINARY, "serve", "--seccomp", "trap", "--print-seccomp"});
  const int bst = bad.wait(10s);
  EXPECT_TRUE(WIFEXITED(bst) && WEXITSTATUS(bst) != 0) << bad.log();
}

}  // namespace
}  // namespace ninep::servertest
