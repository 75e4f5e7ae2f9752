#include "bpf/validate.h"

#include <fmt/format.h>

#include <array>
#include <vector>

#include "bpf/mnemonics.h"
#include "bpf/opcodes.h"

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

// Why seccomp refuses an opcode the socket checks accept.
const char* seccomp_refusal(std::uint16_t code) {
  switch (mode(code)) {
    case kInd:
      return "a load relative to X";
    case kMsh:
      return "the IPv4 header length load";
    default:
      break;
  }
  if (code == (kAlu | kMod | kK) || code == (kAlu | kMod | kX)) return "modulo";
  if (cls(code) == kLd || cls(code) == kLdx) return "only word loads";
  return "not in seccomp's list";
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

// seccomp_check_filter(): run after the socket checks, over a program they accepted.
std::optional<Rejection> check_seccomp(std::span<const RawInstruction> program) {
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const RawInstruction& in = program[pc];
    switch (in.op) {
      case kLd | kW | kAbs:
        if (in.k >= kSeccompDataSize)
          return at(pc,
                    fmt::format("seccomp: ld [{}] reads past the 64 bytes of seccomp_data", in.k));
        if (in.k % 4 != 0)
          return at(pc,
                    fmt::format("seccomp: ld [{}] is not a 4-aligned word of seccomp_data", in.k));
        break;
      case kLd | kW | kLen:
      case kLdx | kW | kLen:
      case kRet | kK:
      case kRet | kA:
      case kAlu | kAdd | kK:
      case kAlu | kAdd | kX:
      case kAlu | kSub | kK:
      case kAlu | kSub | kX:
      case kAlu | kMul | kK:
      case kAlu | kMul | kX:
      case kAlu | kDiv | kK:
      case kAlu | kDiv | kX:
      case kAlu | kAnd | kK:
      case kAlu | kAnd | kX:
      case kAlu | kOr | kK:
      case kAlu | kOr | kX:
      case kAlu | kXor | kK:
      case kAlu | kXor | kX:
      case kAlu | kLsh | kK:
      case kAlu | kLsh | kX:
      case kAlu | kRsh | kK:
      case kAlu | kRsh | kX:
      case kAlu | kNeg:
      case kLd | kImm:
      case kLdx | kImm:
      case kMisc | kTax:
      case kMisc | kTxa:
      case kLd | kMem:
      case kLdx | kMem:
      case kSt:
      case kStx:
      case kJmp | kJa:
      case kJmp | kJeq | kK:
      case kJmp | kJeq | kX:
      case kJmp | kJge | kK:
      case kJmp | kJge | kX:
      case kJmp | kJgt | kK:
      case kJmp | kJgt | kX:
      case kJmp | kJset | kK:
      case kJmp | kJset | kX:
        break;
      default:
        return at(pc, fmt::format("seccomp: opcode {:#x} ({}) is not allowed in a seccomp filter",
                                  in.op, seccomp_refusal(in.op)));
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

std::optional<Rejection> find_rejection(std::span<const RawInstruction> program, FilterKind kind) {
  if (auto r = find_rejection(program)) return r;
  if (kind == FilterKind::Seccomp) return check_seccomp(program);
  return std::nullopt;
}

Result<void> validate(std::span<const RawInstruction> program) {
  return validate(program, FilterKind::Socket);
}

Result<void> validate(std::span<const RawInstruction> program, FilterKind kind) {
  if (auto r = find_rejection(program, kind)) return fail(EINVAL, r->to_string());
  return {};
}

}  // namespace ninep::bpf
