#include "bpf/instruction.h"

#include <fmt/format.h>

#include "bpf/assemble.h"
#include "bpf/mnemonics.h"

namespace ninep::bpf {
namespace {

std::string_view name_of(std::uint16_t code) {
  return mnemonic::opcode(code)->name;
}
std::string_view ld(Register r) {
  return name_of(r == Register::X ? op::kLdx | op::kImm : op::kLd | op::kImm);
}
std::string_view ld_size(std::uint32_t size) {
  return mnemonic::load_name(size == 1 ? op::kB : size == 2 ? op::kH : op::kW);
}

// Comparison and bit-mask constants read best in hex (as tcpdump prints them), small values and
// arithmetic operands in decimal.
std::string number(std::uint32_t v, bool prefer_hex) {
  if (prefer_hex && v >= 10) return fmt::format("{:#x}", v);
  return fmt::format("{}", v);
}

// The mnemonic of a condition; one the assembler has no mnemonic for (bits-not-set) prints as
// its positive form with the targets swapped.
std::string jump(JumpTest cond, const std::string& operand, std::uint8_t t, std::uint8_t f) {
  bool negated = false;
  const mnemonic::Condition* c = mnemonic::condition_of(cond, negated);
  if (c == nullptr) return fmt::format("j? {},{},{}", operand, t, f);
  std::string_view name = negated ? c->negated : c->name;
  if (name.empty()) {
    name = c->name;
    std::swap(t, f);
  }
  return fmt::format("{} {},{},{}", name, operand, t, f);
}

struct Printer {
  std::string operator()(const LoadConstant& i) const {
    return fmt::format("{} #{}", ld(i.dst), i.val);
  }
  std::string operator()(const LoadScratch& i) const {
    return fmt::format("{} M[{}]", ld(i.dst), i.n);
  }
  std::string operator()(const LoadAbsolute& i) const {
    if (i.off >= 0xfffff000u) {
      const char* name = extension_name(static_cast<Extension>(i.off - 0xfffff000u));
      // bpf_asm's `ldh proto`: an ancillary load of a smaller size.
      if (name != nullptr && std::string_view(name) != "len")
        return fmt::format("{} {}", ld_size(i.size), name);
    }
    return fmt::format("{} [{}]", ld_size(i.size), i.off);
  }
  std::string operator()(const LoadIndirect& i) const {
    return fmt::format("{} [x + {}]", ld_size(i.size), i.off);
  }
  std::string operator()(const LoadMemShift& i) const {
    return fmt::format("ldx 4*([{}]&0xf)", i.off);
  }
  std::string operator()(const LoadExtension& i) const {
    if (i.ext == Extension::Len) return fmt::format("{} #len", ld(i.dst));
    return fmt::format("ld {}", extension_name(i.ext));
  }
  std::string operator()(const StoreScratch& i) const {
    return fmt::format("{} M[{}]", name_of(i.src == Register::X ? op::kStx : op::kSt), i.n);
  }
  std::string operator()(const ALUOpConstant& i) const {
    const mnemonic::AluOperation* alu = mnemonic::alu_operation(static_cast<std::uint16_t>(i.op));
    return fmt::format("{} #{}", alu_op_name(i.op), number(i.val, alu != nullptr && alu->hex));
  }
  std::string operator()(const ALUOpX& i) const { return fmt::format("{} x", alu_op_name(i.op)); }
  std::string operator()(const NegateA&) const { return std::string(name_of(op::kAlu | op::kNeg)); }
  std::string operator()(const Jump& i) const { return fmt::format("ja {}", i.skip); }
  std::string operator()(const JumpIf& i) const {
    return jump(i.cond, "#" + number(i.val, true), i.skip_true, i.skip_false);
  }
  std::string operator()(const JumpIfX& i) const {
    return jump(i.cond, "x", i.skip_true, i.skip_false);
  }
  std::string operator()(const RetA&) const { return "ret a"; }
  std::string operator()(const RetConstant& i) const { return fmt::format("ret #{}", i.val); }
  std::string operator()(const TXA&) const { return std::string(name_of(op::kMisc | op::kTxa)); }
  std::string operator()(const TAX&) const { return std::string(name_of(op::kMisc | op::kTax)); }
  std::string operator()(const RawInstruction& i) const {
    return fmt::format("raw {:#x},{},{},{:#x}", i.op, i.jt, i.jf, i.k);
  }
};

}  // namespace

const char* extension_name(Extension ext) {
  if (ext == Extension::Len) return "len";
  const mnemonic::ExtensionName* e = mnemonic::extension(ext);
  return e != nullptr ? e->name.data() : nullptr;
}

const char* alu_op_name(ALUOp o) {
  const mnemonic::AluOperation* a = mnemonic::alu_operation(static_cast<std::uint16_t>(o));
  return a != nullptr ? a->name.data() : nullptr;
}

std::string to_string(const Instruction& instruction) {
  if (!std::holds_alternative<RawInstruction>(instruction)) {
    auto checked = assemble(instruction);
    if (!checked) return "invalid: " + checked.error().message;
  }
  return std::visit(Printer{}, instruction);
}

}  // namespace ninep::bpf
