// The JIT against the interpreter: the libpcap-compiled anchor filters over the anchor capture,
// and many thousands of random valid programs over random packets and contexts.
#include <gtest/gtest.h>

#include <string>

#include "anchor_data.h"
#include "bpf/jit.h"
#include "bpf/random.h"
#include "bpf/vm.h"
#include "guarded_packet.h"
#include "random_program.h"

namespace ninep::bpf {
namespace {

std::string dump(std::span<const RawInstruction> program) {
  std::string s = std::to_string(program.size());
  for (const auto& in : program) {
    s += "," + std::to_string(in.op) + " " + std::to_string(in.jt) + " " + std::to_string(in.jf) +
         " " + std::to_string(in.k);
  }
  return s;
}

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

TEST(JitDifferential, AnchorFiltersOverTheAnchorCapture) {
  const auto dir = test::anchors_directory();
  if (!dir) GTEST_SKIP() << "no cBPF anchors at " << NINEP_BPF_ANCHORS;
  const auto packets = test::read_pcap(*dir / "mix.pcap");
  ASSERT_GT(packets.size(), 1000u);
  const auto filters = test::anchor_filters(*dir);
  ASSERT_GE(filters.size(), 9u);
  for (const auto& filter : filters) {
    SCOPED_TRACE(filter.name);
    auto interpreter = Vm::create(filter.program, Engine::Interpreter);
    ASSERT_TRUE(interpreter) << interpreter.error().to_string();
    auto jit = JitCode::compile(filter.program);
    ASSERT_TRUE(jit) << jit.error().to_string();
    std::size_t accepted = 0, mismatches = 0;
    SplitMix64 random(1);
    const Context ctx = with_random(Context{}, random);
    for (const auto& packet : packets) {
      const std::uint32_t want = interpreter->run(packet);
      const std::uint32_t got =
          jit->run(packet.data(), static_cast<std::uint32_t>(packet.size()), ctx);
      accepted += want != 0;
      if (got != want && ++mismatches <= 3) {
        ADD_FAILURE() << "packet " << hex(packet) << ": jit " << got << ", interpreter " << want;
      }
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_GT(accepted, 0u);  // every anchor filter matches part of the mix
  }
}

TEST(JitDifferential, RandomProgramsPacketsAndContexts) {
  constexpr int kPrograms = 12000;
  constexpr int kPacketsPerProgram = 12;
  test::RandomPrograms gen(20240611);
  test::GuardedPacket guarded;
  ASSERT_TRUE(guarded.ok());
  int failures = 0;
  for (int n = 0; n < kPrograms && failures < 5; ++n) {
    const auto program = gen.program();
    auto interpreter = Vm::create(program, Engine::Interpreter);
    ASSERT_TRUE(interpreter) << interpreter.error().to_string();
    auto jit = JitCode::compile(program);
    ASSERT_TRUE(jit) << jit.error().to_string() << " for " << dump(program);
    for (int i = 0; i < kPacketsPerProgram; ++i) {
      const auto bytes = gen.packet();
      const auto packet = guarded.place(bytes, i % 2 == 0);
      const Context ctx = gen.context();
      SplitMix64 jit_random(n + i), interpreter_random(n + i);
      const std::uint32_t want = interpreter->run(packet, with_random(ctx, interpreter_random));
      const std::uint32_t got = jit->run(packet.data(), static_cast<std::uint32_t>(packet.size()),
                                         with_random(ctx, jit_random));
      if (got != want) {
        ADD_FAILURE() << "program " << dump(program) << "\npacket " << hex(packet)
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
