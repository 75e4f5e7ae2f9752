// The validator: the kernel's classic checks, rejection by rejection.
#include <gtest/gtest.h>

#include "bpf/text.h"
#include "bpf/validate.h"
#include "must_parse.h"

namespace ninep::bpf {
namespace {

using testing::must_parse;

// The rejection of `text`'s program, as text ("" when accepted).
std::string rejection(std::string_view text) {
  auto r = find_rejection(must_parse(text));
  return r ? r->to_string() : "";
}

TEST(Validate, AcceptsWellFormedPrograms) {
  EXPECT_EQ(rejection("ret #0"), "");
  EXPECT_EQ(rejection("ldh [12]\njeq #0x800, yes\nret #0\nyes: ret #-1"), "");
  EXPECT_EQ(rejection("ld #1\nst M[15]\nldx M[15]\ntxa\nret a"), "");
  EXPECT_TRUE(validate(must_parse("ret a")));
}

TEST(Validate, RejectsEmptyAndOverlongPrograms) {
  EXPECT_EQ(find_rejection({})->to_string(), "empty program");
  EXPECT_FALSE(find_rejection({})->index.has_value());
  Program big(4097, RawInstruction{0x06, 0, 0, 0});
  EXPECT_EQ(find_rejection(big)->to_string(), "4097 instructions, more than the kernel's 4096");
  big.pop_back();
  EXPECT_FALSE(find_rejection(big));
}

TEST(Validate, RejectsOpcodesOutsideTheKernelsList) {
  EXPECT_EQ(rejection("ret x"),
            "instruction 0: opcode 0xe is not a classic BPF instruction the kernel accepts");
  EXPECT_EQ(rejection("ld #1\nraw 0x8c,0,0,0\nret a"),
            "instruction 1: opcode 0x8c is not a classic BPF instruction the kernel accepts");
  EXPECT_EQ(rejection("raw 0x106,0,0,0"),
            "instruction 0: opcode 0x106 is not a classic BPF instruction the kernel accepts");
}

TEST(Validate, RejectsConstantDivisionByZeroAndLargeShifts) {
  EXPECT_EQ(rejection("div #0\nret a"), "instruction 0: division by constant 0");
  EXPECT_EQ(rejection("mod #0\nret a"), "instruction 0: modulo by constant 0");
  EXPECT_EQ(rejection("div x\nmod x\nret a"), "");  // checked at run time
  EXPECT_EQ(rejection("lsh #31\nrsh #31\nret a"), "");
  EXPECT_EQ(rejection("lsh #32\nret a"), "instruction 0: shift by constant 32 (must be < 32)");
  EXPECT_EQ(rejection("rsh #-1\nret a"),
            "instruction 0: shift by constant 4294967295 (must be < 32)");
}

TEST(Validate, RejectsScratchSlotsOutOfRange) {
  EXPECT_EQ(rejection("st M[16]\nret a"), "instruction 0: scratch slot M[16] out of range 0..15");
  EXPECT_EQ(rejection("raw 0x03,0,0,100\nret a"),
            "instruction 0: scratch slot M[100] out of range 0..15");
}

TEST(Validate, RejectsJumpsPastTheEnd) {
  EXPECT_EQ(rejection("ja 1\nret a"),
            "instruction 0: ja skips 1 instructions, past the end of the program");
  EXPECT_EQ(rejection("ja 0\nret a"), "");
  EXPECT_EQ(rejection("jeq #1, 1, 0\nret a"),
            "instruction 0: jump if true skips 1, past the end of the program");
  EXPECT_EQ(rejection("jeq #1, 0, 1\nret a"),
            "instruction 0: jump if false skips 1, past the end of the program");
  EXPECT_EQ(rejection("raw 0x05,0,0,0xffffffff\nret a"),
            "instruction 0: ja skips 4294967295 instructions, past the end of the program");
}

TEST(Validate, RejectsUnknownExtensions) {
  EXPECT_EQ(rejection("ld [0xfffff040]\nret a"),
            "instruction 0: unknown extension at SKF_AD_OFF+64");
  EXPECT_EQ(rejection("ldb [0xfffff001]\nret a"),
            "instruction 0: unknown extension at SKF_AD_OFF+1");
  EXPECT_EQ(rejection("ld [0xffffffff]\nret a"),
            "instruction 0: unknown extension at SKF_AD_OFF+4095");
  EXPECT_EQ(rejection("ldh proto\nldb rand\nld vlan_tpid\nret a"), "");  // any size
  EXPECT_EQ(rejection("ld [0xffffefff]\nret a"), "");  // below SKF_AD_OFF: a (header-relative) load
  EXPECT_EQ(rejection("ld [x + 0xfffff040]\nret a"), "");  // indirect loads are not extensions
}

TEST(Validate, RequiresAReturnAtTheEnd) {
  EXPECT_EQ(rejection("ld #1"),
            "instruction 0: the last instruction is not a return (ret #k or ret a)");
  EXPECT_EQ(rejection("ret #1\ntax"),
            "instruction 1: the last instruction is not a return (ret #k or ret a)");
}

TEST(Validate, RejectsReadsOfScratchNotWrittenOnEveryPath) {
  EXPECT_EQ(rejection("ld M[0]\nret a"),
            "instruction 0: reads M[0], which is not written on every path to it");
  EXPECT_EQ(rejection("ldx M[3]\nret a"),
            "instruction 0: reads M[3], which is not written on every path to it");
  // Written on one branch only.
  EXPECT_EQ(rejection("jeq #1, w\nja r\nw: st M[1]\nr: ld M[1]\nret a"),
            "instruction 3: reads M[1], which is not written on every path to it");
  // Written on both.
  EXPECT_EQ(rejection("jeq #1, w\nst M[1]\nja r\nw: st M[1]\nr: ld M[1]\nret a"), "");
  // Unreachable code after ja is not checked ...
  EXPECT_EQ(rejection("ja e\nld M[5]\ne: ret #0"), "");
  // ... but after a ret it is, with the set from before the ret, as the kernel does.
  EXPECT_EQ(rejection("ret #0\nld M[5]\nret a"),
            "instruction 1: reads M[5], which is not written on every path to it");
  EXPECT_EQ(rejection("st M[5]\nret #0\nld M[5]\nret a"), "");
}

TEST(Validate, ReportsTheFirstProblemInKernelOrder) {
  // Per-instruction checks come before the last-instruction check and the scratch analysis.
  EXPECT_EQ(rejection("ld M[0]\ndiv #0\ntax"), "instruction 1: division by constant 0");
  EXPECT_EQ(rejection("ld M[0]\ntax"),
            "instruction 1: the last instruction is not a return (ret #k or ret a)");
}

TEST(Validate, ValidateGivesEinvalWithTheRejection) {
  auto r = validate(must_parse("div #0\nret a"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EINVAL);
  EXPECT_EQ(r.error().message, "instruction 0: division by constant 0");
}

// The rejection of `text`'s program as a seccomp filter ("" when accepted).
std::string seccomp_rejection(std::string_view text) {
  auto r = find_rejection(must_parse(text), FilterKind::Seccomp);
  return r ? r->to_string() : "";
}

TEST(ValidateSeccomp, AcceptsWordLoadsAlignedInsideSeccompData) {
  // nr (0), arch (4), instruction_pointer (8, 12), args[0..5] (16..63).
  EXPECT_EQ(seccomp_rejection("ld [0]\nld [4]\nld [8]\nld [16]\nld [60]\nret a"), "");
  EXPECT_EQ(rejection("ld [64]\nret a"), "");  // a socket filter may read any offset
  EXPECT_EQ(seccomp_rejection("ld [64]\nret a"),
            "instruction 0: seccomp: ld [64] reads past the 64 bytes of seccomp_data");
  // SKF_NET_OFF: a socket filter's network header, nothing in seccomp_data.
  EXPECT_EQ(seccomp_rejection("ld [0xfff00000]\nret a"),
            "instruction 0: seccomp: ld [4293918720] reads past the 64 bytes of seccomp_data");
  EXPECT_EQ(seccomp_rejection("ld [2]\nret a"),
            "instruction 0: seccomp: ld [2] is not a 4-aligned word of seccomp_data");
}

TEST(ValidateSeccomp, RefusesHalfWordByteIndirectAndHeaderLengthLoads) {
  EXPECT_EQ(seccomp_rejection("ldh [0]\nret a"),
            "instruction 0: seccomp: opcode 0x28 (only word loads) is not allowed in a seccomp "
            "filter");
  EXPECT_EQ(seccomp_rejection("ldb [4]\nret a"),
            "instruction 0: seccomp: opcode 0x30 (only word loads) is not allowed in a seccomp "
            "filter");
  EXPECT_EQ(seccomp_rejection("ld [x + 0]\nret a"),
            "instruction 0: seccomp: opcode 0x40 (a load relative to X) is not allowed in a "
            "seccomp filter");
  EXPECT_EQ(seccomp_rejection("ldx 4*([0]&0xf)\nret a"),
            "instruction 0: seccomp: opcode 0xb1 (the IPv4 header length load) is not allowed "
            "in a seccomp filter");
  EXPECT_EQ(rejection("ldh [0]\nldb [4]\nld [x + 0]\nldx 4*([0]&0xf)\nret a"), "");
}

TEST(ValidateSeccomp, RefusesExtensions) {
  EXPECT_EQ(rejection("ld rand\nret a"), "");
  EXPECT_EQ(seccomp_rejection("ld rand\nret a"),
            "instruction 0: seccomp: ld [4294963256] reads past the 64 bytes of seccomp_data");
  // An unknown extension is refused by the socket checks first, as the kernel orders them.
  EXPECT_EQ(seccomp_rejection("ld [0xfffff0fc]\nret a"),
            "instruction 0: unknown extension at SKF_AD_OFF+252");
}

TEST(ValidateSeccomp, RefusesModuloButAcceptsTheOtherArithmetic) {
  EXPECT_EQ(seccomp_rejection("ld [0]\nadd #1\nsub x\nmul #3\ndiv #2\ndiv x\nand #1\nor x\n"
                              "xor #5\nxor x\nlsh #2\nrsh x\nneg\ntax\ntxa\nret a"),
            "");
  EXPECT_EQ(seccomp_rejection("mod #3\nret a"),
            "instruction 0: seccomp: opcode 0x94 (modulo) is not allowed in a seccomp filter");
  EXPECT_EQ(seccomp_rejection("mod x\nret a"),
            "instruction 0: seccomp: opcode 0x9c (modulo) is not allowed in a seccomp filter");
  EXPECT_EQ(rejection("mod #3\nmod x\nret a"), "");
}

TEST(ValidateSeccomp, AcceptsLengthLoadsScratchJumpsAndReturns) {
  EXPECT_EQ(
      seccomp_rejection("ld len\nldx len\nld #1\nldx #2\nst M[0]\nstx M[1]\nld M[0]\n"
                        "ldx M[1]\njeq #1, l1\nl1: jgt x, l2\nl2: jge #3, l3\nl3: jset x, l4\n"
                        "l4: ja l5\nl5: ret a"),
      "");
  EXPECT_EQ(seccomp_rejection("ret #0x7fff0000"), "");
}

TEST(ValidateSeccomp, KeepsEverySocketCheck) {
  EXPECT_EQ(seccomp_rejection("div #0\nret a"), "instruction 0: division by constant 0");
  EXPECT_EQ(seccomp_rejection("ld M[3]\nret a"),
            "instruction 0: reads M[3], which is not written on every path to it");
  EXPECT_EQ(seccomp_rejection("ld [0]"),
            "instruction 0: the last instruction is not a return (ret #k or ret a)");
  auto r = validate(must_parse("ldh [0]\nret a"), FilterKind::Seccomp);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EINVAL);
  EXPECT_TRUE(validate(must_parse("ld [4]\nret a"), FilterKind::Seccomp));
}

}  // namespace
}  // namespace ninep::bpf
