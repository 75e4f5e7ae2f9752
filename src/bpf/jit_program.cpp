// The JIT's program analysis: proven packet lengths, jump targets, and liveness of A and X.
#include "bpf/jit_program.h"

#include <algorithm>

namespace ninep::bpf::jit {
namespace {

using Flag = ProgramFacts::Flag;

// Registers an instruction reads (`use`) and writes (`def`), as ProgramFacts flags.
struct Effect {
  std::uint8_t use = 0;
  std::uint8_t def = 0;
};

Effect effect(const RawInstruction& in) {
  constexpr std::uint8_t a = Flag::kLiveA;
  constexpr std::uint8_t x = Flag::kLiveX;
  switch (in.op & 0x07) {
    case 0x00:  // ld
      if (is_indirect_load(in.op)) return {x, a};
      if (is_extension(in)) {
        const std::uint32_t ext = in.k - kExtensionBase;
        if (ext == kExtAluXorX || ext == kExtNlAttr || ext == kExtNlAttrNest)
          return {static_cast<std::uint8_t>(a | x), a};
        // Without a device, ifindex and hatype end the run with verdict A.
        if (ext == kExtIfIndex || ext == kExtHaType) return {a, a};
        return {0, a};
      }
      return {0, a};
    case 0x01:  // ldx
      return {0, x};
    case 0x02:  // st
      return {a, 0};
    case 0x03:  // stx
      return {x, 0};
    case 0x04:  // alu
      return {static_cast<std::uint8_t>((in.op & 0x08) ? a | x : a), a};
    case 0x05:  // jmp
      if (in.op == kJa) return {};
      return {static_cast<std::uint8_t>((in.op & 0x08) ? a | x : a), 0};
    case 0x06:  // ret
      return {static_cast<std::uint8_t>(in.op == kRetA ? a : 0), 0};
    default:  // misc: tax reads A, txa reads X
      return in.op == kTax ? Effect{a, x} : Effect{x, a};
  }
}

}  // namespace

Result<void> analyse(std::span<const RawInstruction> program, ProgramFacts& facts) {
  const std::size_t n = program.size();
  if (n == 0 || n > kMaxInstructions)
    return fail(EINVAL, "jit: program must have 1 to 4096 instructions");
  constexpr std::uint32_t kUnreached = 0xffffffff;
  std::fill_n(facts.proven_len.begin(), n, kUnreached);
  std::fill_n(facts.flags.begin(), n, std::uint8_t{0});
  facts.proven_len[0] = 0;

  // Forward: structure, proven lengths, jump targets, what the prologue must set up.
  for (std::size_t i = 0; i < n; ++i) {
    const RawInstruction& in = program[i];
    std::uint32_t& entry = facts.proven_len[i];
    if (entry == kUnreached) entry = 0;
    std::uint32_t proven = entry;
    auto flow_to = [&](std::size_t target) {
      facts.proven_len[target] = std::min(facts.proven_len[target], proven);
    };
    if (is_jump(in.op)) {
      const std::size_t on_true = i + 1 + (in.op == kJa ? in.k : in.jt);
      const std::size_t on_false = i + 1 + (in.op == kJa ? in.k : in.jf);
      if ((in.op == kJa && in.k >= n - i - 1) || on_true >= n || on_false >= n) {
        return fail(EINVAL, "jit: jump out of range");
      }
      flow_to(on_true);
      flow_to(on_false);
      facts.flags[on_true] |= Flag::kJumpTarget;
      facts.flags[on_false] |= Flag::kJumpTarget;
      continue;
    }
    if (is_return(in.op)) continue;
    if (i + 1 >= n) return fail(EINVAL, "jit: the last instruction is not a return");
    if (is_absolute_load(in.op) && in.k < kNegativeOffset) {
      proven = std::max(proven, in.k + load_size(in.op));
    } else if (in.op == kLdxMsh && in.k < kNegativeOffset) {
      proven = std::max(proven, in.k + 1);
    }
    if (in.op == kLdMem || in.op == kLdxMem || in.op == kSt || in.op == kStx) {
      if (in.k >= kScratchWords) return fail(EINVAL, "jit: scratch index out of range");
      facts.scratch = true;
    }
    if (is_indirect_load(in.op) || is_header_load(in)) {
      facts.context = true;  // the header areas
      facts.half_checks |= load_size(in.op) == 2;
      facts.word_checks |= load_size(in.op) == 4;
      facts.indirect_loads += is_indirect_load(in.op);
    }
    if (is_extension(in)) {
      facts.context = true;
      facts.calls |= calls_helper(in);
      const std::uint32_t ext = in.k - kExtensionBase;
      facts.device |= ext == kExtIfIndex || ext == kExtHaType;
    }
    flow_to(i + 1);
  }

  // Backward: live_in = use | (live_out & ~def).
  constexpr std::uint8_t kLive = Flag::kLiveA | Flag::kLiveX;
  for (std::size_t i = n; i-- > 0;) {
    const RawInstruction& in = program[i];
    std::uint8_t out = 0;
    if (in.op == kJa) {
      out = facts.flags[i + 1 + in.k];
    } else if (is_jump(in.op)) {
      out = facts.flags[i + 1 + in.jt] | facts.flags[i + 1 + in.jf];
    } else if (!is_return(in.op)) {
      out = facts.flags[i + 1];
    }
    const Effect e = effect(in);
    const std::uint8_t live = (e.use | (out & ~e.def)) & kLive;
    facts.flags[i] = static_cast<std::uint8_t>((facts.flags[i] & ~kLive) | live);
  }
  return {};
}

}  // namespace ninep::bpf::jit
