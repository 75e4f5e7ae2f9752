#include "server/daemon/seccomp.h"

#include <asm/ioctls.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "bpf/assemble.h"
#include "bpf/validate.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NINEP_SECCOMP_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer) || \
    __has_feature(thread_sanitizer)
#define NINEP_SECCOMP_SANITIZERS 1
#endif
#endif

namespace ninep::server {
namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#else
#error "the seccomp filter knows only x86_64's system call numbers"
#endif
// socket()'s family for unix sockets (AF_UNIX; <sys/socket.h> is transport/'s business).
constexpr std::uint32_t kAfUnix = 1;
// x32 system calls share x86_64's audit arch but have this bit in their number.
constexpr std::uint32_t kX32Bit = 0x40000000;

#ifdef NINEP_SECCOMP_SANITIZERS
constexpr bool kSanitizers = true;
#else
constexpr bool kSanitizers = false;
#endif

// Offsets in struct seccomp_data; an argument's low word (x86_64 is little-endian). Only low
// words are compared: every argument checked is an int, or (clone's flags) a value whose high
// word the system call ignores.
constexpr std::uint32_t kNr = offsetof(seccomp_data, nr);
constexpr std::uint32_t kArchOff = offsetof(seccomp_data, arch);
constexpr std::uint32_t arg(int i) {
  return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * i);
}

// System calls allowed whatever their arguments. What the server does on its request path and
// at shutdown (found with strace -f over the conformance, FUSE and kernel suites), and what
// glibc and libstdc++ do underneath: memory, threads and their synchronisation, time, random.
constexpr long kAllowed[] = {
    // Memory (mmap and mprotect: see the W^X check).
    SYS_brk,
    SYS_munmap,
    SYS_mremap,
    SYS_madvise,
    SYS_mincore,
    // Threads and their synchronisation (clone: threads only; clone3: ENOSYS).
    SYS_futex,
    SYS_set_robust_list,
    SYS_get_robust_list,
    SYS_rseq,
    SYS_set_tid_address,
    SYS_sched_yield,
    SYS_sched_getaffinity,
    SYS_gettid,
    SYS_getpid,
    SYS_exit,
    SYS_exit_group,
    SYS_membarrier,
    SYS_restart_syscall,
    // Signals (the daemon's signalfd; abort()).
    SYS_rt_sigprocmask,
    SYS_rt_sigaction,
    SYS_rt_sigreturn,
    SYS_sigaltstack,
    // Time and randomness.
    SYS_clock_gettime,
    SYS_clock_getres,
    SYS_clock_nanosleep,
    SYS_nanosleep,
    SYS_gettimeofday,
    SYS_time,
    SYS_getrandom,
    // Descriptors and streams (the listeners are bound before the filter: no bind, no listen).
    SYS_read,
    SYS_readv,
    SYS_write,
    SYS_writev,
    SYS_pread64,
    SYS_pwrite64,
    SYS_preadv,
    SYS_pwritev,
    SYS_preadv2,
    SYS_pwritev2,
    SYS_lseek,
    SYS_close,
    SYS_close_range,
    SYS_dup,
    SYS_dup3,
    SYS_poll,
    SYS_ppoll,
    SYS_eventfd2,
    // Change events (localfs_watch.cpp).
    SYS_inotify_init1,
    SYS_inotify_add_watch,
    SYS_inotify_rm_watch,
    SYS_accept4,
    SYS_connect,
    SYS_recvfrom,
    SYS_recvmsg,
    SYS_sendto,
    SYS_sendmsg,
    SYS_shutdown,
    SYS_getsockname,
    SYS_getpeername,
    SYS_getsockopt,
    // Files: the backend works through descriptors, and through /proc/self/fd/N for the calls
    // that have no *at form (readlink, chmod, truncate, the path xattr calls).
    SYS_openat,
    SYS_openat2,
    SYS_newfstatat,
    SYS_fstat,
    SYS_statx,
    SYS_statfs,
    SYS_fstatfs,
    SYS_getdents64,
    SYS_readlink,
    SYS_readlinkat,
    SYS_mkdirat,
    SYS_mknodat,
    SYS_symlinkat,
    SYS_linkat,
    SYS_unlinkat,
    SYS_renameat,
    SYS_renameat2,
    SYS_chmod,
    SYS_fchmod,
    SYS_fchmodat,
    SYS_fchown,
    SYS_fchownat,
    SYS_utimensat,
    SYS_truncate,
    SYS_ftruncate,
    SYS_fallocate,
    SYS_fsync,
    SYS_fdatasync,
    SYS_flock,
    SYS_faccessat,
    SYS_faccessat2,
    SYS_access,
    SYS_getxattr,
    SYS_lgetxattr,
    SYS_fgetxattr,
    SYS_setxattr,
    SYS_lsetxattr,
    SYS_fsetxattr,
    SYS_listxattr,
    SYS_llistxattr,
    SYS_flistxattr,
    SYS_removexattr,
    SYS_lremovexattr,
    SYS_fremovexattr,
    // Identities: each worker thread acts as the attaching user (fsuid, fsgid, groups,
    // capabilities; its own umask once unshare(CLONE_FS) has given it its own fs struct).
    SYS_setfsuid,
    SYS_setfsgid,
    SYS_setgroups,
    SYS_capget,
    SYS_capset,
    SYS_umask,
    SYS_getuid,
    SYS_geteuid,
    SYS_getgid,
    SYS_getegid,
    SYS_getgroups,
    SYS_getrlimit,
    SYS_uname,
};

