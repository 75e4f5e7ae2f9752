// The classic pcap reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "bpf/pcap.h"
#include "bpf/text.h"

namespace ninep::bpf {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put32(Bytes& b, std::uint32_t v, bool big) {
  for (int i = 0; i < 4; ++i)
    b.push_back(static_cast<std::uint8_t>(v >> (big ? 24 - 8 * i : 8 * i)));
}
void put16(Bytes& b, std::uint16_t v, bool big) {
  b.push_back(static_cast<std::uint8_t>(big ? v >> 8 : v));
  b.push_back(static_cast<std::uint8_t>(big ? v : v >> 8));
}

Bytes capture(std::uint32_t magic, bool big, const std::vector<Bytes>& packets) {
  Bytes b;
  put32(b, magic, big);
  put16(b, 2, big);
  put16(b, 4, big);
  put32(b, 0, big);
  put32(b, 0, big);
  put32(b, 65535, big);
  put32(b, 1, big);
  std::uint32_t t = 10;
  for (const Bytes& p : packets) {
    put32(b, t, big);
    put32(b, 500, big);
    put32(b, static_cast<std::uint32_t>(p.size()), big);
    put32(b, static_cast<std::uint32_t>(p.size() + 3), big);
    b.insert(b.end(), p.begin(), p.end());
    ++t;
  }
  return b;
}

TEST(Pcap, ReadsBothByteOrdersAndTimestampResolutions) {
  const std::vector<Bytes> packets = {{1, 2, 3}, {}, Bytes(1500, 7)};
  for (bool big : {false, true})
    for (std::uint32_t magic : {0xa1b2c3d4u, 0xa1b23c4du}) {
      const Bytes file = capture(magic, big, packets);
      auto parsed = parse_pcap(file);
      ASSERT_TRUE(parsed) << parsed.error().message;
      EXPECT_EQ(parsed->link_type, 1u);
      EXPECT_EQ(parsed->snap_length, 65535u);
      EXPECT_EQ(parsed->nanosecond, magic == 0xa1b23c4du);
      ASSERT_EQ(parsed->packets.size(), 3u);
      for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(Bytes(parsed->packets[i].data.begin(), parsed->packets[i].data.end()),
                  packets[i]);
        EXPECT_EQ(parsed->packets[i].original_length, packets[i].size() + 3);
      }
      const std::uint64_t fraction = magic == 0xa1b23c4du ? 500 : 500'000;
      EXPECT_EQ(parsed->packets[1].timestamp_ns, 11'000'000'000ull + fraction);
    }
}

TEST(Pcap, RejectsWhatIsNotAClassicCapture) {
  EXPECT_EQ(parse_pcap(Bytes(10, 0)).error().message,
            "not a pcap file: 10 bytes, shorter than its 24-byte header");
  Bytes ng = capture(0x0a0d0d0a, false, {});
  EXPECT_EQ(parse_pcap(ng).error().message,
            "not a classic pcap file (magic 0x0a0d0d0a; pcapng is not supported)");
  Bytes truncated = capture(0xa1b2c3d4, false, {{1, 2, 3, 4}});
  truncated.pop_back();
  EXPECT_EQ(parse_pcap(truncated).error().message,
            "packet 0 at offset 24: 4 captured bytes, but only 3 left in the file");
  Bytes header_cut = capture(0xa1b2c3d4, false, {{1}});
  header_cut.resize(24 + 10);
  EXPECT_EQ(parse_pcap(header_cut).error().message,
            "packet 0 at offset 24: truncated record header");
  EXPECT_TRUE(parse_pcap(capture(0xa1b2c3d4, false, {})));
}

TEST(HexPacket, ReadsTheUsualSpellings) {
  const Bytes want = {0x45, 0x00, 0x00, 0x54};
  for (const char* text :
       {"45 00 00 54", "4500:0054", "0x4500 0x0054", "45-00-00-54", "45000054\n"}) {
    auto r = parse_hex_packet(text);
    ASSERT_TRUE(r) << text << ": " << r.error().to_string();
    EXPECT_EQ(*r, want) << text;
  }
  auto empty = parse_hex_packet("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(HexPacket, RefusesWhatIsNotHex) {
  auto bad = parse_hex_packet("45 0g");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, EINVAL);
  EXPECT_NE(bad.error().message.find("'g' at position 5"), std::string::npos)
      << bad.error().message;
  auto odd = parse_hex_packet("450");
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().message.find("odd"), std::string::npos);
}

TEST(TimePerPacket, GivesSortedPositiveTimesForEachRun) {
  auto program = Program{{0x06, 0, 0, 0xffff}};  // ret #65535
  auto vm = Vm::create(program);
  ASSERT_TRUE(vm) << vm.error().to_string();
  const Bytes packet(64, 0xab);
  const std::vector<PcapPacket> packets = {PcapPacket{0, 64, packet}, PcapPacket{0, 64, packet}};
  auto ns = time_per_packet(*vm, packets, 3, std::chrono::milliseconds(4));
  ASSERT_EQ(ns.size(), 3u);
  EXPECT_GT(ns.front(), 0.0);
  EXPECT_TRUE(std::is_sorted(ns.begin(), ns.end()));
}

}  // namespace
}  // namespace ninep::bpf
