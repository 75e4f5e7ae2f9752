#include "random_program.h"

#include <algorithm>
#include <array>

#include "bpf/opcodes.h"
#include "bpf/validate.h"

namespace ninep::bpf::testing {
namespace {

using namespace op;

// Draws from a generator's engine.
class Draw {
 public:
  explicit Draw(std::mt19937_64& rng) : rng_(rng) {}

  std::uint32_t below(std::uint64_t n) {
    return n == 0 ? 0 : static_cast<std::uint32_t>(rng_() % n);
  }
  bool chance(unsigned percent) { return below(100) < percent; }
  std::uint32_t any() { return static_cast<std::uint32_t>(rng_()); }
  template <typename T, std::size_t N>
  T pick(const T (&values)[N]) {
    return values[below(N)];
  }

 protected:
  std::mt19937_64& rng_;
};

constexpr RawInstruction stmt(int code, std::uint32_t k = 0) {
  return {static_cast<std::uint16_t>(code), 0, 0, k};
}

// A = hash(A, X) mapped to 1..64, so that kept lengths of packets of 64 bytes or more show it.
constexpr RawInstruction kFold[] = {stmt(kSt, 14),
                                    stmt(kStx, 13),
                                    stmt(kLd | kMem, 13),
                                    stmt(kAlu | kMul | kK, 0x85ebca6b),
                                    stmt(kMisc | kTax),
                                    stmt(kLd | kMem, 14),
                                    stmt(kAlu | kMul | kK, 0x9e3779b1),
                                    stmt(kAlu | kXor | kX),
                                    stmt(kSt, 12),
                                    stmt(kAlu | kRsh | kK, 16),
                                    stmt(kMisc | kTax),
                                    stmt(kLd | kMem, 12),
                                    stmt(kAlu | kXor | kX),
                                    stmt(kAlu | kAnd | kK, 0x3f),
                                    stmt(kAlu | kAdd | kK, 1),
                                    stmt(kRet | kA)};

class Generator : Draw {
 public:
  Generator(std::mt19937_64& rng, const RandomProgramOptions& o) : Draw(rng), o_(o) {}

  Program generate() {
    Program p;
    // A prologue writes some scratch words; the body reads only those.
    for (std::uint32_t s = 0; s < kScratchWords; ++s) {
      if (chance(50)) continue;
      p.push_back(stmt(kLd | kImm, constant()));
      p.push_back(stmt(chance(50) ? kSt : kStx, s));
      written_.push_back(s);
    }
    if (chance(50)) p.push_back(stmt(kLdx | kImm, constant()));
    const std::size_t body = chance(o_.long_percent) ? 100 + below(400) : 1 + below(o_.max_body);
    end_ = p.size() + body;  // where jumps may land at most (the epilogue's first instruction)
    while (p.size() < end_) add(p);
    if (o_.fold_result) {
      p.insert(p.end(), std::begin(kFold), std::end(kFold));
    } else {
      p.push_back(chance(50) ? stmt(kRet | kA) : stmt(kRet | kK, constant()));
    }
    return p;
  }

 private:
  std::uint32_t constant() {
    static constexpr std::uint32_t kEdges[] = {
        0,      1,       2,          3,          4,          7,          8,         14,
        15,     16,      20,         31,         32,         33,         63,        64,
        0x7f,   0x80,    0xff,       0x100,      0x800,      0x806,      0x1fff,    0x86dd,
        0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffe, 0xffffffff};
    switch (below(5)) {
      case 0:
        return any();
      case 1:
        return below(o_.max_packet + 8);
      case 2:
        return 1u << below(32);
      default:
        return pick(kEdges);
    }
  }
  std::uint32_t absolute_offset() {
    static constexpr std::uint32_t kFar[] = {0x7fffffff, 0x80000000,         0xffdfffff,
                                             0xffeffffe, kAncillaryBase - 4, 65535};
    switch (below(12)) {
      case 0:
        return kNetworkBase + (chance(80) ? below(o_.max_packet + 8) : any() % 0xff000);
      case 1:
        return kLinkBase + (chance(80) ? below(64) : below(0x100000));
      case 2:
        return pick(kFar);
      case 3:
        return 0x7ffffffc + below(8);  // the int32 boundary
      case 4:
        return kAncillaryBase - 1 - below(4);  // the last offsets below the extensions
      case 5:
      case 6:
      case 7:
        return below(72);  // within or just past the usual packet lengths
      default:
        return below(o_.max_packet + 8);
    }
  }
  std::uint32_t indirect_offset() {
    switch (below(8)) {
      case 0:
        return constant();
      case 1:
        return kNetworkBase + below(64);
      case 2:
        return kLinkBase + below(64);
      case 3:
        return 0u - below(8);  // X + k wraps for any X >= this distance from 2^32
      default:
        return below(72);
    }
  }
  // A skip landing at most on end_, often a short one.
  std::uint32_t skip(std::size_t at, std::uint32_t limit) {
    const std::size_t room = end_ - at - 1;
    const std::size_t max = std::min<std::size_t>(room, limit);
    if (chance(40)) return below(std::min<std::size_t>(max, 3) + 1);
    return below(max + 1);
  }