// More for the sanitizer runtimes: ASan's allocator and reports, and LeakSanitizer, which at
// exit stops the world from a tracer task (clone without CLONE_THREAD, ptrace, waitpid).
constexpr long kSanitizerAllowed[] = {
    SYS_ptrace,
    SYS_wait4,
    SYS_waitid,
    SYS_kill,
    SYS_tgkill,
    SYS_prctl,
    SYS_getppid,
    SYS_pipe2,
    SYS_dup2,
    SYS_setrlimit,
    SYS_prlimit64,
    SYS_process_vm_readv,
    SYS_rt_sigtimedwait,
    SYS_sched_getparam,
    SYS_sched_setaffinity,
    SYS_msync,
    SYS_open,
    SYS_stat,
    SYS_lstat,
    SYS_getdents,
    SYS_fcntl,
    SYS_ioctl,
    SYS_sysinfo,
};

// ioctl() requests: isatty() (stdio on the log), and descriptor flags.
constexpr std::uint32_t kIoctls[] = {TCGETS, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX};
// prctl() options: thread names and reading (never changing) capabilities and flags.
constexpr std::uint32_t kPrctls[] = {PR_GET_NAME,     PR_SET_NAME,         PR_CAPBSET_READ,
                                     PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS, PR_GET_KEEPCAPS};
// fcntl() commands: descriptor flags, duplicates and locks; not F_SETOWN/F_SETSIG (signals
// to other processes), leases, notifications, seals or pipe sizes.
constexpr std::uint32_t kFcntls[] = {F_DUPFD,  F_DUPFD_CLOEXEC, F_GETFD,     F_SETFD,
                                     F_GETFL,  F_SETFL,         F_GETLK,     F_SETLK,
                                     F_SETLKW, F_OFD_GETLK,     F_OFD_SETLK, F_OFD_SETLKW};

// A program with symbolic jump targets, resolved into skip counts at the end.
class Builder {
 public:
  using Label = int;
  Label label() { return next_label_++; }
  void bind(Label l) { at_[l] = code_.size(); }
  void add(bpf::Instruction in) { code_.push_back({in, std::nullopt, std::nullopt}); }
  void jump_if(bpf::JumpTest cond, std::uint32_t val, std::optional<Label> yes,
               std::optional<Label> no = std::nullopt) {
    code_.push_back({bpf::JumpIf{cond, val, 0, 0}, yes, no});
  }
  void jump(Label to) { code_.push_back({bpf::Jump{}, to, std::nullopt}); }

