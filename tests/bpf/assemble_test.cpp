// Typed instructions <-> raw instructions, and their text.
#include <gtest/gtest.h>

#include <random>

#include "bpf/assemble.h"
#include "bpf/opcodes.h"
#include "bpf/validate.h"

namespace ninep::bpf {
namespace {

struct Case {
  Instruction typed;
  RawInstruction raw;
  const char* text;
};

const Case kCases[] = {
    {LoadConstant{Register::A, 7}, {0x00, 0, 0, 7}, "ld #7"},
    {LoadConstant{Register::X, 7}, {0x01, 0, 0, 7}, "ldx #7"},
    {LoadScratch{Register::A, 3}, {0x60, 0, 0, 3}, "ld M[3]"},
    {LoadScratch{Register::X, 15}, {0x61, 0, 0, 15}, "ldx M[15]"},
    {LoadAbsolute{12, 4}, {0x20, 0, 0, 12}, "ld [12]"},
    {LoadAbsolute{12, 2}, {0x28, 0, 0, 12}, "ldh [12]"},
    {LoadAbsolute{23, 1}, {0x30, 0, 0, 23}, "ldb [23]"},
    {LoadIndirect{14, 4}, {0x40, 0, 0, 14}, "ld [x + 14]"},
    {LoadIndirect{14, 2}, {0x48, 0, 0, 14}, "ldh [x + 14]"},
    {LoadIndirect{14, 1}, {0x50, 0, 0, 14}, "ldb [x + 14]"},
    {LoadMemShift{14}, {0xb1, 0, 0, 14}, "ldx 4*([14]&0xf)"},
    {LoadExtension{Extension::Len}, {0x80, 0, 0, 0}, "ld #len"},
    {LoadExtension{Extension::Len, Register::X}, {0x81, 0, 0, 0}, "ldx #len"},
    {LoadExtension{Extension::Protocol}, {0x20, 0, 0, 0xfffff000}, "ld proto"},
    {LoadExtension{Extension::PacketType}, {0x20, 0, 0, 0xfffff004}, "ld type"},
    {LoadExtension{Extension::InterfaceIndex}, {0x20, 0, 0, 0xfffff008}, "ld ifidx"},
    {LoadExtension{Extension::NetlinkAttribute}, {0x20, 0, 0, 0xfffff00c}, "ld nla"},
    {LoadExtension{Extension::NetlinkAttributeNested}, {0x20, 0, 0, 0xfffff010}, "ld nlan"},
    {LoadExtension{Extension::Mark}, {0x20, 0, 0, 0xfffff014}, "ld mark"},
    {LoadExtension{Extension::Queue}, {0x20, 0, 0, 0xfffff018}, "ld queue"},
    {LoadExtension{Extension::LinkLayerType}, {0x20, 0, 0, 0xfffff01c}, "ld hatype"},
    {LoadExtension{Extension::RxHash}, {0x20, 0, 0, 0xfffff020}, "ld rxhash"},
    {LoadExtension{Extension::CpuId}, {0x20, 0, 0, 0xfffff024}, "ld cpu"},
    {LoadExtension{Extension::AluXorX}, {0x20, 0, 0, 0xfffff028}, "ld xor_x"},
    {LoadExtension{Extension::VlanTag}, {0x20, 0, 0, 0xfffff02c}, "ld vlan_tci"},
    {LoadExtension{Extension::VlanTagPresent}, {0x20, 0, 0, 0xfffff030}, "ld vlan_avail"},
    {LoadExtension{Extension::PayloadOffset}, {0x20, 0, 0, 0xfffff034}, "ld poff"},
    {LoadExtension{Extension::Random}, {0x20, 0, 0, 0xfffff038}, "ld rand"},
    {LoadExtension{Extension::VlanProtocol}, {0x20, 0, 0, 0xfffff03c}, "ld vlan_tpid"},
    {StoreScratch{Register::A, 2}, {0x02, 0, 0, 2}, "st M[2]"},
    {StoreScratch{Register::X, 2}, {0x03, 0, 0, 2}, "stx M[2]"},
    {ALUOpConstant{ALUOp::Add, 5}, {0x04, 0, 0, 5}, "add #5"},
    {ALUOpConstant{ALUOp::Sub, 5}, {0x14, 0, 0, 5}, "sub #5"},
    {ALUOpConstant{ALUOp::Mul, 5}, {0x24, 0, 0, 5}, "mul #5"},
    {ALUOpConstant{ALUOp::Div, 5}, {0x34, 0, 0, 5}, "div #5"},
    {ALUOpConstant{ALUOp::Or, 0x40}, {0x44, 0, 0, 0x40}, "or #0x40"},
    {ALUOpConstant{ALUOp::And, 0xffff0000}, {0x54, 0, 0, 0xffff0000}, "and #0xffff0000"},
    {ALUOpConstant{ALUOp::Lsh, 3}, {0x64, 0, 0, 3}, "lsh #3"},
    {ALUOpConstant{ALUOp::Rsh, 3}, {0x74, 0, 0, 3}, "rsh #3"},
    {ALUOpConstant{ALUOp::Mod, 10}, {0x94, 0, 0, 10}, "mod #10"},
    {ALUOpConstant{ALUOp::Xor, 1}, {0xa4, 0, 0, 1}, "xor #1"},
    {ALUOpX{ALUOp::Add}, {0x0c, 0, 0, 0}, "add x"},
    {ALUOpX{ALUOp::Sub}, {0x1c, 0, 0, 0}, "sub x"},
    {ALUOpX{ALUOp::Mul}, {0x2c, 0, 0, 0}, "mul x"},
    {ALUOpX{ALUOp::Div}, {0x3c, 0, 0, 0}, "div x"},
    {ALUOpX{ALUOp::Or}, {0x4c, 0, 0, 0}, "or x"},
    {ALUOpX{ALUOp::And}, {0x5c, 0, 0, 0}, "and x"},
    {ALUOpX{ALUOp::Lsh}, {0x6c, 0, 0, 0}, "lsh x"},
    {ALUOpX{ALUOp::Rsh}, {0x7c, 0, 0, 0}, "rsh x"},
    {ALUOpX{ALUOp::Mod}, {0x9c, 0, 0, 0}, "mod x"},
    {ALUOpX{ALUOp::Xor}, {0xac, 0, 0, 0}, "xor x"},
    {NegateA{}, {0x84, 0, 0, 0}, "neg"},
    {Jump{9}, {0x05, 0, 0, 9}, "ja 9"},
    {JumpIf{JumpTest::Equal, 0x806, 1, 0}, {0x15, 1, 0, 0x806}, "jeq #0x806,1,0"},
    {JumpIf{JumpTest::NotEqual, 0x806, 1, 0}, {0x15, 0, 1, 0x806}, "jneq #0x806,1,0"},
    {JumpIf{JumpTest::GreaterThan, 4, 1, 2}, {0x25, 1, 2, 4}, "jgt #4,1,2"},
    {JumpIf{JumpTest::LessOrEqual, 4, 1, 0}, {0x25, 0, 1, 4}, "jle #4,1,0"},
    {JumpIf{JumpTest::GreaterOrEqual, 4, 3, 0}, {0x35, 3, 0, 4}, "jge #4,3,0"},
    {JumpIf{JumpTest::LessThan, 4, 3, 0}, {0x35, 0, 3, 4}, "jlt #4,3,0"},
    {JumpIf{JumpTest::BitsSet, 0x1fff, 6, 0}, {0x45, 6, 0, 0x1fff}, "jset #0x1fff,6,0"},
    {JumpIf{JumpTest::BitsNotSet, 0x1fff, 6, 0}, {0x45, 0, 6, 0x1fff}, "jset #0x1fff,0,6"},
    {JumpIfX{JumpTest::Equal, 1, 2}, {0x1d, 1, 2, 0}, "jeq x,1,2"},
    {JumpIfX{JumpTest::GreaterThan, 1, 2}, {0x2d, 1, 2, 0}, "jgt x,1,2"},
    {JumpIfX{JumpTest::GreaterOrEqual, 1, 2}, {0x3d, 1, 2, 0}, "jge x,1,2"},
    {JumpIfX{JumpTest::BitsSet, 1, 2}, {0x4d, 1, 2, 0}, "jset x,1,2"},
    {JumpIfX{JumpTest::NotEqual, 3, 0}, {0x1d, 0, 3, 0}, "jneq x,3,0"},
    {RetA{}, {0x16, 0, 0, 0}, "ret a"},
    {RetConstant{4096}, {0x06, 0, 0, 4096}, "ret #4096"},
    {TXA{}, {0x87, 0, 0, 0}, "txa"},
    {TAX{}, {0x07, 0, 0, 0}, "tax"},
};

TEST(Assemble, EveryInstructionKindHasItsKernelEncoding) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.text);
    auto raw = assemble(c.typed);
    ASSERT_TRUE(raw) << raw.error().message;
    EXPECT_EQ(*raw, c.raw);
    EXPECT_EQ(disassemble(c.raw), c.typed);
    EXPECT_EQ(to_string(c.typed), c.text);
  }
}

