// Access to ../shared/anchors/bpf (libpcap's filter programs and mix.pcap) for the tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bpf/pcap.h"
#include "bpf/text.h"

namespace ninep::bpf::testing {

inline std::filesystem::path anchors_dir() {
  return NINEP_BPF_ANCHORS;
}

inline bool anchors_present() {
  return std::filesystem::exists(anchors_dir() / "mix.pcap") &&
         std::filesystem::is_directory(anchors_dir() / "filters");
}

// Skips the current test when the anchors are not checked out beside the repository.
#define NINEP_REQUIRE_ANCHORS()                                                            \
  do {                                                                                     \
    if (!::ninep::bpf::testing::anchors_present())                                         \
      GTEST_SKIP() << "cBPF anchors not found at " << ::ninep::bpf::testing::anchors_dir() \
                   << " (clone the shared/ directory beside the repository)";              \
  } while (0)

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct AnchorFilter {
  std::string name;        // "01" or "arp"
  std::string expression;  // the tcpdump expression (first line of NN.expr)
  std::string ddd;         // tcpdump -ddd text
};

inline std::vector<AnchorFilter> anchor_filters() {
  std::vector<AnchorFilter> out;
  for (const auto& e : std::filesystem::directory_iterator(anchors_dir() / "filters")) {
    if (e.path().extension() != ".ddd") continue;
    AnchorFilter f;
    f.name = e.path().stem().string();
    f.ddd = read_file(e.path());
    std::string expr = read_file(std::filesystem::path(e.path()).replace_extension(".expr"));
    f.expression = expr.substr(0, expr.find('\n'));
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

// mix.pcap's bytes (kept alive for the packets' spans) and packets.
struct Capture {
  std::vector<std::uint8_t> bytes;
  PcapFile file;
};
inline Capture load_mix() {
  Capture c;
  const std::string s = read_file(anchors_dir() / "mix.pcap");
  c.bytes.assign(s.begin(), s.end());
  auto parsed = parse_pcap(c.bytes);
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
  if (parsed) c.file = std::move(*parsed);
  return c;
}

}  // namespace ninep::bpf::testing
