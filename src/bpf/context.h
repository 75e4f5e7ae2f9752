// The values Linux's SKF_AD_* extension loads read, supplied by the caller of a run.
#pragma once

#include <cstdint>

namespace ninep::bpf {

struct Context {
  std::uint16_t protocol = 0;      // SKF_AD_PROTOCOL: host-order ethertype (ntohs(skb->protocol))
  std::uint32_t pkt_type = 0;      // SKF_AD_PKTTYPE (PACKET_HOST = 0, ...)
  std::uint32_t ifindex = 0;       // SKF_AD_IFINDEX
  std::uint32_t mark = 0;          // SKF_AD_MARK
  std::uint32_t queue = 0;         // SKF_AD_QUEUE
  std::uint32_t hatype = 0;        // SKF_AD_HATYPE (ARPHRD_ETHER = 1, ...)
  std::uint32_t rxhash = 0;        // SKF_AD_RXHASH
  std::uint32_t cpu = 0;           // SKF_AD_CPU
  std::uint32_t vlan_tci = 0;      // SKF_AD_VLAN_TAG
  std::uint32_t vlan_present = 0;  // SKF_AD_VLAN_TAG_PRESENT (0 or 1)
  std::uint32_t vlan_tpid = 0;     // SKF_AD_VLAN_TPID
  std::uint32_t payload_offset = 0;  // SKF_AD_PAY_OFFSET
  // SKF_AD_RANDOM: called once per `ld rand`; when null, a fixed-seed generator is used.
  std::uint32_t (*random)(void* state) = nullptr;
  void* random_state = nullptr;
};

}  // namespace ninep::bpf
