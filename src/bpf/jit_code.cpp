// JitCode: executable memory for generated code (W^X: written while RW, run while RX).
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "bpf/jit.h"

#if defined(__x86_64__) && defined(__linux__)
#define NINEP_BPF_JIT_X86_64 1
#include "bpf/jit_x86_64.h"
#else
#define NINEP_BPF_JIT_X86_64 0
#endif

namespace ninep::bpf {

bool JitCode::available() {
  return NINEP_BPF_JIT_X86_64 != 0;
}

JitCode::JitCode(void* memory, std::size_t mapped_size, std::size_t code_size)
    : memory_(memory),
      mapped_size_(mapped_size),
      code_size_(code_size),
      entry_(reinterpret_cast<Entry>(memory)) {}

JitCode::JitCode(JitCode&& other) noexcept
    : memory_(std::exchange(other.memory_, nullptr)),
      mapped_size_(std::exchange(other.mapped_size_, 0)),
      code_size_(std::exchange(other.code_size_, 0)),
      entry_(std::exchange(other.entry_, nullptr)) {}

JitCode& JitCode::operator=(JitCode&& other) noexcept {
  if (this != &other) {
    release();
    memory_ = std::exchange(other.memory_, nullptr);
    mapped_size_ = std::exchange(other.mapped_size_, 0);
    code_size_ = std::exchange(other.code_size_, 0);
    entry_ = std::exchange(other.entry_, nullptr);
  }
  return *this;
}

JitCode::~JitCode() {
  release();
}

void JitCode::release() noexcept {
  if (memory_ != nullptr) munmap(memory_, mapped_size_);
  memory_ = nullptr;
  mapped_size_ = 0;
  code_size_ = 0;
  entry_ = nullptr;
}

Result<JitCode> JitCode::compile(std::span<const RawInstruction> program) {
#if NINEP_BPF_JIT_X86_64
  if (program.empty() || program.size() > kMaxInstructions) {
    return fail(EINVAL, "jit: program must have 1 to 4096 instructions");
  }
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t bound = jit_x86_64::code_bound(program);
  std::size_t mapped = (bound + page - 1) / page * page;
  void* memory = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return fail_errno("jit: mmap of code pages");

  auto* bytes = static_cast<std::uint8_t*>(memory);
  auto size = jit_x86_64::generate(program, bytes, bound);
  if (!size) {
    munmap(memory, mapped);
    return std::unexpected(std::move(size.error()));
  }
  // Give back the pages the bound over-estimated, and fill the rest of the last page with int3 so
  // that nothing but the generated code is executable.
  const std::size_t used = (*size + page - 1) / page * page;
  if (used < mapped) {
    munmap(bytes + used, mapped - used);
    mapped = used;
  }
  std::memset(bytes + *size, 0xcc, mapped - *size);
  if (mprotect(memory, mapped, PROT_READ | PROT_EXEC) != 0) {
    const int err = errno;
    munmap(memory, mapped);
    return fail(err, "jit: mprotect of code pages to read+execute");
  }
  return JitCode(memory, mapped, *size);
#else
  (void)program;
  return fail(ENOSYS, "jit: no code generator for this CPU/OS");
#endif
}

}  // namespace ninep::bpf