  void add(Program& p) {
    static constexpr std::uint16_t kSizes[] = {kW, kH, kB};
    static constexpr std::uint16_t kAluOps[] = {kAdd, kSub, kMul, kDiv, kOr,
                                                kAnd, kLsh, kRsh, kMod, kXor};
    static constexpr std::uint16_t kJumps[] = {kJeq, kJgt, kJge, kJset};
    const std::size_t at = p.size();
    const std::uint16_t size = pick(kSizes);
    switch (below(23)) {
      case 0:
      case 1:
        return p.push_back(stmt(kLd | size | kAbs, absolute_offset()));
      case 2:
      case 3:
        return p.push_back(stmt(kLd | size | kInd, indirect_offset()));
      case 4:
        return p.push_back(stmt(chance(50) ? kLd | kImm : kLdx | kImm, constant()));
      case 5:
        if (written_.empty()) return p.push_back(stmt(kLd | kW | kLen));
        return p.push_back(
            stmt(chance(50) ? kLd | kMem : kLdx | kMem, written_[below(written_.size())]));
      case 6:
        return p.push_back(stmt(chance(50) ? kSt : kStx, below(kScratchWords)));
      case 7:
        return p.push_back(stmt(chance(50) ? kLd | kW | kLen : kLdx | kW | kLen));
      case 8:
        return p.push_back(
            stmt(kLdx | kB | kMsh, chance(25) ? absolute_offset() : below(o_.max_packet + 4)));
      case 9: {
        if (!o_.allow_extensions) return p.push_back(stmt(kMisc | kTax));
        std::uint32_t ext = below(16) * 4;
        if (ext == 56 && !o_.allow_random) ext = 40;  // rand -> xor_x
        return p.push_back(stmt(kLd | size | kAbs, kAncillaryBase + ext));
      }
      case 10: {  // a netlink attribute lookup with a plausible start offset and type
        if (!o_.allow_extensions || at + 3 > end_) return p.push_back(stmt(kLd | kW | kLen));
        p.push_back(stmt(kLd | kImm, below(24)));
        p.push_back(stmt(kLdx | kImm, below(6)));
        return p.push_back(stmt(kLd | kW | kAbs, kAncillaryBase + (chance(50) ? 12 : 16)));
      }
      case 11:
      case 12:
      case 13: {
        const std::uint16_t alu = pick(kAluOps);
        std::uint32_t k = constant();
        if ((alu == kDiv || alu == kMod) && k == 0) k = 3;
        if (alu == kLsh || alu == kRsh) k %= 32;
        return p.push_back(stmt(kAlu | alu | kK, k));
      }
      case 14:
      case 15:
        return p.push_back(stmt(kAlu | pick(kAluOps) | kX));
      case 16:
        return p.push_back(stmt(chance(50)   ? kAlu | kNeg
                                : chance(50) ? kMisc | kTax
                                             : kMisc | kTxa));
      case 17:
      case 18:
      case 19: {
        const bool x = chance(33);
        return p.push_back({static_cast<std::uint16_t>(kJmp | pick(kJumps) | (x ? kX : kK)),
                            static_cast<std::uint8_t>(skip(at, 255)),
                            static_cast<std::uint8_t>(skip(at, 255)), x ? 0 : constant()});
      }
      case 20:
        return p.push_back(stmt(kJmp | kJa, skip(at, 0xffffffff)));
      case 21:
        if (!chance(25)) return p.push_back(stmt(kMisc | kTax));
        return p.push_back(chance(50) ? stmt(kRet | kA) : stmt(kRet | kK, constant()));
      default:
        return p.push_back(stmt(kLd | kW | kLen));
    }
  }

