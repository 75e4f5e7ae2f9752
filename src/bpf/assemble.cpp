#include "bpf/assemble.h"

#include <fmt/format.h>

#include "bpf/mnemonics.h"

namespace ninep::bpf {
namespace {

RawInstruction raw(std::uint16_t code, std::uint32_t k = 0, std::uint8_t jt = 0,
                   std::uint8_t jf = 0) {
  return RawInstruction{code, jt, jf, k};
}

Result<std::uint16_t> size_bits(std::uint32_t size) {
  switch (size) {
    case 4:
      return op::kW;
    case 2:
      return op::kH;
    case 1:
      return op::kB;
  }
  return fail(EINVAL, fmt::format("bad load size {} (1, 2 or 4)", size));
}

Result<std::uint16_t> register_class(Register r, std::uint16_t for_a, std::uint16_t for_x) {
  if (r == Register::A) return for_a;
  if (r == Register::X) return for_x;
  return fail(EINVAL, fmt::format("bad register {}", static_cast<unsigned>(r)));
}

Result<std::uint32_t> scratch_slot(std::uint32_t n) {
  if (n >= kScratchWords) return fail(EINVAL, fmt::format("bad scratch slot {} (0..15)", n));
  return n;
}

Result<std::uint16_t> alu_bits(ALUOp alu) {
  if (mnemonic::alu_operation(static_cast<std::uint16_t>(alu)) == nullptr)
    return fail(EINVAL, fmt::format("unknown ALU op {:#x}", static_cast<unsigned>(alu)));
  return static_cast<std::uint16_t>(alu);
}

bool is_ancillary(Extension ext) {
  return mnemonic::extension(ext) != nullptr;
}

Result<RawInstruction> conditional(JumpTest cond, std::uint16_t source, std::uint32_t k,
                                   std::uint8_t skip_true, std::uint8_t skip_false) {
  bool swap = false;  // the machine has only the positive conditions
  const mnemonic::Condition* c = mnemonic::condition_of(cond, swap);
  if (c == nullptr)
    return fail(EINVAL, fmt::format("unknown condition {}", static_cast<unsigned>(cond)));
  const std::uint16_t code = op::kJmp | c->op | source;
  return swap ? raw(code, k, skip_false, skip_true) : raw(code, k, skip_true, skip_false);
}

struct Assembler {
  Result<RawInstruction> operator()(const LoadConstant& i) const {
    auto cls = register_class(i.dst, op::kLd, op::kLdx);
    if (!cls) return std::unexpected(cls.error());
    return raw(*cls | op::kImm, i.val);
  }
  Result<RawInstruction> operator()(const LoadScratch& i) const {
    auto cls = register_class(i.dst, op::kLd, op::kLdx);
    if (!cls) return std::unexpected(cls.error());
    auto n = scratch_slot(i.n);
    if (!n) return std::unexpected(n.error());
    return raw(*cls | op::kMem, *n);
  }
  Result<RawInstruction> operator()(const LoadAbsolute& i) const {
    auto size = size_bits(i.size);
    if (!size) return std::unexpected(size.error());
    return raw(op::kLd | op::kAbs | *size, i.off);
  }
  Result<RawInstruction> operator()(const LoadIndirect& i) const {
    auto size = size_bits(i.size);
    if (!size) return std::unexpected(size.error());
    return raw(op::kLd | op::kInd | *size, i.off);
  }
  Result<RawInstruction> operator()(const LoadMemShift& i) const {
    return raw(op::kLdx | op::kMsh | op::kB, i.off);
  }
  Result<RawInstruction> operator()(const LoadExtension& i) const {
    if (i.ext == Extension::Len) {
      auto cls = register_class(i.dst, op::kLd, op::kLdx);
      if (!cls) return std::unexpected(cls.error());
      return raw(*cls | op::kLen | op::kW);
    }
    if (!is_ancillary(i.ext))
      return fail(EINVAL, fmt::format("unknown extension {}", static_cast<std::uint32_t>(i.ext)));
    if (i.dst != Register::A) return fail(EINVAL, "bad register: only len can be loaded into X");
    return raw(op::kLd | op::kAbs | op::kW, op::kAncillaryBase + static_cast<std::uint32_t>(i.ext));
  }
  Result<RawInstruction> operator()(const StoreScratch& i) const {
    auto cls = register_class(i.src, op::kSt, op::kStx);
    if (!cls) return std::unexpected(cls.error());
    auto n = scratch_slot(i.n);
    if (!n) return std::unexpected(n.error());
    return raw(*cls, *n);
  }
  Result<RawInstruction> operator()(const ALUOpConstant& i) const {
    auto bits = alu_bits(i.op);
    if (!bits) return std::unexpected(bits.error());
    return raw(op::kAlu | *bits | op::kK, i.val);
  }
  Result<RawInstruction> operator()(const ALUOpX& i) const {
    auto bits = alu_bits(i.op);
    if (!bits) return std::unexpected(bits.error());
    return raw(op::kAlu | *bits | op::kX);
  }
  Result<RawInstruction> operator()(const NegateA&) const { return raw(op::kAlu | op::kNeg); }
  Result<RawInstruction> operator()(const Jump& i) const { return raw(op::kJmp | op::kJa, i.skip); }
  Result<RawInstruction> operator()(const JumpIf& i) const {
    return conditional(i.cond, op::kK, i.val, i.skip_true, i.skip_false);
  }
  Result<RawInstruction> operator()(const JumpIfX& i) const {
    return conditional(i.cond, op::kX, 0, i.skip_true, i.skip_false);
  }
  Result<RawInstruction> operator()(const RetA&) const { return raw(op::kRet | op::kA); }
  Result<RawInstruction> operator()(const RetConstant& i) const {
    return raw(op::kRet | op::kK, i.val);
  }
  Result<RawInstruction> operator()(const TXA&) const { return raw(op::kMisc | op::kTxa); }
  Result<RawInstruction> operator()(const TAX&) const { return raw(op::kMisc | op::kTax); }
  Result<RawInstruction> operator()(const RawInstruction& i) const { return i; }
};

std::uint32_t load_size(std::uint16_t code) {
  return op::size_bytes(op::size(code));
}

// The typed candidate for a raw instruction, ignoring whether unused fields are zero (the
// caller checks that by assembling the candidate back).
Instruction candidate(RawInstruction r) {
  const std::uint16_t c = r.op;
  switch (c) {
    case op::kLd | op::kImm:
      return LoadConstant{Register::A, r.k};
    case op::kLdx | op::kImm:
      return LoadConstant{Register::X, r.k};
    case op::kLd | op::kMem:
      return LoadScratch{Register::A, r.k};
    case op::kLdx | op::kMem:
      return LoadScratch{Register::X, r.k};
    case op::kLd | op::kLen | op::kW:
      return LoadExtension{Extension::Len, Register::A};
    case op::kLdx | op::kLen | op::kW:
      return LoadExtension{Extension::Len, Register::X};
    case op::kLd | op::kAbs | op::kW:
      if (r.k >= op::kAncillaryBase) {
        const auto ext = static_cast<Extension>(r.k - op::kAncillaryBase);
        if (is_ancillary(ext)) return LoadExtension{ext, Register::A};
      }
      return LoadAbsolute{r.k, 4};
    case op::kLd | op::kAbs | op::kH:
    case op::kLd | op::kAbs | op::kB:
      return LoadAbsolute{r.k, load_size(c)};
    case op::kLd | op::kInd | op::kW:
    case op::kLd | op::kInd | op::kH:
    case op::kLd | op::kInd | op::kB:
      return LoadIndirect{r.k, load_size(c)};
    case op::kLdx | op::kMsh | op::kB:
      return LoadMemShift{r.k};
    case op::kSt:
      return StoreScratch{Register::A, r.k};
    case op::kStx:
      return StoreScratch{Register::X, r.k};
    case op::kAlu | op::kNeg:
      return NegateA{};
    case op::kJmp | op::kJa:
      return Jump{r.k};
    case op::kRet | op::kA:
      return RetA{};
    case op::kRet | op::kK:
      return RetConstant{r.k};
    case op::kMisc | op::kTax:
      return TAX{};
    case op::kMisc | op::kTxa:
      return TXA{};
  }
  if (op::cls(c) == op::kAlu && (c & ~0xf8) == op::kAlu) {
    const auto alu = static_cast<ALUOp>(op::alu_op(c));
    if (mnemonic::alu_operation(op::alu_op(c)) != nullptr) {
      if (op::src(c) == op::kX) return ALUOpX{alu};
      return ALUOpConstant{alu, r.k};
    }
  }
  if (op::cls(c) == op::kJmp && (c & ~0xf8) == op::kJmp) {
    const mnemonic::Condition* condition = mnemonic::condition(op::alu_op(c));
    if (condition == nullptr) return r;
    const JumpTest positive = condition->test, negative = condition->negated_test;
    // As Go does: "jump if false" reads better as the negated condition.
    const bool negate = r.jt == 0 && r.jf != 0;
    const JumpTest cond = negate ? negative : positive;
    const std::uint8_t skip_true = negate ? r.jf : r.jt;
    const std::uint8_t skip_false = negate ? r.jt : r.jf;
    if (op::src(c) == op::kX) return JumpIfX{cond, skip_true, skip_false};
    return JumpIf{cond, r.k, skip_true, skip_false};
  }
  return r;
}

}  // namespace

Result<RawInstruction> assemble(const Instruction& instruction) {
  return std::visit(Assembler{}, instruction);
}

Result<std::vector<RawInstruction>> assemble(std::span<const Instruction> program) {
  std::vector<RawInstruction> out;
  out.reserve(program.size());
  for (std::size_t i = 0; i < program.size(); ++i) {
    auto r = assemble(program[i]);
    if (!r) return fail(EINVAL, fmt::format("instruction {}: {}", i, r.error().message));
    out.push_back(*r);
  }
  return out;
}

Instruction disassemble(RawInstruction raw) {
  Instruction typed = candidate(raw);
  if (std::holds_alternative<RawInstruction>(typed)) return typed;
  auto back = assemble(typed);
  if (!back || *back != raw) return raw;
  return typed;
}

Disassembly disassemble(std::span<const RawInstruction> program) {
  Disassembly out;
  out.instructions.reserve(program.size());
  for (const RawInstruction& r : program) {
    out.instructions.push_back(disassemble(r));
    if (std::holds_alternative<RawInstruction>(out.instructions.back())) out.all_decoded = false;
  }
  return out;
}

}  // namespace ninep::bpf
