// The textual forms: bpf_asm syntax, bytecode, C array, listing.
#include <gtest/gtest.h>

#include <random>

#include "bpf/assemble.h"
#include "bpf/text.h"
#include "must_parse.h"

namespace ninep::bpf {
namespace {

using testing::must_parse;

std::string parse_error(std::string_view text, TextFormat format = TextFormat::Assembler) {
  auto p = parse(text, format);
  EXPECT_FALSE(p) << "parsed: " << text;
  if (p) return "";
  EXPECT_EQ(p.error().code, EINVAL);
  return p.error().message;
}

const char* const kArpAsm = R"(
; the ARP filter from x/net/bpf's documentation
        ldh [12]                 /* ethertype */
        jneq #0x806, drop
        ret #4096
drop:   ret #0
)";

TEST(Assembler, ParsesLabelsCommentsAndJumpForms) {
  const Program p = must_parse(kArpAsm);
  const Program expected = {
      {0x28, 0, 0, 12}, {0x15, 0, 1, 0x806}, {0x06, 0, 0, 4096}, {0x06, 0, 0, 0}};
  EXPECT_EQ(p, expected);
}

TEST(Assembler, ParsesEveryBpfAsmForm) {
  const char* text = R"(
#define-style lines starting with # are comments
start:
  ld #10
  ldi #11
  ldi 12
  ldx #13
  ldxi 14
  ld len
  ld #len
  ldx len
  ldx #len
  ld M[1]
  ldx M[2]
  ld [12]
  ldh [12]
  ldb [12]
  ld [x + 4]
  ldh [%x + 4]
  ldb [x+4]
  ldxb 4*([14]&0xf)
  ldx 4*([14]&0xf)
  ld proto
  ldh #type
  ldb rand
  ld vlan_pr
  ld vlan_avail
  ld xor_x
  st M[3]
  stx M[4]
  add #1
  sub x
  mul %x
  div #2
  mod #3
  and #0xff
  or #0b101
  xor #017
  lsh #2
  rsh x
  neg
  tax
  txa
  jmp l1
l1: ja l2
l2: jeq #1, l3, l4
l3: jeq x, l4
l4: jne #2, l5
l5: jneq %x, l6
l6: jlt #3, l7
l7: jle x, l8
l8: jgt #4, l9, l10
l9: jge #5, l10
l10: jset #6, l11, l12
l11: jset x, l12
l12: ret a
  ret %a
  ret #-1
  ret x
  raw 0xffff, 1, 2, 0xdeadbeef
)";
  const Program p = must_parse(text);
  const Program expected = {
      {0x00, 0, 0, 10},
      {0x00, 0, 0, 11},
      {0x00, 0, 0, 12},
      {0x01, 0, 0, 13},
      {0x01, 0, 0, 14},
      {0x80, 0, 0, 0},
      {0x80, 0, 0, 0},
      {0x81, 0, 0, 0},
      {0x81, 0, 0, 0},
      {0x60, 0, 0, 1},
      {0x61, 0, 0, 2},
      {0x20, 0, 0, 12},
      {0x28, 0, 0, 12},
      {0x30, 0, 0, 12},
      {0x40, 0, 0, 4},
      {0x48, 0, 0, 4},
      {0x50, 0, 0, 4},
      {0xb1, 0, 0, 14},
      {0xb1, 0, 0, 14},
      {0x20, 0, 0, 0xfffff000},
      {0x28, 0, 0, 0xfffff004},
      {0x30, 0, 0, 0xfffff038},
      {0x20, 0, 0, 0xfffff030},
      {0x20, 0, 0, 0xfffff030},
      {0x20, 0, 0, 0xfffff028},
      {0x02, 0, 0, 3},
      {0x03, 0, 0, 4},
      {0x04, 0, 0, 1},
      {0x1c, 0, 0, 0},
      {0x2c, 0, 0, 0},
      {0x34, 0, 0, 2},
      {0x94, 0, 0, 3},
      {0x54, 0, 0, 0xff},
      {0x44, 0, 0, 5},
      {0xa4, 0, 0, 15},
      {0x64, 0, 0, 2},
      {0x7c, 0, 0, 0},
      {0x84, 0, 0, 0},
      {0x07, 0, 0, 0},
      {0x87, 0, 0, 0},
      {0x05, 0, 0, 0},  // jmp l1
      {0x05, 0, 0, 0},  // l1: ja l2
      {0x15, 0, 1, 1},  // l2: jeq #1, l3, l4
      {0x1d, 0, 0, 0},  // l3: jeq x, l4
      {0x15, 0, 0, 2},  // l4: jne #2, l5
      {0x1d, 0, 0, 0},  // l5: jneq %x, l6
      {0x35, 0, 0, 3},  // l6: jlt #3, l7
      {0x2d, 0, 0, 0},  // l7: jle x, l8
      {0x25, 0, 1, 4},  // l8: jgt #4, l9, l10
      {0x35, 0, 0, 5},  // l9: jge #5, l10
      {0x45, 0, 1, 6},  // l10: jset #6, l11, l12
      {0x4d, 0, 0, 0},  // l11: jset x, l12
      {0x16, 0, 0, 0},
      {0x16, 0, 0, 0},
      {0x06, 0, 0, 0xffffffff},
      {0x0e, 0, 0, 0},
      {0xffff, 1, 2, 0xdeadbeef},
  };
  ASSERT_EQ(p.size(), expected.size());
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i], expected[i]) << "instruction " << i;
}

