// The JIT against the interpreter: the libpcap-compiled anchor filters over the anchor capture,
// and many thousands of random valid programs over random packets and contexts.
#include <gtest/gtest.h>

#include <string>

#include "anchors.h"
#include "bpf/jit.h"
#include "bpf/random.h"
#include "bpf/text.h"
#include "bpf/vm.h"
#include "engines.h"
#include "guarded_packet.h"
#include "random_program.h"

namespace ninep::bpf {
namespace {

using testing::hex;

TEST(JitDifferential, AnchorFiltersOverTheAnchorCapture) {
  NINEP_REQUIRE_ANCHORS();
  const auto capture = testing::load_mix();
  ASSERT_GT(capture.file.packets.size(), 1000u);
  const auto filters = testing::anchor_filters();
  ASSERT_GE(filters.size(), 9u);
  for (const auto& filter : filters) {
    SCOPED_TRACE(filter.name);
    auto program = parse_bytecode(filter.ddd);
    ASSERT_TRUE(program) << program.error().message;
    auto interpreter = Vm::create(*program, Engine::Interpreter);
    ASSERT_TRUE(interpreter) << interpreter.error().to_string();
    auto jit = JitCode::compile(*program);
    ASSERT_TRUE(jit) << jit.error().to_string();
    std::size_t accepted = 0, mismatches = 0;
    SplitMix64 random(1);
    const Context ctx = with_random(Context{}, random);
    for (const auto& packet : capture.file.packets) {
      const std::uint32_t want = interpreter->run(packet.data);
      const std::uint32_t got =
          jit->run(packet.data.data(), static_cast<std::uint32_t>(packet.data.size()), ctx);
      accepted += want != 0;
      if (got != want && ++mismatches <= 3) {
        ADD_FAILURE() << "packet " << hex(packet.data) << ": jit " << got << ", interpreter "
                      << want;
      }
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_GT(accepted, 0u);  // every anchor filter matches part of the mix
  }
}

TEST(JitDifferential, RandomProgramsPacketsAndContexts) {
  constexpr int kPrograms = 12000;
  constexpr int kPacketsPerProgram = 12;
  testing::RandomPrograms gen(20240611);
  testing::RandomProgramOptions options;  // everything the JIT translates, long programs too
  options.long_percent = 10;
  options.max_packet = 1600;
  options.allow_random = true;
  options.fold_result = false;
  test::GuardedPacket guarded;
  ASSERT_TRUE(guarded.ok());
  int failures = 0;
  for (int n = 0; n < kPrograms && failures < 5; ++n) {
    const auto program = gen.valid_program(options);
    auto interpreter = Vm::create(program, Engine::Interpreter);
    ASSERT_TRUE(interpreter) << interpreter.error().to_string();
    auto jit = JitCode::compile(program);
    ASSERT_TRUE(jit) << jit.error().to_string() << " for " << print_bytecode(program);
    for (int i = 0; i < kPacketsPerProgram; ++i) {
      const auto bytes = gen.packet(options.max_packet);
      const auto packet = guarded.place(bytes, i % 2 == 0);
      const Context ctx = gen.context();
      SplitMix64 jit_random(n + i), interpreter_random(n + i);
      const std::uint32_t want = interpreter->run(packet, with_random(ctx, interpreter_random));
      const std::uint32_t got = jit->run(packet.data(), static_cast<std::uint32_t>(packet.size()),
                                         with_random(ctx, jit_random));
      if (got != want) {
        ADD_FAILURE() << "program " << print_bytecode(program) << "\npacket " << hex(packet)
                      << " (has_device " << ctx.has_device << "): jit " << got << ", interpreter "
                      << want;
        ++failures;
        break;
      }
    }
  }
}

}  // namespace
}  // namespace ninep::bpf
