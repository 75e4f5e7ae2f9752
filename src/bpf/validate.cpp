#include "bpf/validate.h"

#include <fmt/format.h>

#include <array>
#include <vector>

#include "bpf/mnemonics.h"

namespace ninep::bpf {
namespace {

using namespace op;

constexpr std::array<bool, 256> allowed_table() {
  std::array<bool, 256> t{};
  for (const mnemonic::Opcode& o : mnemonic::kOpcodes) t[o.code] = true;
  return t;
}
constexpr std::array<bool, 256> kAllowedTable = allowed_table();

Rejection at(std::size_t index, std::string reason) {
  return Rejection{index, std::move(reason)};
}

// check_load_and_stores(): one bit per scratch word, "written on every path so far". A jump
// narrows the set at its targets; the instruction after a jump starts from "all written" (it is
// reached only through jumps, whose sets its mask already holds), but the instruction after a
// `ret` inherits the set from before the `ret`, as the kernel does.
std::optional<Rejection> check_scratch(std::span<const RawInstruction> program) {
  std::vector<std::uint16_t> masks(program.size(), 0xffff);
  std::uint16_t valid = 0;
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const RawInstruction& in = program[pc];
    valid &= masks[pc];
    switch (in.op) {
      case kSt:
      case kStx:
        valid |= static_cast<std::uint16_t>(1u << in.k);
        break;
      case kLd | kMem:
      case kLdx | kMem:
        if (!(valid & (1u << in.k)))
          return at(pc, fmt::format("reads M[{}], which is not written on every path to it", in.k));
        break;
      case kJmp | kJa:
        masks[pc + 1 + in.k] &= valid;
        valid = 0xffff;
        break;
      default:
        if (mnemonic::is_conditional(in.op)) {
          masks[pc + 1 + in.jt] &= valid;
          masks[pc + 1 + in.jf] &= valid;
          valid = 0xffff;
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace

bool opcode_allowed(std::uint16_t code) {
  return code < 256 && kAllowedTable[code];
}

std::string Rejection::to_string() const {
  if (!index) return reason;
  return fmt::format("instruction {}: {}", *index, reason);
}

std::optional<Rejection> find_rejection(std::span<const RawInstruction> program) {
  const std::size_t n = program.size();
  if (n == 0) return Rejection{std::nullopt, "empty program"};
  if (n > kMaxInstructions)
    return Rejection{std::nullopt, fmt::format("{} instructions, more than the kernel's {}", n,
                                               kMaxInstructions)};
  for (std::size_t pc = 0; pc < n; ++pc) {
    const RawInstruction& in = program[pc];
    if (!opcode_allowed(in.op))
      return at(pc, fmt::format("opcode {:#x} is not a classic BPF instruction the kernel accepts",
                                in.op));
    switch (in.op) {
      case kAlu | kDiv | kK:
        if (in.k == 0) return at(pc, "division by constant 0");
        break;
      case kAlu | kMod | kK:
        if (in.k == 0) return at(pc, "modulo by constant 0");
        break;
      case kAlu | kLsh | kK:
      case kAlu | kRsh | kK:
        if (in.k >= 32) return at(pc, fmt::format("shift by constant {} (must be < 32)", in.k));
        break;
      case kLd | kMem:
      case kLdx | kMem:
      case kSt:
      case kStx:
        if (in.k >= kScratchWords)
          return at(pc, fmt::format("scratch slot M[{}] out of range 0..15", in.k));
        break;
      case kJmp | kJa:
        if (in.k >= n - pc - 1)
          return at(pc, fmt::format("ja skips {} instructions, past the end of the program", in.k));
        break;
      case kLd | kW | kAbs:
      case kLd | kH | kAbs:
      case kLd | kB | kAbs:
        if (in.k >= kAncillaryBase &&
            mnemonic::extension(static_cast<Extension>(in.k - kAncillaryBase)) == nullptr)
          return at(pc, fmt::format("unknown extension at SKF_AD_OFF+{}", in.k - kAncillaryBase));
        break;
      default:
        if (mnemonic::is_conditional(in.op)) {
          if (pc + in.jt + 1 >= n)
            return at(pc, fmt::format("jump if true skips {}, past the end of the program", in.jt));
          if (pc + in.jf + 1 >= n)
            return at(pc,
                      fmt::format("jump if false skips {}, past the end of the program", in.jf));
        }
        break;
    }
  }
  const std::uint16_t last = program[n - 1].op;
  if (last != (kRet | kK) && last != (kRet | kA))
    return at(n - 1, "the last instruction is not a return (ret #k or ret a)");
  return check_scratch(program);
}

Result<void> validate(std::span<const RawInstruction> program) {
  if (auto r = find_rejection(program)) return fail(EINVAL, r->to_string());
  return {};
}

}  // namespace ninep::bpf
