// Our VM against libpcap's bpf_filter() over the anchor filters and mix.pcap, and our listing
// against libpcap's bpf_image() for every opcode.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <random>

#include "anchors.h"
#include "bpf/opcodes.h"
#include "bpf/text.h"
#include "bpf/validate.h"
#include "bpf/vm.h"
#include "engines.h"

namespace ninep::bpf {
namespace {

using testing::anchor_filters;

std::vector<bpf_insn> to_pcap(const Program& p) {
  std::vector<bpf_insn> out;
  for (const RawInstruction& r : p) out.push_back(bpf_insn{r.op, r.jt, r.jf, r.k});
  return out;
}

TEST(LibpcapDifferential, EveryAnchorFilterGivesLibpcapsVerdictOnEveryPacket) {
  NINEP_REQUIRE_ANCHORS();
  const auto capture = testing::load_mix();
  ASSERT_GT(capture.file.packets.size(), 1000u);
  const auto filters = anchor_filters();
  ASSERT_GE(filters.size(), 9u);
  for (const auto& f : filters) {
    SCOPED_TRACE(f.name + ": " + f.expression);
    auto program = parse_bytecode(f.ddd);
    ASSERT_TRUE(program) << program.error().message;
    auto pcap_program = to_pcap(*program);
    ASSERT_TRUE(bpf_validate(pcap_program.data(), static_cast<int>(pcap_program.size())));
    std::vector<Vm> vms;
    for (Engine engine : testing::available_engines()) {
      auto vm = Vm::create(*program, engine);
      ASSERT_TRUE(vm) << vm.error().message;
      vms.push_back(std::move(*vm));
    }
    std::size_t accepted = 0;
    testing::Disagreements disagreements;
    for (std::size_t i = 0; i < capture.file.packets.size(); ++i) {
      const auto& p = capture.file.packets[i];
      const std::uint32_t theirs = bpf_filter(pcap_program.data(), p.data.data(), p.original_length,
                                              static_cast<u_int>(p.data.size()));
      for (const Vm& vm : vms)
        disagreements.check(vm.engine(), vm.run(p.data), theirs, [&] {
          return "verdict for packet " + std::to_string(i) + " (" + std::to_string(p.data.size()) +
                 " bytes)";
        });
      accepted += theirs != 0;
    }
    // A filter that accepts nothing or everything would make the comparison weak.
    EXPECT_LT(accepted, capture.file.packets.size());
    EXPECT_GT(accepted, 0u);
  }
}

TEST(LibpcapDifferential, ListingMatchesBpfImageForEveryOpcodeLibpcapKnows) {
  std::mt19937 rng(7);
  const std::uint32_t ks[] = {0,          1,          5,          12,         255,       0x7fffffff,
                              0x80000000, 0xfffff000, 0xfffff038, 0xfffff040, 0xffffffff};
  for (unsigned code = 0; code < 256; ++code) {
    if (code == (op::kLdx | op::kW | op::kLen)) continue;  // ours: ldx #pktlen; libpcap: unimp
    for (std::uint32_t k : ks) {
      const RawInstruction r{static_cast<std::uint16_t>(code),
                             static_cast<std::uint8_t>(rng() % 256),
                             static_cast<std::uint8_t>(rng() % 256), k};
      bpf_insn insn{r.op, r.jt, r.jf, r.k};
      const int n = static_cast<int>(rng() % 1000);
      const std::string theirs = bpf_image(&insn, n);
      EXPECT_EQ(listing_line(r, n), theirs) << "opcode " << code << " k " << k;
    }
  }
}

TEST(LibpcapDifferential, OurListingOfEveryAnchorFilterMatchesLibpcapsAndParsesBack) {
  NINEP_REQUIRE_ANCHORS();
  for (const auto& f : anchor_filters()) {
    auto program = parse_bytecode(f.ddd);
    ASSERT_TRUE(program) << program.error().message;
    std::string theirs;
    auto insns = to_pcap(*program);
    for (std::size_t i = 0; i < insns.size(); ++i)
      theirs += std::string(bpf_image(&insns[i], static_cast<int>(i))) + "\n";
    const std::string ours = print_listing(*program);
    EXPECT_EQ(ours, theirs) << f.name;
    auto back = parse_listing(ours);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, *program) << f.name;
  }
}

}  // namespace
}  // namespace ninep::bpf
