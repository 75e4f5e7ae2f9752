// How a Vm picks its engine: the JIT where it exists, the interpreter when forced or when the
// system refuses executable memory (as a MemoryDenyWriteExecute service or a seccomp policy
// does), with the choice observable.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <vector>

#include "bpf/jit.h"
#include "bpf/vm.h"

namespace ninep::bpf {
namespace {

// `ldh [12]; jeq #0x806, 0, 1; ret #4096; ret #0` (ARP, the x/net/bpf documentation example).
const std::vector<RawInstruction> kArp = {
    {0x28, 0, 0, 12}, {0x15, 0, 1, 0x806}, {0x06, 0, 0, 4096}, {0x06, 0, 0, 0}};

std::vector<std::uint8_t> frame(std::uint16_t ethertype) {
  std::vector<std::uint8_t> f(60, 0);
  f[12] = static_cast<std::uint8_t>(ethertype >> 8);
  f[13] = static_cast<std::uint8_t>(ethertype);
  return f;
}

TEST(VmEngine, PicksTheJitWhereItExists) {
  auto vm = Vm::create(kArp);
  ASSERT_TRUE(vm) << vm.error().to_string();
  EXPECT_EQ(vm->engine(), JitCode::available() ? Engine::Jit : Engine::Interpreter);
  EXPECT_EQ(vm->run(frame(0x806)), 4096u);
  EXPECT_EQ(vm->run(frame(0x800)), 0u);
}

TEST(VmEngine, EitherEngineCanBeForced) {
  auto interpreter = Vm::create(kArp, Engine::Interpreter);
  ASSERT_TRUE(interpreter);
  EXPECT_EQ(interpreter->engine(), Engine::Interpreter);
  EXPECT_EQ(interpreter->run(frame(0x806)), 4096u);

  auto jit = Vm::create(kArp, Engine::Jit);
  if (!JitCode::available()) {
    ASSERT_FALSE(jit);
    EXPECT_EQ(jit.error().code, ENOSYS);
    return;
  }
  ASSERT_TRUE(jit) << jit.error().to_string();
  EXPECT_EQ(jit->engine(), Engine::Jit);
  EXPECT_EQ(jit->run(frame(0x806)), 4096u);
  EXPECT_EQ(jit->run(frame(0x86dd)), 0u);
  // A moved Vm keeps its code.
  Vm moved = std::move(*jit);
  EXPECT_EQ(moved.run(frame(0x806)), 4096u);
}

TEST(VmEngine, ForcingTheJitStillValidates) {
  const std::vector<RawInstruction> division_by_zero = {{0x34, 0, 0, 0}, {0x16, 0, 0, 0}};
  auto vm = Vm::create(division_by_zero, Engine::Jit);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().code, EINVAL);
}

// Installs a seccomp filter (a classic BPF program, as it happens) that fails every mprotect()
// asking for PROT_EXEC with EPERM.
bool refuse_executable_memory() {
  constexpr std::uint32_t kArgProt = offsetof(seccomp_data, args) + 2 * sizeof(std::uint64_t);
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 2),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArgProt),  // the low half of prot (little-endian)
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
  };
  sock_fprog prog = {static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

TEST(VmEngine, FallsBackToTheInterpreterWhenExecutableMemoryIsRefused) {
  if (!JitCode::available()) GTEST_SKIP() << "no JIT on this platform";
  // The policy cannot be lifted again: apply it in a child and report through the exit status.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!refuse_executable_memory()) _exit(10);
    auto code = JitCode::compile(kArp);
    if (code || code.error().code != EPERM) _exit(11);
    auto forced = Vm::create(kArp, Engine::Jit);
    if (forced || forced.error().code != EPERM) _exit(12);
    auto vm = Vm::create(kArp);
    if (!vm) _exit(13);
    if (vm->engine() != Engine::Interpreter) _exit(14);
    if (vm->run(frame(0x806)) != 4096 || vm->run(frame(0x800)) != 0) _exit(15);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child died with status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the _exit codes in the test";
}

}  // namespace
}  // namespace ninep::bpf
