#include "random_program.h"

#include <algorithm>
#include <array>

#include "bpf/jit_program.h"
#include "bpf/validate.h"

namespace ninep::bpf::test {
namespace {

using namespace ninep::bpf::jit;

constexpr std::uint32_t kNetOffset = 0xfff00000;   // SKF_NET_OFF
constexpr std::uint32_t kLinkOffset = 0xffe00000;  // SKF_LL_OFF

constexpr std::array<std::uint32_t, 16> kExtensions = {
    kExtProtocol,       kExtPktType,   kExtIfIndex, kExtNlAttr,  kExtNlAttrNest, kExtMark,
    kExtQueue,          kExtHaType,    kExtRxHash,  kExtCpu,     kExtAluXorX,    kExtVlanTag,
    kExtVlanTagPresent, kExtPayOffset, kExtRandom,  kExtVlanTpid};

constexpr std::array<std::uint16_t, 3> kAbsoluteLoads = {kLdWAbs, kLdHAbs, kLdBAbs};
constexpr std::array<std::uint16_t, 3> kIndirectLoads = {kLdWInd, kLdHInd, kLdBInd};
constexpr std::array<std::uint16_t, 9> kAluConstant = {kAddK, kSubK, kMulK, kOrK, kAndK,
                                                       kXorK, kLshK, kRshK, kNeg};
constexpr std::array<std::uint16_t, 11> kAluX = {kAddX, kSubX, kMulX, kDivX, kModX, kOrX,
                                                 kAndX, kXorX, kLshX, kRshX, kNeg};
constexpr std::array<std::uint16_t, 8> kConditionalJumps = {kJeqK, kJeqX, kJgtK,  kJgtX,
                                                            kJgeK, kJgeX, kJsetK, kJsetX};

RawInstruction stmt(std::uint16_t op, std::uint32_t k) {
  return {op, 0, 0, k};
}

}  // namespace

std::uint32_t RandomPrograms::edgy_constant() {
  static constexpr std::uint32_t kEdges[] = {
      0,  1,  2,  3,    4,     7,      8,          14,         31,         32,
      33, 63, 64, 0xff, 0x100, 0x1fff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
  switch (below(4)) {
    case 0:
      return kEdges[below(std::size(kEdges))];
    case 1:
      return below(64);
    case 2:
      return 1u << below(32);
    default:
      return any();
  }
}

std::uint32_t RandomPrograms::packet_offset() {
  switch (below(8)) {
    case 0:
    case 1:
    case 2:
      return below(72);  // within or just past the usual packet lengths
    case 3:
      return below(1600);
    case 4:  // the int32 boundary
      return 0x7ffffffc + below(8);
    case 5:
      return kNetOffset + (chance(80) ? below(72) : any() % 0xff000);
    case 6:
      return kLinkOffset + (chance(80) ? below(72) : below(0x100000));
    default:
      return kExtensionBase - 1 - below(4);  // the last offsets below the extensions
  }
}

std::uint32_t RandomPrograms::indirect_offset() {
  switch (below(5)) {
    case 0:
    case 1:
      return below(72);
    case 2:
      return 0u - below(8);  // X + k wraps for any X >= this distance from 2^32
    case 3:
      return chance(50) ? kNetOffset + below(64) : kLinkOffset + below(64);  // the header areas
    default:
      return edgy_constant();
  }
}

std::vector<RawInstruction> RandomPrograms::candidate() {
  const std::size_t n = chance(10) ? 100 + below(400) : 2 + below(40);
  std::vector<RawInstruction> p;
  p.reserve(n + 4);
  std::uint32_t stored = 0;  // scratch slots written so far (in program order)
  if (chance(40)) {
    for (unsigned i = below(4); i-- > 0;) {
      const std::uint32_t slot = below(16);
      p.push_back(stmt(chance(50) ? kSt : kStx, slot));
      stored |= 1u << slot;
    }
  }
  while (p.size() + 1 < n) {
    const std::size_t remaining = n - 1 - p.size();  // instructions after this one
    switch (below(20)) {
      case 0:
      case 1:
      case 2:
        p.push_back(stmt(kAbsoluteLoads[below(3)], packet_offset()));
        break;
      case 3:
        p.push_back(stmt(kAbsoluteLoads[below(3)], kExtensionBase + kExtensions[below(16)]));
        break;
      case 4:
      case 5:
        p.push_back(stmt(kIndirectLoads[below(3)], indirect_offset()));
        break;
      case 6:
        p.push_back(stmt(chance(50) ? kLdxImm : kLdImm, edgy_constant()));
        break;
      case 7:
        p.push_back(stmt(chance(50) ? kLdxMsh : (chance(50) ? kLdxLen : kLdLen), packet_offset()));
        break;
      case 8: {
        const std::uint32_t slot = below(16);
        if (stored & (1u << slot)) {
          p.push_back(stmt(chance(50) ? kLdMem : kLdxMem, slot));
        } else {
          p.push_back(stmt(chance(50) ? kSt : kStx, slot));
          stored |= 1u << slot;
        }
        break;
      }
      case 9: {
        const std::uint16_t op = kAluConstant[below(std::size(kAluConstant))];
        const bool shift = op == kLshK || op == kRshK;
        p.push_back(stmt(op, shift ? below(32) : edgy_constant()));
        break;
      }
      case 10:
        p.push_back(stmt(chance(50) ? kDivK : kModK, std::max<std::uint32_t>(1, edgy_constant())));
        break;
      case 11:
      case 12:
        p.push_back(stmt(kAluX[below(std::size(kAluX))], 0));
        break;
      case 13:
        p.push_back(stmt(chance(50) ? kTax : kTxa, 0));
        break;
      case 14:
      case 15:
      case 16: {
        const auto reach = static_cast<std::uint32_t>(std::min<std::size_t>(remaining, 256));
        auto skip = [&] {
          return static_cast<std::uint8_t>(chance(60) ? below(std::min(reach, 4u)) : below(reach));
        };
        p.push_back({kConditionalJumps[below(8)], skip(), skip(), edgy_constant()});
        break;
      }
      case 17:
        p.push_back(
            stmt(kJa, below(static_cast<std::uint32_t>(std::min<std::size_t>(remaining, 600)))));
        break;
      case 18:  // the netlink lookups with a plausible start offset and type
        p.push_back(stmt(kLdImm, below(24)));
        p.push_back(stmt(kLdxImm, below(6)));
        p.push_back(stmt(kLdWAbs, kExtensionBase + (chance(50) ? kExtNlAttr : kExtNlAttrNest)));
        break;
      default:
        p.push_back(chance(50) ? stmt(kRetA, 0) : stmt(kRetK, edgy_constant()));
        break;
    }
  }
  p.push_back(chance(50) ? stmt(kRetA, 0) : stmt(kRetK, chance(50) ? 0xffffffff : any()));
  return p;
}

std::vector<RawInstruction> RandomPrograms::program() {
  for (;;) {
    auto p = candidate();
    if (validate(p)) return p;
  }
}

std::vector<std::uint8_t> RandomPrograms::packet() {
  static constexpr std::uint32_t kLengths[] = {0,  1,  2,  3,  4,  5,  13, 14, 15, 16, 20,
                                               21, 22, 23, 24, 34, 54, 55, 56, 57, 58, 64};
  std::uint32_t len = chance(70)   ? kLengths[below(std::size(kLengths))]
                      : chance(80) ? below(200)
                                   : below(1600);
  std::vector<std::uint8_t> pkt(len);
  for (auto& b : pkt) b = static_cast<std::uint8_t>(chance(30) ? below(8) : any());
  if (len > 8 && chance(30)) {
    // A chain of netlink attributes (host byte order headers), some nested, some malformed.
    std::size_t at = below(8);
    while (at + 4 <= len) {
      const auto attr_len = static_cast<std::uint16_t>(
          chance(85) ? 4 + below(12) : below(static_cast<std::uint32_t>(len)));
      const auto type = static_cast<std::uint16_t>(below(6) | (chance(20) ? 0x8000 : 0));
      std::copy_n(reinterpret_cast<const std::uint8_t*>(&attr_len), 2,
                  pkt.begin() + static_cast<std::ptrdiff_t>(at));
      std::copy_n(reinterpret_cast<const std::uint8_t*>(&type), 2,
                  pkt.begin() + static_cast<std::ptrdiff_t>(at + 2));
      at += chance(30) ? 4 : (attr_len + 3u) & ~3u;
      if (attr_len == 0) break;
    }
  }
  return pkt;
}

Context RandomPrograms::context() {
  Context ctx;
  ctx.protocol = static_cast<std::uint16_t>(any());
  ctx.pkt_type = below(8);
  ctx.ifindex = any();
  ctx.mark = any();
  ctx.queue = below(65536);
  ctx.hatype = below(1024);
  ctx.rxhash = any();
  ctx.cpu = below(64);
  ctx.vlan_tci = below(65536);
  ctx.vlan_present = below(2);
  ctx.vlan_tpid = chance(50) ? 0x8100 : 0x88a8;
  ctx.payload_offset = below(128);
  ctx.has_device = chance(75);
  // Header areas: absent, at the start, after an Ethernet header, anywhere, or past the end.
  auto header = [&]() -> std::int32_t {
    switch (below(5)) {
      case 0:
        return -1;
      case 1:
        return 0;
      case 2:
        return 14;
      case 3:
        return static_cast<std::int32_t>(below(80));
      default:
        return static_cast<std::int32_t>(any() & 0x7fffffff);
    }
  };
  ctx.network_header = header();
  ctx.link_header = header();
  return ctx;
}

}  // namespace ninep::bpf::test
