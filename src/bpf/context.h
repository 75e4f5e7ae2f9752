// The values Linux's SKF_AD_* extension loads read, supplied by the caller of a run.
#pragma once

#include <cstdint>

namespace ninep::bpf {

struct Context {
  std::uint16_t protocol = 0;        // SKF_AD_PROTOCOL: host-order ethertype (ntohs(skb->protocol))
  std::uint32_t pkt_type = 0;        // SKF_AD_PKTTYPE (PACKET_HOST = 0, ...)
  std::uint32_t ifindex = 0;         // SKF_AD_IFINDEX
  std::uint32_t mark = 0;            // SKF_AD_MARK
  std::uint32_t queue = 0;           // SKF_AD_QUEUE
  std::uint32_t hatype = 0;          // SKF_AD_HATYPE (ARPHRD_ETHER = 1, ...)
  std::uint32_t rxhash = 0;          // SKF_AD_RXHASH
  std::uint32_t cpu = 0;             // SKF_AD_CPU
  std::uint32_t vlan_tci = 0;        // SKF_AD_VLAN_TAG
  std::uint32_t vlan_present = 0;    // SKF_AD_VLAN_TAG_PRESENT (0 or 1)
  std::uint32_t vlan_tpid = 0;       // SKF_AD_VLAN_TPID
  std::uint32_t payload_offset = 0;  // SKF_AD_PAY_OFFSET
  // Whether the packet came through a network device. The kernel ends a program that reads
  // SKF_AD_IFINDEX or SKF_AD_HATYPE of a packet without one (AF_UNIX, for instance) right there,
  // with the current A as verdict; false reproduces that.
  bool has_device = true;
  // Where the packet's network and link-layer headers start (byte offsets into the packet), or -1
  // when it has none. Loads at SKF_NET_OFF + k and SKF_LL_OFF + k (also reached by X + k wrapping
  // below zero) read from there, bounded by the packet's end, as the kernel's
  // bpf_internal_load_pointer_neg_helper does; with -1 they fail (verdict 0). On an AF_UNIX
  // socket the kernel's network header is the first byte of the data and there is no link-layer
  // header: network_header = 0, link_header = -1.
  std::int32_t network_header = -1;
  std::int32_t link_header = -1;
  // SKF_AD_RANDOM: called once per `ld rand`; when null, a fixed-seed generator is used.
  std::uint32_t (*random)(void* state) = nullptr;
  void* random_state = nullptr;
};

}  // namespace ninep::bpf
