// The kernel's netlink attribute lookups behind SKF_AD_NLATTR and SKF_AD_NLATTR_NEST
// (__skb_get_nlattr, __skb_get_nlattr_nest): pure functions of the packet, A and X.
#pragma once

#include <cstdint>

namespace ninep::bpf {

// The offset of the first attribute of type `type` in the attribute stream starting at `offset`
// and running to the end of the packet, or 0 when there is none. Attribute headers
// (struct nlattr { u16 nla_len; u16 nla_type; }) are read in host byte order, as the kernel does.
std::uint32_t find_netlink_attribute(const std::uint8_t* packet, std::uint32_t length,
                                     std::uint32_t offset, std::uint32_t type);

// The same among the attributes nested in the attribute at `offset`.
std::uint32_t find_nested_netlink_attribute(const std::uint8_t* packet, std::uint32_t length,
                                            std::uint32_t offset, std::uint32_t type);

}  // namespace ninep::bpf
