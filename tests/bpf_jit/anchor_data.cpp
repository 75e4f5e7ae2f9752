#include "anchor_data.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace ninep::bpf::test {

std::optional<std::filesystem::path> anchors_directory() {
  const std::filesystem::path dir = NINEP_BPF_ANCHORS;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / "mix.pcap", ec)) return std::nullopt;
  return dir;
}

std::optional<std::vector<RawInstruction>> parse_bytecode(const std::string& text) {
  std::string spaced = text;
  std::replace(spaced.begin(), spaced.end(), ',', ' ');
  std::istringstream in(spaced);
  std::size_t count = 0;
  if (!(in >> count) || count == 0 || count > kMaxInstructions) return std::nullopt;
  std::vector<RawInstruction> program(count);
  for (auto& insn : program) {
    unsigned long op = 0, jt = 0, jf = 0, k = 0;
    if (!(in >> op >> jt >> jf >> k) || op > 0xffff || jt > 0xff || jf > 0xff || k > 0xffffffff) {
      return std::nullopt;
    }
    insn = {static_cast<std::uint16_t>(op), static_cast<std::uint8_t>(jt),
            static_cast<std::uint8_t>(jf), static_cast<std::uint32_t>(k)};
  }
  return program;
}

std::vector<NamedProgram> anchor_filters(const std::filesystem::path& dir) {
  std::vector<NamedProgram> filters;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "filters")) {
    if (entry.path().extension() != ".ddd") continue;
    std::ifstream file(entry.path());
    const std::string text((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
    if (auto program = parse_bytecode(text)) {
      filters.push_back({entry.path().filename().string(), std::move(*program)});
    }
  }
  std::sort(filters.begin(), filters.end(),
            [](const NamedProgram& a, const NamedProgram& b) { return a.name < b.name; });
  return filters;
}

std::vector<std::vector<std::uint8_t>> read_pcap(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  std::vector<std::vector<std::uint8_t>> packets;
  if (bytes.size() < 24) return packets;
  auto u32 = [&](std::size_t at, bool swap) {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  const std::uint32_t magic = u32(0, false);
  bool swap = false;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
    swap = false;
  } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
    swap = true;
  } else {
    return packets;
  }
  for (std::size_t at = 24; at + 16 <= bytes.size();) {
    const std::uint32_t captured = u32(at + 8, swap);
    at += 16;
    if (captured > bytes.size() - at) break;
    packets.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                         bytes.begin() + static_cast<std::ptrdiff_t>(at + captured));
    at += captured;
  }
  return packets;
}

}  // namespace ninep::bpf::test
