// Every anchor filter (libpcap's output) through every text form and back.
#include <gtest/gtest.h>

#include "anchors.h"
#include "bpf/assemble.h"
#include "bpf/text.h"
#include "bpf/validate.h"

namespace ninep::bpf {
namespace {

TEST(AnchorFormats, EveryFilterRoundTripsThroughEveryForm) {
  NINEP_REQUIRE_ANCHORS();
  const auto filters = testing::anchor_filters();
  ASSERT_GE(filters.size(), 9u);
  for (const auto& f : filters) {
    SCOPED_TRACE(f.name);
    auto program = parse_program(f.ddd);
    ASSERT_TRUE(program) << program.error().message;
    EXPECT_TRUE(validate(*program)) << f.name;
    // The -ddd text itself comes back byte for byte.
    EXPECT_EQ(print_bytecode(*program, true), f.ddd);
    // text -> raw -> text -> raw, for every form.
    for (TextFormat format :
         {TextFormat::Assembler, TextFormat::Bytecode, TextFormat::CArray, TextFormat::Listing}) {
      std::string text;
      switch (format) {
        case TextFormat::Assembler:
          text = print_assembler(*program);
          break;
        case TextFormat::Bytecode:
          text = print_bytecode(*program);
          break;
        case TextFormat::CArray:
          text = print_c_array(*program);
          break;
        case TextFormat::Listing:
          text = print_listing(*program);
          break;
      }
      EXPECT_EQ(detect_format(text), format);
      auto back = parse_program(text);
      ASSERT_TRUE(back) << back.error().message << "\n" << text;
      EXPECT_EQ(*back, *program) << text;
    }
    // ... and through typed instructions.
    auto typed = disassemble(*program);
    EXPECT_TRUE(typed.all_decoded);
    auto again = assemble(typed.instructions);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *program);
  }
}

}  // namespace
}  // namespace ninep::bpf
