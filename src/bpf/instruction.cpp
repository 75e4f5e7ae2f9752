#include "bpf/instruction.h"

#include <fmt/format.h>

#include "bpf/assemble.h"

namespace ninep::bpf {
namespace {

const char* ld(Register r) {
  return r == Register::X ? "ldx" : "ld";
}
const char* ld_size(std::uint32_t size) {
  return size == 1 ? "ldb" : size == 2 ? "ldh" : "ld";
}

// Comparison and bit-mask constants read best in hex (as tcpdump prints them), small values and
// arithmetic operands in decimal.
std::string number(std::uint32_t v, bool prefer_hex) {
  if (prefer_hex && v >= 10) return fmt::format("{:#x}", v);
  return fmt::format("{}", v);
}

bool bitwise(ALUOp o) {
  return o == ALUOp::And || o == ALUOp::Or || o == ALUOp::Xor;
}

// The mnemonic of a condition, and whether printing it needs the targets swapped because the
// assembler has no mnemonic for it (bits-not-set prints as jset with swapped targets).
struct Mnemonic {
  const char* name;
  bool swap;
};
Mnemonic jump_mnemonic(JumpTest cond) {
  switch (cond) {
    case JumpTest::Equal:
      return {"jeq", false};
    case JumpTest::NotEqual:
      return {"jneq", false};
    case JumpTest::GreaterThan:
      return {"jgt", false};
    case JumpTest::LessThan:
      return {"jlt", false};
    case JumpTest::GreaterOrEqual:
      return {"jge", false};
    case JumpTest::LessOrEqual:
      return {"jle", false};
    case JumpTest::BitsSet:
      return {"jset", false};
    case JumpTest::BitsNotSet:
      return {"jset", true};
  }
  return {"j?", false};
}

std::string jump(JumpTest cond, const std::string& operand, std::uint8_t t, std::uint8_t f) {
  const Mnemonic m = jump_mnemonic(cond);
  if (m.swap) std::swap(t, f);
  return fmt::format("{} {},{},{}", m.name, operand, t, f);
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
    return fmt::format("{} M[{}]", i.src == Register::X ? "stx" : "st", i.n);
  }
  std::string operator()(const ALUOpConstant& i) const {
    return fmt::format("{} #{}", alu_op_name(i.op), number(i.val, bitwise(i.op)));
  }
  std::string operator()(const ALUOpX& i) const { return fmt::format("{} x", alu_op_name(i.op)); }
  std::string operator()(const NegateA&) const { return "neg"; }
  std::string operator()(const Jump& i) const { return fmt::format("ja {}", i.skip); }
  std::string operator()(const JumpIf& i) const {
    return jump(i.cond, "#" + number(i.val, true), i.skip_true, i.skip_false);
  }
  std::string operator()(const JumpIfX& i) const {
    return jump(i.cond, "x", i.skip_true, i.skip_false);
  }
  std::string operator()(const RetA&) const { return "ret a"; }
  std::string operator()(const RetConstant& i) const { return fmt::format("ret #{}", i.val); }
  std::string operator()(const TXA&) const { return "txa"; }
  std::string operator()(const TAX&) const { return "tax"; }
  std::string operator()(const RawInstruction& i) const {
    return fmt::format("raw {:#x},{},{},{:#x}", i.op, i.jt, i.jf, i.k);
  }
};

}  // namespace

const char* extension_name(Extension ext) {
  switch (ext) {
    case Extension::Protocol:
      return "proto";
    case Extension::PacketType:
      return "type";
    case Extension::InterfaceIndex:
      return "ifidx";
    case Extension::NetlinkAttribute:
      return "nla";
    case Extension::NetlinkAttributeNested:
      return "nlan";
    case Extension::Mark:
      return "mark";
    case Extension::Queue:
      return "queue";
    case Extension::LinkLayerType:
      return "hatype";
    case Extension::RxHash:
      return "rxhash";
    case Extension::CpuId:
      return "cpu";
    case Extension::AluXorX:
      return "xor_x";
    case Extension::VlanTag:
      return "vlan_tci";
    case Extension::VlanTagPresent:
      return "vlan_avail";
    case Extension::PayloadOffset:
      return "poff";
    case Extension::Random:
      return "rand";
    case Extension::VlanProtocol:
      return "vlan_tpid";
    case Extension::Len:
      return "len";
  }
  return nullptr;
}

const char* alu_op_name(ALUOp o) {
  switch (o) {
    case ALUOp::Add:
      return "add";
    case ALUOp::Sub:
      return "sub";
    case ALUOp::Mul:
      return "mul";
    case ALUOp::Div:
      return "div";
    case ALUOp::Or:
      return "or";
    case ALUOp::And:
      return "and";
    case ALUOp::Lsh:
      return "lsh";
    case ALUOp::Rsh:
      return "rsh";
    case ALUOp::Mod:
      return "mod";
    case ALUOp::Xor:
      return "xor";
  }
  return nullptr;
}

std::string to_string(const Instruction& instruction) {
  if (!std::holds_alternative<RawInstruction>(instruction)) {
    auto checked = assemble(instruction);
    if (!checked) return "invalid: " + checked.error().message;
  }
  return std::visit(Printer{}, instruction);
}

}  // namespace ninep::bpf
