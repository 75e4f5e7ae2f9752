#include "bpf/netlink_attribute.h"

#include <cstring>

namespace ninep::bpf {
namespace {

constexpr std::uint32_t kHeader = 4;         // sizeof(struct nlattr)
constexpr std::uint32_t kTypeMask = 0x3fff;  // ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)

std::uint16_t host16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// nla_find(): `remaining` is signed as in the kernel, so a stream shorter than a header (or an
// attribute whose aligned length overshoots) simply ends the walk.
std::uint32_t walk(const std::uint8_t* packet, std::uint64_t pos, std::int64_t remaining,
                   std::uint32_t type) {
  while (remaining >= kHeader) {
    const std::uint16_t len = host16(packet + pos);
    if (len < kHeader || len > remaining) return 0;
    if ((host16(packet + pos + 2) & kTypeMask) == type) return static_cast<std::uint32_t>(pos);
    const std::uint32_t aligned = (len + 3u) & ~3u;
    remaining -= aligned;
    pos += aligned;
  }
  return 0;
}

}  // namespace

std::uint32_t find_netlink_attribute(const std::uint8_t* packet, std::uint32_t length,
                                     std::uint32_t offset, std::uint32_t type) {
  if (length < kHeader || offset > length - kHeader) return 0;
  return walk(packet, offset, std::int64_t{length} - offset, type);
}

std::uint32_t find_nested_netlink_attribute(const std::uint8_t* packet, std::uint32_t length,
                                            std::uint32_t offset, std::uint32_t type) {
  if (length < kHeader || offset > length - kHeader) return 0;
  const std::uint16_t len = host16(packet + offset);
  if (len > length - offset) return 0;
  return walk(packet, std::uint64_t{offset} + kHeader, std::int64_t{len} - kHeader, type);
}

}  // namespace ninep::bpf
