#include "bpf/pcap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace ninep::bpf {
namespace {

constexpr std::uint32_t kMicro = 0xa1b2c3d4;
constexpr std::uint32_t kNano = 0xa1b23c4d;
constexpr std::size_t kFileHeader = 24;
constexpr std::size_t kRecordHeader = 16;

std::uint32_t swap32(std::uint32_t v) {
  return __builtin_bswap32(v);
}

class Reader {
 public:
  Reader(std::span<const std::uint8_t> bytes, bool swapped) : bytes_(bytes), swapped_(swapped) {}
  std::uint32_t u32(std::size_t offset) const {
    std::uint32_t v;
    std::memcpy(&v, bytes_.data() + offset, sizeof v);
    return swapped_ ? swap32(v) : v;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  bool swapped_;
};

}  // namespace

Result<PcapFile> parse_pcap(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kFileHeader)
    return fail(EINVAL, fmt::format("not a pcap file: {} bytes, shorter than its 24-byte header",
                                    bytes.size()));
  std::uint32_t magic;
  std::memcpy(&magic, bytes.data(), sizeof magic);
  PcapFile file;
  bool swapped = false;
  if (magic == kMicro || magic == kNano) {
    file.nanosecond = magic == kNano;
  } else if (swap32(magic) == kMicro || swap32(magic) == kNano) {
    swapped = true;
    file.nanosecond = swap32(magic) == kNano;
  } else {
    return fail(
        EINVAL,
        fmt::format("not a classic pcap file (magic {:#010x}; pcapng is not supported)", magic));
  }
  const Reader r(bytes, swapped);
  file.snap_length = r.u32(16);
  file.link_type = r.u32(20);
  std::size_t offset = kFileHeader;
  while (offset < bytes.size()) {
    const std::size_t index = file.packets.size();
    if (bytes.size() - offset < kRecordHeader)
      return fail(EINVAL,
                  fmt::format("packet {} at offset {}: truncated record header", index, offset));
    const std::uint64_t seconds = r.u32(offset);
    const std::uint64_t fraction = r.u32(offset + 4);
    const std::uint32_t captured = r.u32(offset + 8);
    PcapPacket p;
    p.original_length = r.u32(offset + 12);
    p.timestamp_ns = seconds * 1'000'000'000ull + (file.nanosecond ? fraction : fraction * 1000);
    offset += kRecordHeader;
    if (captured > bytes.size() - offset)
      return fail(
          EINVAL,
          fmt::format("packet {} at offset {}: {} captured bytes, but only {} left in the file",
                      index, offset - kRecordHeader, captured, bytes.size() - offset));
    p.data = bytes.subspan(offset, captured);
    offset += captured;
    file.packets.push_back(p);
  }
  return file;
}

Result<std::vector<std::uint8_t>> parse_hex_packet(std::string_view text) {
  auto is_hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  std::vector<std::uint8_t> out;
  std::string digits;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X') &&
        (i == 0 || !is_hex(text[i - 1]))) {
      ++i;
      continue;
    }
    if (is_hex(c)) {
      digits += c;
    } else if (!(std::isspace(static_cast<unsigned char>(c)) || c == ':' || c == '-' || c == '.')) {
      return fail(EINVAL, fmt::format("'{}' at position {} is not a hex digit", c, i + 1));
    }
  }
  if (digits.size() % 2 != 0) return fail(EINVAL, "an odd number of hex digits");
  for (std::size_t i = 0; i < digits.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<double> time_per_packet(const Vm& vm, std::span<const PcapPacket> packets, int runs,
                                    std::chrono::milliseconds run_time) {
  using Clock = std::chrono::steady_clock;
  std::uint64_t sink = 0;
  auto pass = [&] {
    for (const auto& p : packets) sink += vm.run(p.data);
  };
  long iterations = 1;
  for (;;) {
    const auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i) pass();
    if (Clock::now() - t0 > run_time / 4) break;
    iterations *= 2;
  }
  iterations *= 4;
  std::vector<double> ns;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i) pass();
    const double elapsed = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    ns.push_back(elapsed / (static_cast<double>(iterations) * packets.size()));
  }
  std::sort(ns.begin(), ns.end());
  // Keeps the runs from being optimised away.
  volatile std::uint64_t keep = sink;
  (void)keep;
  return ns;
}

}  // namespace ninep::bpf
