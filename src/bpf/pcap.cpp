#include "bpf/pcap.h"

#include <fmt/format.h>

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

}  // namespace ninep::bpf