TEST(Assembler, NegatedJumpsTakeTheirFirstTargetWhenTheConditionHolds) {
  // jneq #k, T, F: to T when A != k, i.e. the machine's jeq goes to F when true.
  const Program p = must_parse("jneq #7, t, f\nt: ret #1\nf: ret #2\n");
  EXPECT_EQ(p[0], (RawInstruction{0x15, 1, 0, 7}));
  const Program q = must_parse("jlt #7, 1, 0\nret #1\nret #2\n");
  EXPECT_EQ(q[0], (RawInstruction{0x35, 0, 1, 7}));
}

TEST(Assembler, KeywordsAreCaselessLabelsAreNot) {
  const Program p = must_parse("LDH [12]\nJEQ #1, Yes\nRet #0\nYes: RET A\n");
  EXPECT_EQ(p.size(), 4u);
  EXPECT_EQ(p[1], (RawInstruction{0x15, 1, 0, 1}));
  EXPECT_NE(parse_error("jeq #1, yes\nret #0\nYes: ret a\n").find("unknown label 'yes'"),
            std::string::npos);
}

TEST(Assembler, NumbersInEveryBase) {
  const Program p =
      must_parse("ld #0x1F\nld #0b1010\nld #017\nld #0\nld #4294967295\nld #-1\nld #-2147483648\n");
  const std::uint32_t expected[] = {31, 10, 15, 0, 0xffffffff, 0xffffffff, 0x80000000};
  ASSERT_EQ(p.size(), std::size(expected));
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i].k, expected[i]);
}

TEST(Assembler, ErrorsGiveLineAndColumn) {
  EXPECT_EQ(parse_error("ld [12]\n  ldh #5\n"), "2:7: ldh cannot load a constant (use ld)");
  EXPECT_EQ(parse_error("ld [12]\nfoo [1]\n"), "2:1: unknown instruction 'foo'");
  EXPECT_EQ(parse_error("  jeq #1, nowhere\n"), "1:11: unknown label 'nowhere'");
  EXPECT_EQ(parse_error("a1: ret #0\n  ja a1\n"), "2:6: jump to 'a1' goes backwards");
  EXPECT_EQ(parse_error("x1: ret #0\nx1: ret #1\n"), "2:1: label 'x1' defined twice");
  EXPECT_EQ(parse_error("ld #09\n"), "1:5: bad number '09'");
  EXPECT_EQ(parse_error("ld #0x100000000\n"), "1:5: number '0x100000000' does not fit in 32 bits");
  EXPECT_EQ(parse_error("ld #-2147483649\n"), "1:6: -2147483649 does not fit in 32 bits");
  EXPECT_EQ(parse_error("ret #0 /* open\n"), "1:8: unterminated comment");
  EXPECT_EQ(parse_error("ld [12\n"), "2:1: expected ']', found end of input");
  EXPECT_EQ(parse_error("ldx 2*([14]&0xf)\n"), "1:5: only 4*([k]&0xf) is supported");
  EXPECT_EQ(parse_error("jeq #1, 256\n"), "1:9: skip 256 is more than 255");
  EXPECT_EQ(parse_error("ret #0\nend:\n"),
            "2:1: label at the end of the program has no instruction");
  EXPECT_EQ(parse_error("ld @\n"),
            "1:4: expected #k, len, an extension, M[k], [k] or [x + k], found '@'");
  EXPECT_EQ(parse_error("ld [12]\n\x01"), "2:1: unexpected character 0x01");
}

TEST(Assembler, ConditionalJumpsFartherThan255AreRejected) {
  std::string text = "jeq #1, far\n";
  for (int i = 0; i < 256; ++i) text += "ld #1\n";
  text += "far: ret #0\n";
  EXPECT_EQ(parse_error(text),
            "1:9: 'far' is 256 instructions away; a conditional jump skips at most 255");
  // ja has a 32-bit offset.
  text[1] = 'a', text[2] = ' ', text[3] = ' ', text[4] = ' ', text[5] = ' ', text[6] = ' ';
  auto p = parse_assembler(text);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ((*p)[0], (RawInstruction{0x05, 0, 0, 256}));
}