  const RandomProgramOptions& o_;
  std::vector<std::uint32_t> written_;
  std::size_t end_ = 0;
};

}  // namespace

Program RandomPrograms::valid_program(const RandomProgramOptions& options) {
  for (;;) {
    Program p = Generator(rng_, options).generate();
    if (p.size() <= kMaxInstructions && !find_rejection(p)) return p;
  }
}

Program RandomPrograms::any_program() {
  Draw d(rng_);
  if (d.chance(5)) {  // plain random instructions
    Program p(d.below(12));
    for (RawInstruction& r : p) {
      r.op = static_cast<std::uint16_t>(d.chance(33) ? d.any() : d.below(0x100));
      r.jt = static_cast<std::uint8_t>(d.below(4));
      r.jf = static_cast<std::uint8_t>(d.below(4));
      r.k = d.chance(50) ? d.any() : d.below(40);
    }
    return p;
  }
  RandomProgramOptions o;
  o.max_body = 12;
  o.fold_result = d.chance(50);
  Program p = valid_program(o);
  const std::uint32_t corruptions = d.below(3);  // sometimes none: valid programs too
  for (std::uint32_t c = 0; c < corruptions && !p.empty(); ++c) {
    RawInstruction& r = p[d.below(p.size())];
    switch (d.below(10)) {
      case 0:
        r.op = static_cast<std::uint16_t>(d.below(0x100));
        break;
      case 1:
        r.op = static_cast<std::uint16_t>(d.any());
        break;
      case 2:
        r.jt = static_cast<std::uint8_t>(d.any());
        r.jf = static_cast<std::uint8_t>(d.any());
        break;
      case 3:
        r.k = d.chance(50) ? d.below(40) : d.any();
        break;
      case 4:
        r = stmt(d.chance(50) ? kAlu | kDiv | kK : kAlu | kMod | kK, 0);
        break;
      case 5:
        r = stmt(d.chance(50) ? kAlu | kLsh | kK : kAlu | kRsh | kK, 30 + d.below(4));
        break;
      case 6:
        r = stmt((kLd | kMem) + d.below(2), d.below(18));
        break;
      case 7:
        r = stmt(kLd | kAbs | (d.below(3) << 3), kAncillaryBase + d.below(70));
        break;
      case 8:
        p.back() = stmt(d.below(0x100));
        break;
      default:
        r = stmt(kJmp | kJa, d.below(p.size() + 2));
        break;
    }
  }
  if (d.chance(2)) p.clear();
  return p;
}

std::vector<std::uint8_t> RandomPrograms::packet(std::uint32_t max_length) {
  Draw d(rng_);
  static constexpr std::uint32_t kLengths[] = {0,  1,  2,  3,  4,  5,  13, 14, 15, 16, 20,
                                               21, 22, 23, 24, 34, 54, 55, 56, 57, 58, 64};
  const std::uint32_t len = std::min(d.chance(35)   ? kLengths[d.below(std::size(kLengths))]
                                     : d.chance(50) ? d.below(std::min(max_length, 200u) + 1)
                                                    : d.below(max_length + 1),
                                     max_length);
  std::vector<std::uint8_t> p(len);
  const std::uint32_t style = d.below(3);
  for (auto& b : p)
    b = static_cast<std::uint8_t>(style == 0   ? d.any()
                                  : style == 1 ? d.below(8)
                                               : d.below(16) * 17);
  if (len > 24 && d.chance(40)) {
    // An IPv4-like header so that 4*([14]&0xf) and protocol checks take both ways.
    p[12] = 0x08, p[13] = 0x00, p[14] = static_cast<std::uint8_t>(0x40 | (5 + d.below(3)));
    p[23] = static_cast<std::uint8_t>(d.chance(50) ? 6 : 17);
  } else if (len > 8 && d.chance(40)) {
    // A chain of netlink attributes (host byte order headers), some nested, some malformed.
    std::size_t at = d.below(8);
    while (at + 4 <= len) {
      const auto attr_len =
          static_cast<std::uint16_t>(d.chance(85) ? 4 + d.below(12) : d.below(len));
      const auto type = static_cast<std::uint16_t>(d.below(6) | (d.chance(20) ? 0x8000 : 0));
      std::copy_n(reinterpret_cast<const std::uint8_t*>(&attr_len), 2,
                  p.begin() + static_cast<std::ptrdiff_t>(at));
      std::copy_n(reinterpret_cast<const std::uint8_t*>(&type), 2,
                  p.begin() + static_cast<std::ptrdiff_t>(at + 2));
      at += d.chance(30) ? 4 : (attr_len + 3u) & ~3u;
      if (attr_len == 0) break;
    }
  }
  return p;
}

Context RandomPrograms::context() {
  Draw d(rng_);
  Context ctx;
  ctx.protocol = static_cast<std::uint16_t>(d.any());
  ctx.pkt_type = d.below(8);
  ctx.ifindex = d.any();
  ctx.mark = d.any();
  ctx.queue = d.below(65536);
  ctx.hatype = d.below(1024);
  ctx.rxhash = d.any();
  ctx.cpu = d.below(64);
  ctx.vlan_tci = d.below(65536);
  ctx.vlan_present = d.below(2);
  ctx.vlan_tpid = d.chance(50) ? 0x8100 : 0x88a8;
  ctx.payload_offset = d.below(128);
  ctx.has_device = d.chance(75);
  // Header areas: absent, at the start, after an Ethernet header, anywhere, or past the end.
  auto header = [&]() -> std::int32_t {
    switch (d.below(5)) {
      case 0:
        return -1;
      case 1:
        return 0;
      case 2:
        return 14;
      case 3:
        return static_cast<std::int32_t>(d.below(80));
      default:
        return static_cast<std::int32_t>(d.any() & 0x7fffffff);
    }
  };
  ctx.network_header = header();
  ctx.link_header = header();
  return ctx;
}

}  // namespace ninep::bpf::testing
