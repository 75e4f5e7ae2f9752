#include "native_filters.h"

namespace ninep::bench {
namespace {

inline std::uint32_t be16(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 8 | p[1];
}

}  // namespace

[[gnu::noinline]] std::uint32_t native_tcp_port_80(const std::uint8_t* p, std::uint32_t len) {
  constexpr std::uint32_t kAccept = 262144;
  if (len < 14) return 0;
  const std::uint32_t ethertype = be16(p + 12);
  if (ethertype == 0x86dd) {  // IPv6: next header at 20, ports at 54 and 56
    if (len < 21 || p[20] != 6) return 0;
    if (len < 56) return 0;
    if (be16(p + 54) == 80) return kAccept;
    if (len < 58) return 0;
    return be16(p + 56) == 80 ? kAccept : 0;
  }
  if (ethertype != 0x800) return 0;
  if (len < 24 || p[23] != 6) return 0;  // IPv4 TCP
  if (be16(p + 20) & 0x1fff) return 0;   // not the first fragment
  const std::uint32_t x = (p[14] & 0xfu) * 4;
  if (x + 16 > len) return 0;
  if (be16(p + x + 14) == 80) return kAccept;
  if (x + 18 > len) return 0;
  return be16(p + x + 16) == 80 ? kAccept : 0;
}

[[gnu::noinline]] std::uint32_t native_arp(const std::uint8_t* p, std::uint32_t len) {
  if (len < 14) return 0;
  return be16(p + 12) == 0x806 ? 4096 : 0;
}

[[gnu::noinline]] std::uint32_t native_nothing(const std::uint8_t*, std::uint32_t) {
  asm volatile("");
  return 0;
}

}  // namespace ninep::bench