TEST(Assembler, RejectsMoreThan4096Instructions) {
  std::string text;
  for (int i = 0; i < 4097; ++i) text += "ret #0\n";
  EXPECT_EQ(parse_error(text), "4097:1: more than 4096 instructions");
}

// Programs exercising every printing path; printing and parsing them back is the identity.
std::vector<Program> sample_programs() {
  std::vector<Program> out;
  out.push_back(must_parse(kArpAsm));
  std::mt19937 rng(42);
  for (int n = 0; n < 300; ++n) {
    Program p;
    const std::size_t len = 1 + rng() % 40;
    for (std::size_t i = 0; i < len; ++i) {
      RawInstruction r;
      r.op = static_cast<std::uint16_t>(rng() % 3 == 0 ? rng() % 0x10000 : rng() % 0x100);
      r.jt = static_cast<std::uint8_t>(rng() % 3 == 0 ? rng() % 256 : rng() % 4);
      r.jf = static_cast<std::uint8_t>(rng() % 3 == 0 ? rng() % 256 : rng() % 4);
      r.k = rng() % 2 ? rng() : rng() % 64;
      p.push_back(r);
    }
    out.push_back(p);
  }
  return out;
}

TEST(Assembler, PrintThenParseIsTheIdentityForAnyRawProgram) {
  for (const Program& p : sample_programs()) {
    const std::string text = print_assembler(p);
    auto back = parse_assembler(text);
    ASSERT_TRUE(back) << back.error().message << "\n" << text;
    ASSERT_EQ(*back, p) << text;
    EXPECT_EQ(print_assembler(*back), text);
  }
}

TEST(Assembler, PrintsLabelsAndBpfAsmJumpForms) {
  const Program p = {{0x28, 0, 0, 12}, {0x15, 0, 2, 0x800},  {0x30, 0, 0, 23},
                     {0x45, 0, 1, 1},  {0x06, 0, 0, 262144}, {0x06, 0, 0, 0}};
  EXPECT_EQ(print_assembler(p),
            "  ldh [12]\n"
            "  jneq #0x800, L4\n"
            "  ldb [23]\n"
            "  jset #1, L4, L5\n"
            "L4:\n"
            "  ret #262144\n"
            "L5:\n"
            "  ret #0\n");
}

TEST(Bytecode, ParsesBothSeparatorsAndPrintsXtBpfForm) {
  const Program expected = {{40, 0, 0, 12}, {21, 0, 1, 2054}, {6, 0, 0, 4096}, {6, 0, 0, 0}};
  for (const char* text : {"4,40 0 0 12,21 0 1 2054,6 0 0 4096,6 0 0 0",
                           "4,40 0 0 12,21 0 1 2054,6 0 0 4096,6 0 0 0,\n",
                           "4\n40 0 0 12\n21 0 1 2054\n6 0 0 4096\n6 0 0 0\n",
                           "  4 ,\r\n40  0 0\t12, 21 0 1 2054 ,6 0 0 4096,6 0 0 0"}) {
    auto p = parse_bytecode(text);
    ASSERT_TRUE(p) << p.error().message << " for " << text;
    EXPECT_EQ(*p, expected);
  }
  EXPECT_EQ(print_bytecode(expected), "4,40 0 0 12,21 0 1 2054,6 0 0 4096,6 0 0 0\n");
  EXPECT_EQ(print_bytecode(expected, true), "4\n40 0 0 12\n21 0 1 2054\n6 0 0 4096\n6 0 0 0\n");
}

TEST(Bytecode, ErrorsNameTheInstructionAndPlace) {
  EXPECT_EQ(parse_error("2,6 0 0 1", TextFormat::Bytecode),
            "1:10: the count announces 2 instructions but 1 follow");
  EXPECT_EQ(parse_error("1,6 0 0 1,6 0 0 2", TextFormat::Bytecode),
            "1:11: more instructions than the 1 the count announces");
  EXPECT_EQ(parse_error("2,6 0 0 1,6 0 300 2", TextFormat::Bytecode),
            "instruction 1: 1:15: jf is larger than 255");
  EXPECT_EQ(parse_error("1\n6 0 x 1", TextFormat::Bytecode),
            "instruction 0: 2:5: expected jf (a decimal number), found 'x'");
  EXPECT_EQ(parse_error("1,6 0 0 4294967296", TextFormat::Bytecode),
            "instruction 0: 1:9: k is larger than 4294967295");
  EXPECT_EQ(parse_error("1,6 0 0 1 5", TextFormat::Bytecode),
            "1:11: expected ',' or a new line, found '5'");
  EXPECT_EQ(parse_error("4097,6 0 0 1", TextFormat::Bytecode),
            "1:1: the instruction count is larger than 4096");
}