  // Fails (E2BIG) when a conditional jump would skip more than 255 instructions.
  Result<std::vector<bpf::Instruction>> finish() const {
    std::vector<bpf::Instruction> out;
    for (std::size_t pc = 0; pc < code_.size(); ++pc) {
      const Item& item = code_[pc];
      const auto skip = [&](std::optional<Label> l) -> std::size_t {
        return l ? at_.at(*l) - pc - 1 : 0;
      };
      bpf::Instruction in = item.in;
      if (auto* j = std::get_if<bpf::JumpIf>(&in)) {
        const std::size_t t = skip(item.yes), f = skip(item.no);
        if (t > 255 || f > 255)
          return fail(E2BIG,
                      "seccomp filter: instruction " + std::to_string(pc) + " jumps too far");
        j->skip_true = static_cast<std::uint8_t>(t);
        j->skip_false = static_cast<std::uint8_t>(f);
      } else if (auto* ja = std::get_if<bpf::Jump>(&in)) {
        ja->skip = static_cast<std::uint32_t>(skip(item.yes));
      }
      out.push_back(in);
    }
    return out;
  }

 private:
  struct Item {
    bpf::Instruction in;
    std::optional<Label> yes, no;
  };
  std::vector<Item> code_;
  std::map<Label, std::size_t> at_;
  Label next_label_ = 0;
};

using bpf::JumpTest;

}  // namespace

Result<SeccompMode> parse_seccomp_mode(std::string_view text) {
  if (text == "kill") return SeccompMode::Kill;
  if (text == "log") return SeccompMode::Log;
  if (text == "none") return SeccompMode::None;
  return fail(EINVAL, "--seccomp: 'kill', 'log' or 'none', not '" + std::string(text) + "'");
}

const char* seccomp_mode_name(SeccompMode mode) {
  switch (mode) {
    case SeccompMode::Kill:
      return "kill";
    case SeccompMode::Log:
      return "log";
    case SeccompMode::None:
      break;
  }
  return "none";
}

