// A validated classic BPF program ready to run over packets, with the Linux kernel's semantics.
//
//   auto vm = ninep::bpf::Vm::create(program);      // validates once (validate.h)
//   std::uint32_t verdict = vm->run(packet);        // never fails, never reads outside packet
//
// Semantics (those of the kernel, which is where cBPF programs really run): A, X and M[0..15]
// are 32-bit and start at 0; loads are big-endian; a load past the end of the packet or a
// division/modulo by X == 0 ends the run with verdict 0; shift counts taken from X are masked
// with & 31; X + k offsets wrap modulo 2^32; `ld len` is the packet's length; extensions read the
// Context. The verdict is returned raw; kept_length() gives the bytes a socket would keep.
// Packets longer than 2^31 - 1 bytes are seen as that long; offsets the kernel treats as negative
// address its header areas (SKF_NET_OFF, SKF_LL_OFF), placed by Context::network_header and
// link_header (by default absent: such loads fail).
//
// A Vm may be run from several threads at once; the default random source is then shared.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "bpf/context.h"
#include "bpf/engine.h"
#include "bpf/instruction.h"
#include "bpf/random.h"
#include "bpf/raw.h"
#include "common/error.h"

namespace ninep::bpf {

class Vm {
 public:
  // Validates `program` and prepares it for an engine: `force` picks one (for tests and
  // benchmarks), otherwise the best available one is used. Fails with EINVAL naming the
  // offending instruction when the kernel would reject the program, and with ENOSYS when the
  // forced engine is not available here.
  static Result<Vm> create(std::span<const RawInstruction> program,
                           std::optional<Engine> force = std::nullopt);
  // The same for typed instructions (assembled first).
  static Result<Vm> create(std::span<const Instruction> program,
                           std::optional<Engine> force = std::nullopt);

  // The verdict for `packet`, with a default Context (no extension data, the Vm's own
  // fixed-seed random source).
  std::uint32_t run(std::span<const std::uint8_t> packet) const {
    return program_.run(packet.data(), length_of(packet), &shared_->context, program_.state);
  }
  // The verdict with the caller's extension values; a null context.random means the Vm's own.
  std::uint32_t run(std::span<const std::uint8_t> packet, const Context& context) const {
    if (context.random == nullptr) return run_with_own_random(packet, context);
    return program_.run(packet.data(), length_of(packet), &context, program_.state);
  }

  // The number of bytes a socket filter with this verdict keeps of `length` bytes:
  // min(verdict, length); 0 means the packet is dropped.
  static std::uint32_t kept_length(std::uint32_t verdict, std::size_t length) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(verdict, length));
  }
  std::uint32_t kept_length(std::span<const std::uint8_t> packet) const {
    return kept_length(run(packet), packet.size());
  }
  std::uint32_t kept_length(std::span<const std::uint8_t> packet, const Context& context) const {
    return kept_length(run(packet, context), packet.size());
  }

  Engine engine() const { return program_.engine; }
  std::span<const RawInstruction> program() const { return instructions_; }

  Vm(Vm&&) noexcept = default;
  Vm& operator=(Vm&&) noexcept = default;

 private:
  // The default random source and Context, at an address that survives moves.
  struct Shared {
    // Every Vm starts the same sequence, so runs are reproducible; pass Context::random for
    // another.
    static constexpr std::uint64_t kSeed = 0x6e696e6570627066;  // "ninepbpf"
    SharedSplitMix64 random{kSeed};
    Context context;
    Shared() {
      context.random = &SharedSplitMix64::next_of;
      context.random_state = &random;
    }
  };
  Vm(std::vector<RawInstruction> instructions, engine::Program program);

  static std::uint32_t length_of(std::span<const std::uint8_t> packet) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(packet.size(), 0x7fffffff));
  }
  std::uint32_t run_with_own_random(std::span<const std::uint8_t> packet,
                                    const Context& context) const;

  std::vector<RawInstruction> instructions_;
  engine::Program program_;
  std::unique_ptr<Shared> shared_;
};

}  // namespace ninep::bpf
