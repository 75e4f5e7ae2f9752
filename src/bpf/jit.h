// Native code for a validated classic BPF program (x86-64 Linux; elsewhere compile() says ENOSYS).
//
// The generated function keeps A, X, the packet pointer and its length in registers, the scratch
// words on the stack, checks every packet load inline (a load past the end, or a division by
// X == 0, ends the run with verdict 0; negative offsets go to the Context's header areas out of
// line) and reads extension values from the Context. Its pages are mapped writable, filled, then
// switched to read+execute (never writable and executable at once) and unmapped with the JitCode.
// Semantics are the Vm's (vm.h), which are the Linux kernel's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bpf/context.h"
#include "bpf/engine.h"
#include "bpf/raw.h"
#include "common/error.h"

namespace ninep::bpf {

class JitCode {
 public:
  // `program` must already have passed the kernel's classic checks (the validator); compile() does
  // not re-validate it. Fails with ENOSYS where there is no JIT, with the errno of mmap/mprotect
  // when executable memory is refused, and with EINVAL for an instruction it cannot encode.
  static Result<JitCode> compile(std::span<const RawInstruction> program);

  // True on builds that have a code generator (x86-64 Linux).
  static bool available();

  JitCode(JitCode&& other) noexcept;
  JitCode& operator=(JitCode&& other) noexcept;
  JitCode(const JitCode&) = delete;
  JitCode& operator=(const JitCode&) = delete;
  ~JitCode();

  // The verdict of the program for `len` bytes at `packet`; never fails, never reads outside them
  // (nor outside the header areas the context places in them). As Vm::run does, present packets
  // of at most 2^31 - 1 bytes: the kernel sees offsets from 2^31 up as negative.
  std::uint32_t run(const std::uint8_t* packet, std::uint32_t len, const Context& ctx) const {
    return entry_(packet, len, &ctx);
  }

  // The generated code as a Vm engine's run function (it ignores the state argument).
  engine::RunFunction run_function() const {
    return reinterpret_cast<engine::RunFunction>(memory_);
  }

  // The first byte of the generated code and its length (for tests and diagnostics).
  const void* code() const { return memory_; }
  std::size_t code_size() const { return code_size_; }

 private:
  using Entry = std::uint32_t (*)(const std::uint8_t*, std::uint32_t, const Context*);

  JitCode(void* memory, std::size_t mapped_size, std::size_t code_size);
  void release() noexcept;

  void* memory_ = nullptr;
  std::size_t mapped_size_ = 0;
  std::size_t code_size_ = 0;
  Entry entry_ = nullptr;
};

namespace jit {

// The JIT as a Vm engine (Engine::Jit): JitCode::compile()'s errors, or the program whose run
// function is the generated code.
Result<engine::Program> compile(std::span<const RawInstruction> program);

}  // namespace jit
}  // namespace ninep::bpf