Result<std::vector<bpf::Instruction>> seccomp_filter(SeccompMode mode, int self) {
  const std::uint32_t refuse =
      mode == SeccompMode::Log ? SECCOMP_RET_LOG : SECCOMP_RET_KILL_PROCESS;
  Builder b;
  // A conditional jump skips at most 255 instructions, so every check ends in its own returns:
  // `A cond val` allows, else refuses (or the reverse).
  const auto decide = [&](JumpTest cond, std::uint32_t val, bool allow_if_true = true) {
    const auto no = b.label();
    b.jump_if(cond, val, std::nullopt, no);
    b.add(bpf::RetConstant{allow_if_true ? SECCOMP_RET_ALLOW : refuse});
    b.bind(no);
    b.add(bpf::RetConstant{allow_if_true ? refuse : SECCOMP_RET_ALLOW});
  };
  // `A == one of values` allows, else refuses.
  const auto one_of = [&](std::span<const std::uint32_t> values) {
    const auto yes = b.label();
    for (std::uint32_t v : values) b.jump_if(JumpTest::Equal, v, yes);
    b.add(bpf::RetConstant{refuse});
    b.bind(yes);
    b.add(bpf::RetConstant{SECCOMP_RET_ALLOW});
  };
  const auto load_arg = [&](int i) { b.add(bpf::LoadAbsolute{arg(i), 4}); };

  // Only x86_64's numbering: a 32-bit (int 0x80) or x32 call means something else.
  b.add(bpf::LoadAbsolute{kArchOff, 4});
  const auto native = b.label();
  b.jump_if(JumpTest::Equal, kArch, native);
  b.add(bpf::RetConstant{refuse});
  b.bind(native);
  b.add(bpf::LoadAbsolute{kNr, 4});
  const auto not_x32 = b.label();
  b.jump_if(JumpTest::LessThan, kX32Bit, not_x32);
  b.add(bpf::RetConstant{refuse});
  b.bind(not_x32);

  // Calls whose integer arguments are checked, each with its block below.
  struct Checked {
    long nr;
    std::function<void()> check;
  };
  std::vector<Checked> checked = {
      // clone3's flags are behind a pointer, which seccomp cannot follow: ENOSYS makes glibc
      // fall back to clone, whose flags are checked.
      {SYS_clone3, [&] { b.add(bpf::RetConstant{SECCOMP_RET_ERRNO | ENOSYS}); }},
      // clone(): threads only, never a new process (the server runs no programs).
      // LeakSanitizer's tracer task shares the address space but is no thread.
      {SYS_clone,
       [&] {
         load_arg(0);
         decide(JumpTest::BitsSet, kSanitizers ? CLONE_VM : CLONE_THREAD);
       }},
      // socket(): AF_UNIX only (NSS lookups through nscd or systemd-userdb; sd_notify).
      {SYS_socket,
       [&] {
         load_arg(0);
         decide(JumpTest::Equal, kAfUnix);
       }},
      // unshare(): exactly CLONE_FS (a worker thread's own umask), no namespaces.
      {SYS_unshare,
       [&] {
         load_arg(0);
         decide(JumpTest::Equal, CLONE_FS);
       }},
  };
  // mmap(), mprotect(), pkey_mprotect(): never writable and executable at once (the JIT writes
  // its code, then makes it read-only and executable).
  for (long nr : {SYS_mmap, SYS_mprotect, SYS_pkey_mprotect})
    checked.push_back({nr, [&] {
                         load_arg(2);
                         b.add(bpf::ALUOpConstant{bpf::ALUOp::And, PROT_WRITE | PROT_EXEC});
                         decide(JumpTest::Equal, PROT_WRITE | PROT_EXEC, false);
                       }});
  if (!kSanitizers) {
    // ioctl(), prctl(), fcntl(): listed requests, options and commands.
    checked.push_back({SYS_ioctl, [&] {
                         load_arg(1);
                         one_of(kIoctls);
                       }});
    checked.push_back({SYS_prctl, [&] {
                         load_arg(0);
                         one_of(kPrctls);
                       }});
    checked.push_back({SYS_fcntl, [&] {
                         load_arg(1);
                         one_of(kFcntls);
                       }});
    // tgkill(), kill(): this process only (abort(), raise()).
    for (long nr : {SYS_tgkill, SYS_kill})
      checked.push_back({nr, [&] {
                           load_arg(0);
                           decide(JumpTest::Equal, static_cast<std::uint32_t>(self));
                         }});
    // prlimit64(): this process only (pid 0).
    checked.push_back({SYS_prlimit64, [&] {
                         load_arg(0);
                         decide(JumpTest::Equal, 0);
                       }});
  }
  std::vector<Builder::Label> blocks;
  for (const Checked& c : checked) {
    blocks.push_back(b.label());
    b.jump_if(JumpTest::Equal, static_cast<std::uint32_t>(c.nr), blocks.back());
  }
  const auto by_number = b.label();
  b.jump(by_number);
  for (std::size_t i = 0; i < checked.size(); ++i) {
    b.bind(blocks[i]);
    checked[i].check();
  }

  // The rest: allowed by number, in runs short enough for their jumps.
  b.bind(by_number);
  std::vector<std::uint32_t> numbers;
  for (long nr : kAllowed) numbers.push_back(static_cast<std::uint32_t>(nr));
  if (kSanitizers)
    for (long nr : kSanitizerAllowed) numbers.push_back(static_cast<std::uint32_t>(nr));
  constexpr std::size_t kRun = 200;
  for (std::size_t i = 0; i < numbers.size(); i += kRun) {
    const auto yes = b.label(), next = b.label();
    for (std::size_t j = i; j < std::min(numbers.size(), i + kRun); ++j)
      b.jump_if(JumpTest::Equal, numbers[j], yes);
    b.jump(next);
    b.bind(yes);
    b.add(bpf::RetConstant{SECCOMP_RET_ALLOW});
    b.bind(next);
  }
  b.add(bpf::RetConstant{refuse});
  return b.finish();
}