TEST(Assemble, RejectsFieldsTheEncodingCannotHoldAndNamesTheInstruction) {
  struct Bad {
    Instruction in;
    const char* reason;
  } bad[] = {
      {LoadAbsolute{0, 3}, "bad load size 3"},
      {LoadIndirect{0, 8}, "bad load size 8"},
      {LoadScratch{Register::A, 16}, "bad scratch slot 16"},
      {StoreScratch{Register::X, 99}, "bad scratch slot 99"},
      {LoadConstant{static_cast<Register>(2), 0}, "bad register 2"},
      {ALUOpConstant{static_cast<ALUOp>(0xb0), 1}, "unknown ALU op 0xb0"},
      {ALUOpX{static_cast<ALUOp>(0x80)}, "unknown ALU op 0x80"},
      {JumpIf{static_cast<JumpTest>(9), 0, 0, 0}, "unknown condition 9"},
      {LoadExtension{static_cast<Extension>(64)}, "unknown extension 64"},
      {LoadExtension{Extension::Mark, Register::X}, "only len can be loaded into X"},
  };
  for (const Bad& b : bad) {
    std::vector<Instruction> program = {RetA{}, RetA{}, b.in, RetA{}};
    auto r = assemble(program);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_NE(r.error().message.find("instruction 2: "), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(b.reason), std::string::npos) << r.error().message;
    EXPECT_EQ(to_string(b.in).rfind("invalid: ", 0), 0u) << to_string(b.in);
  }
}

