// Hand-written C++ equivalents of two anchor filters: the native-code limit an engine approaches.
// Same loads and the same bounds behaviour as libpcap's programs (a load past the end: verdict 0).
#pragma once

#include <cstdint>

namespace ninep::bench {

// libpcap's `tcp port 80` on Ethernet (anchors/bpf/filters/01.ddd).
std::uint32_t native_tcp_port_80(const std::uint8_t* p, std::uint32_t len);
// x/net/bpf's ARP example (anchors/bpf/filters/arp.ddd).
std::uint32_t native_arp(const std::uint8_t* p, std::uint32_t len);
// Only the loop and the call: the floor of any per-packet measurement.
std::uint32_t native_nothing(const std::uint8_t* p, std::uint32_t len);

}  // namespace ninep::bench