Result<bpf::Program> seccomp_program(SeccompMode mode, int self) {
  auto typed = seccomp_filter(mode, self);
  if (!typed) return std::unexpected(typed.error());
  auto raw = bpf::assemble(*typed);
  if (!raw) return std::unexpected(raw.error());
  if (auto r = bpf::validate(*raw, bpf::FilterKind::Seccomp); !r)
    return fail(EINVAL, "seccomp filter: " + r.error().message);
  return *raw;
}

Result<std::string> seccomp_listing(SeccompMode mode, int self) {
  if (mode == SeccompMode::None) return std::string("; --seccomp none: no filter\n");
  auto program = seccomp_program(mode, self);
  if (!program) return std::unexpected(program.error());
  return "; ninep serve's seccomp filter (--seccomp " + std::string(seccomp_mode_name(mode)) +
         (kSanitizers ? ", a build with sanitizers" : "") + "), " +
         std::to_string(program->size()) + " instructions over struct seccomp_data.\n" +
         "; kill and tgkill may signal only pid " + std::to_string(self) +
         ", the server itself.\n" + bpf::print_assembler(*program);
}

Result<void> install_seccomp(SeccompMode mode,
                             const std::function<void(const std::string&)>& notice) {
  if (mode == SeccompMode::None) return {};
  auto program = seccomp_program(mode, static_cast<int>(::getpid()));
  if (!program) return std::unexpected(program.error());
  const auto unsupported = [&](const char* what, int err) -> Result<void> {
    std::string why = std::string("seccomp: ") + what + ": " + std::strerror(err) +
                      " (the kernel has no seccomp filters?)";
    if (mode == SeccompMode::Kill)
      return fail(err, why + "; --seccomp log or none starts without it");
    if (notice) notice("warning: " + why + "; serving unfiltered");
    return {};
  };
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    const int err = errno;
    if (err == EINVAL) return unsupported("PR_SET_NO_NEW_PRIVS", err);
    return fail(err, "seccomp: PR_SET_NO_NEW_PRIVS");
  }
  // The action for refused calls must exist (SECCOMP_RET_KILL_PROCESS and _LOG: Linux 4.14).
  const std::uint32_t action =
      mode == SeccompMode::Log ? SECCOMP_RET_LOG : SECCOMP_RET_KILL_PROCESS;
  if (::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0) {
    const int err = errno;
    if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP)
      return unsupported(mode == SeccompMode::Log ? "SECCOMP_RET_LOG" : "SECCOMP_RET_KILL_PROCESS",
                         err);
    return fail(err, "seccomp: SECCOMP_GET_ACTION_AVAIL");
  }
  sock_fprog prog{static_cast<unsigned short>(program->size()),
                  reinterpret_cast<sock_filter*>(program->data())};
  // TSYNC: every thread already running gets the filter too (and the threads they start).
  const long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (r < 0) {
    const int err = errno;
    if (err == EINVAL || err == ENOSYS) return unsupported("SECCOMP_SET_MODE_FILTER", err);
    return fail(err, "seccomp: SECCOMP_SET_MODE_FILTER");
  }
  if (r > 0)
    return fail(ESRCH, "seccomp: thread " + std::to_string(r) + " could not take the filter");
  return {};
}

}  // namespace ninep::server