TEST(Disassemble, RawToTypedToRawIsByteExactForEveryOpcode) {
  std::mt19937 rng(1);
  const std::uint32_t ks[] = {0,          1,          14,         0xfffff000,
                              0xfffff004, 0xfffff038, 0xfffff03c, 0xfffff040,
                              0xfffff001, 0x80000000, 0xffffffff};
  for (unsigned code = 0; code < 0x10000; code += (code < 0x100 ? 1 : 0x101)) {
    for (std::uint32_t k : ks) {
      for (int variant = 0; variant < 4; ++variant) {
        RawInstruction r{static_cast<std::uint16_t>(code), 0, 0, k};
        if (variant & 1) r.jt = static_cast<std::uint8_t>(rng());
        if (variant & 2) r.jf = static_cast<std::uint8_t>(rng());
        const Instruction typed = disassemble(r);
        auto back = assemble(typed);
        ASSERT_TRUE(back) << back.error().message;
        ASSERT_EQ(*back, r) << "opcode " << code;
      }
    }
  }
}

TEST(Disassemble, EveryKernelOpcodeWithCanonicalFieldsDecodesToATypedInstruction) {
  for (unsigned code = 0; code < 256; ++code) {
    if (!opcode_allowed(static_cast<std::uint16_t>(code))) continue;
    const RawInstruction r{static_cast<std::uint16_t>(code), 0, 0, 0};
    EXPECT_FALSE(std::holds_alternative<RawInstruction>(disassemble(r))) << "opcode " << code;
  }
  // ... and nothing else does.
  for (unsigned code = 0; code < 0x10000; ++code) {
    if (opcode_allowed(static_cast<std::uint16_t>(code))) continue;
    const RawInstruction r{static_cast<std::uint16_t>(code), 0, 0, 0};
    EXPECT_TRUE(std::holds_alternative<RawInstruction>(disassemble(r))) << "opcode " << code;
  }
}

TEST(Disassemble, LdxLenIsALoadOfTheLengthIntoX) {
  EXPECT_EQ(disassemble(RawInstruction{0x81, 0, 0, 0}),
            Instruction(LoadExtension{Extension::Len, Register::X}));
}

TEST(Disassemble, UnusedFieldsThatAreNotZeroStayRaw) {
  const RawInstruction with_k{0x07 /* tax */, 0, 0, 5};
  EXPECT_EQ(disassemble(with_k), Instruction(with_k));
  const RawInstruction with_jt{0x20 /* ld [k] */, 1, 0, 12};
  EXPECT_EQ(disassemble(with_jt), Instruction(with_jt));
  const RawInstruction jump_x_with_k{0x1d, 1, 0, 3};
  EXPECT_EQ(disassemble(jump_x_with_k), Instruction(jump_x_with_k));
}

TEST(Disassemble, SmallerAncillaryLoadsStayAbsoluteLoadsAndPrintWithTheExtensionName) {
  const Instruction typed = disassemble(RawInstruction{0x28, 0, 0, 0xfffff000});
  EXPECT_EQ(typed, Instruction(LoadAbsolute{0xfffff000, 2}));
  EXPECT_EQ(to_string(typed), "ldh proto");
}

TEST(Disassemble, ProgramReportsWhetherAllInstructionsDecoded) {
  const std::vector<RawInstruction> good = {{0x28, 0, 0, 12}, {0x06, 0, 0, 0}};
  EXPECT_TRUE(disassemble(good).all_decoded);
  const std::vector<RawInstruction> bad = {{0x28, 0, 0, 12}, {0xff, 0, 0, 0}, {0x06, 0, 0, 0}};
  auto d = disassemble(bad);
  EXPECT_FALSE(d.all_decoded);
  ASSERT_EQ(d.instructions.size(), 3u);
  EXPECT_EQ(d.instructions[1], Instruction(RawInstruction{0xff, 0, 0, 0}));
  EXPECT_EQ(to_string(d.instructions[1]), "raw 0xff,0,0,0x0");
}

}  // namespace
}  // namespace ninep::bpf