TEST(CArray, RoundTripsTcpdumpDdOutput) {
  const char* text =
      "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n"
      "{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n";
  auto p = parse_c_array(text);
  ASSERT_TRUE(p) << p.error().message;
  const Program expected = {
      {0x28, 0, 0, 12}, {0x15, 0, 1, 0x800}, {0x6, 0, 0, 0x40000}, {0x6, 0, 0, 0}};
  EXPECT_EQ(*p, expected);
  EXPECT_EQ(print_c_array(expected), text);
  EXPECT_EQ(parse_error("{ 0x28, 0, 0 }", TextFormat::CArray), "1:14: expected ',', found '}'");
  EXPECT_EQ(parse_error("{ 0x28, 0, 256, 1 }", TextFormat::CArray), "1:12: jf is larger than 255");
}

TEST(Listing, PrintsTcpdumpDFormat) {
  const Program p = {{0x28, 0, 0, 12}, {0x15, 0, 8, 0x800}, {0x30, 0, 0, 23}, {0x06, 0, 0, 262144},
                     {0x16, 0, 0, 0},  {0x81, 0, 0, 0},     {0x05, 0, 0, 1}};
  EXPECT_EQ(print_listing(p),
            "(000) ldh      [12]\n"
            "(001) jeq      #0x800           jt 2\tjf 10\n"
            "(002) ldb      [23]\n"
            "(003) ret      #262144\n"
            "(004) ret      \n"
            "(005) ldx      #pktlen\n"
            "(006) ja       8\n");
}

// The instruction as the listing shows it: fields it does not print are zero.
RawInstruction as_listed(RawInstruction r) {
  const bool conditional =
      (r.op & 7) == 5 && r.op < 0x100 && (r.op & 0xf0) >= 0x10 && (r.op & 0xf0) <= 0x40;
  if (!conditional) r.jt = r.jf = 0;
  const bool x_operand = ((r.op & 7) == 4 || conditional) && (r.op & 8);
  if (x_operand || r.op == 0x16 || r.op == 0x84 || r.op == 0x07 || r.op == 0x87 || r.op == 0x80 ||
      r.op == 0x81)
    r.k = 0;
  return r;
}

TEST(Listing, ParsesWhatItPrints) {
  for (const Program& p : sample_programs()) {
    Program shown;
    for (const RawInstruction& r : p) {
      if (listing_line(r, shown.size()).find("unimp") != std::string::npos) continue;
      if (r.op == 0x05 && r.k > 0x7fffff00) continue;  // a target past 2^31 prints negative
      shown.push_back(as_listed(r));
    }
    const std::string text = print_listing(shown);
    auto back = parse_listing(text);
    ASSERT_TRUE(back) << back.error().message << "\n" << text;
    ASSERT_EQ(*back, shown) << text;
  }
}

TEST(Listing, ErrorsGiveLineAndColumn) {
  EXPECT_EQ(parse_error("(000) ldh [12]\n(002) ret #0\n", TextFormat::Listing),
            "2:2: expected instruction number 1, found 2");
  EXPECT_EQ(parse_error("(000) jeq #1 jt 0 jf 1\n", TextFormat::Listing),
            "1:17: target 0 is not reachable from instruction 0");
  EXPECT_EQ(parse_error("(000) unimp 0x81\n", TextFormat::Listing),
            "1:7: 'unimp' does not show the instruction's operands; it cannot be read back");
  EXPECT_EQ(parse_error("ldh [12]\n", TextFormat::Listing),
            "1:1: expected '(NNN)', the instruction number");
}

TEST(Formats, DetectionByFirstCharacter) {
  EXPECT_EQ(detect_format("  4,40 0 0 12"), TextFormat::Bytecode);
  EXPECT_EQ(detect_format("\n{ 0x28, 0, 0, 0x0000000c },"), TextFormat::CArray);
  EXPECT_EQ(detect_format("(000) ldh [12]"), TextFormat::Listing);
  EXPECT_EQ(detect_format("ldh [12]"), TextFormat::Assembler);
  EXPECT_EQ(detect_format("; comment\n4"), TextFormat::Assembler);
  auto p = parse_program("4\n40 0 0 12\n21 0 1 2054\n6 0 0 4096\n6 0 0 0\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 4u);
}

}  // namespace
}  // namespace ninep::bpf
