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

}  // namespace
}  // namespace ninep::bpf
