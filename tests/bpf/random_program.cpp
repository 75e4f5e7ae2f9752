#include "random_program.h"

#include "bpf/opcodes.h"
#include "bpf/validate.h"

namespace ninep::bpf::testing {
namespace {

using namespace op;

class Generator {
 public:
  Generator(std::mt19937_64& rng, const RandomProgramOptions& o) : rng_(rng), o_(o) {}

  Program generate() {
    Program p;
    // A prologue writes some scratch words; the body reads only those.
    for (std::uint32_t s = 0; s < 16; ++s) {
      if (chance(2)) continue;
      p.push_back({kLd | kImm, 0, 0, constant()});
      p.push_back({static_cast<std::uint16_t>(chance(2) ? kSt : kStx), 0, 0, s});
      written_.push_back(s);
    }
    if (chance(2)) p.push_back({kLdx | kImm, 0, 0, constant()});
    const std::size_t body = 1 + below(o_.max_body);
    const std::size_t epilogue = o_.fold_result ? kFold.size() : 1;
    end_ = p.size() + body;  // where jumps may land at most (the epilogue's first instruction)
    while (p.size() < end_) p.push_back(instruction(p.size()));
    if (o_.fold_result) {
      p.insert(p.end(), kFold.begin(), kFold.end());
    } else {
      p.push_back(chance(2) ? RawInstruction{kRet | kA, 0, 0, 0}
                            : RawInstruction{kRet | kK, 0, 0, constant()});
    }
    (void)epilogue;
    return p;
  }

 private:
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(int one_in) { return below(one_in) == 0; }

  std::uint32_t constant() {
    static constexpr std::uint32_t kEdges[] = {
        0,       1,          2,          3,          4,          7,         8,      14,
        15,      16,         20,         31,         32,         33,        63,     64,
        0x7f,    0x80,       0xff,       0x100,      0x800,      0x806,     0x86dd, 0xffff,
        0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffe, 0xffffffff};
    switch (below(4)) {
      case 0:
        return static_cast<std::uint32_t>(rng_());
      case 1:
        return static_cast<std::uint32_t>(below(o_.max_packet + 8));
      default:
        return kEdges[below(std::size(kEdges))];
    }
  }
  std::uint32_t absolute_offset() {
    switch (below(10)) {
      case 0:
        return kNetworkBase + static_cast<std::uint32_t>(below(o_.max_packet + 8));
      case 1:
        return kLinkBase + static_cast<std::uint32_t>(below(64));
      case 2: {
        static constexpr std::uint32_t kFar[] = {0x7ffffffc,     0x7fffffff, 0x80000000,
                                                 0xffdfffff,     0xffeffffe, 0xfffff000 - 4,
                                                 0xfffff000 - 1, 65535};
        return kFar[below(std::size(kFar))];
      }
      default:
        return static_cast<std::uint32_t>(below(o_.max_packet + 8));
    }
  }
  std::uint32_t indirect_offset() {
    switch (below(8)) {
      case 0:
        return constant();
      case 1:
        return kNetworkBase + static_cast<std::uint32_t>(below(64));
      default:
        return static_cast<std::uint32_t>(below(64));
    }
  }
  // A skip landing at most on end_.
  std::uint32_t skip(std::size_t at, std::uint32_t limit) {
    const std::size_t room = end_ - at - 1;
    const std::size_t max = std::min<std::size_t>(room, limit);
    if (chance(3)) return static_cast<std::uint32_t>(below(std::min<std::size_t>(max, 3) + 1));
    return static_cast<std::uint32_t>(below(max + 1));
  }

  RawInstruction instruction(std::size_t at) {
    static constexpr std::uint16_t kSizes[] = {kW, kH, kB};
    static constexpr std::uint16_t kAluOps[] = {kAdd, kSub, kMul, kDiv, kOr,
                                                kAnd, kLsh, kRsh, kMod, kXor};
    static constexpr std::uint16_t kJumps[] = {kJeq, kJgt, kJge, kJset};
    const std::uint16_t size = kSizes[below(3)];
    switch (below(22)) {
      case 0:
      case 1:
        return {static_cast<std::uint16_t>(kLd | size | kAbs), 0, 0, absolute_offset()};
      case 2:
      case 3:
        return {static_cast<std::uint16_t>(kLd | size | kInd), 0, 0, indirect_offset()};
      case 4:
        return {static_cast<std::uint16_t>(chance(2) ? kLd | kImm : kLdx | kImm), 0, 0, constant()};
      case 5:
        if (written_.empty()) return {kLd | kW | kLen, 0, 0, 0};
        return {static_cast<std::uint16_t>(chance(2) ? kLd | kMem : kLdx | kMem), 0, 0,
                written_[below(written_.size())]};
      case 6:
        return {static_cast<std::uint16_t>(chance(2) ? kSt : kStx), 0, 0,
                static_cast<std::uint32_t>(below(16))};
      case 7:
        return {static_cast<std::uint16_t>(chance(2) ? kLd | kW | kLen : kLdx | kW | kLen), 0, 0,
                0};
      case 8:
        return {
            kLdx | kB | kMsh, 0, 0,
            chance(8) ? absolute_offset() : static_cast<std::uint32_t>(below(o_.max_packet + 4))};
      case 9: {
        if (!o_.allow_extensions) return {kMisc | kTax, 0, 0, 0};
        std::uint32_t ext = static_cast<std::uint32_t>(below(16)) * 4;
        if (ext == 56 && !o_.allow_random) ext = 40;  // rand -> xor_x
        return {static_cast<std::uint16_t>(kLd | size | kAbs), 0, 0, kAncillaryBase + ext};
      }
      case 10:
      case 11:
      case 12: {
        const std::uint16_t alu = kAluOps[below(std::size(kAluOps))];
        std::uint32_t k = constant();
        if ((alu == kDiv || alu == kMod) && k == 0) k = 3;
        if (alu == kLsh || alu == kRsh) k %= 32;
        return {static_cast<std::uint16_t>(kAlu | alu | kK), 0, 0, k};
      }
      case 13:
      case 14:
        return {static_cast<std::uint16_t>(kAlu | kAluOps[below(std::size(kAluOps))] | kX), 0, 0,
                0};
      case 15:
        return {static_cast<std::uint16_t>(chance(2) ? kAlu | kNeg
                                                     : (chance(2) ? kMisc | kTax : kMisc | kTxa)),
                0, 0, 0};
      case 16:
      case 17:
      case 18: {
        const bool x = chance(3);
        return {static_cast<std::uint16_t>(kJmp | kJumps[below(4)] | (x ? kX : kK)),
                static_cast<std::uint8_t>(skip(at, 255)), static_cast<std::uint8_t>(skip(at, 255)),
                x ? 0 : constant()};
      }
      case 19:
        return {kJmp | kJa, 0, 0, skip(at, 0xffffffff)};
      case 20:
        if (!chance(4)) return {kMisc | kTax, 0, 0, 0};
        return chance(2) ? RawInstruction{kRet | kA, 0, 0, 0}
                         : RawInstruction{kRet | kK, 0, 0, constant()};
      default:
        return {kLd | kW | kLen, 0, 0, 0};
    }
  }

  // A = hash(A, X) mapped to 1..64, so that kept lengths of packets of 64 bytes or more show it.
  static inline const std::vector<RawInstruction> kFold = {{kSt, 0, 0, 14},
                                                           {kStx, 0, 0, 13},
                                                           {kLd | kMem, 0, 0, 13},
                                                           {kAlu | kMul | kK, 0, 0, 0x85ebca6b},
                                                           {kMisc | kTax, 0, 0, 0},
                                                           {kLd | kMem, 0, 0, 14},
                                                           {kAlu | kMul | kK, 0, 0, 0x9e3779b1},
                                                           {kAlu | kXor | kX, 0, 0, 0},
                                                           {kSt, 0, 0, 12},
                                                           {kAlu | kRsh | kK, 0, 0, 16},
                                                           {kMisc | kTax, 0, 0, 0},
                                                           {kLd | kMem, 0, 0, 12},
                                                           {kAlu | kXor | kX, 0, 0, 0},
                                                           {kAlu | kAnd | kK, 0, 0, 0x3f},
                                                           {kAlu | kAdd | kK, 0, 0, 1},
                                                           {kRet | kA, 0, 0, 0}};

  std::mt19937_64& rng_;
  const RandomProgramOptions& o_;
  std::vector<std::uint32_t> written_;
  std::size_t end_ = 0;
};

}  // namespace

Program random_valid_program(std::mt19937_64& rng, const RandomProgramOptions& options) {
  for (;;) {
    Program p = Generator(rng, options).generate();
    if (p.size() <= kMaxInstructions && !find_rejection(p)) return p;
  }
}

Program random_program(std::mt19937_64& rng) {
  auto below = [&](std::uint64_t n) { return rng() % n; };
  if (below(20) == 0) {  // plain random instructions
    Program p(below(12));
    for (RawInstruction& r : p) {
      r.op = static_cast<std::uint16_t>(below(3) == 0 ? rng() : below(0x100));
      r.jt = static_cast<std::uint8_t>(below(4));
      r.jf = static_cast<std::uint8_t>(below(4));
      r.k = below(2) ? static_cast<std::uint32_t>(rng()) : static_cast<std::uint32_t>(below(40));
    }
    return p;
  }
  RandomProgramOptions o;
  o.max_body = 12;
  o.fold_result = below(2) == 0;
  Program p = random_valid_program(rng, o);
  const int corruptions = static_cast<int>(below(3));  // sometimes none: valid programs too
  for (int c = 0; c < corruptions && !p.empty(); ++c) {
    RawInstruction& r = p[below(p.size())];
    switch (below(10)) {
      case 0:
        r.op = static_cast<std::uint16_t>(below(0x100));
        break;
      case 1:
        r.op = static_cast<std::uint16_t>(rng());
        break;
      case 2:
        r.jt = static_cast<std::uint8_t>(rng());
        r.jf = static_cast<std::uint8_t>(rng());
        break;
      case 3:
        r.k = static_cast<std::uint32_t>(below(2) ? below(40) : rng());
        break;
      case 4:
        r = {static_cast<std::uint16_t>(below(2) ? kAlu | kDiv | kK : kAlu | kMod | kK), 0, 0, 0};
        break;
      case 5:
        r = {static_cast<std::uint16_t>(below(2) ? kAlu | kLsh | kK : kAlu | kRsh | kK), 0, 0,
             static_cast<std::uint32_t>(30 + below(4))};
        break;
      case 6:
        r = {static_cast<std::uint16_t>((kLd | kMem) + below(2)), 0, 0,
             static_cast<std::uint32_t>(below(18))};
        break;
      case 7:
        r = {static_cast<std::uint16_t>(kLd | kAbs | (below(3) << 3)), 0, 0,
             kAncillaryBase + static_cast<std::uint32_t>(below(70))};
        break;
      case 8:
        p.back() = {static_cast<std::uint16_t>(below(0x100)), 0, 0, 0};
        break;
      default:
        r = {kJmp | kJa, 0, 0, static_cast<std::uint32_t>(below(p.size() + 2))};
        break;
    }
  }
  if (below(50) == 0) p.clear();
  return p;
}

std::vector<std::uint8_t> random_packet(std::mt19937_64& rng, std::uint32_t max_length) {
  std::vector<std::uint8_t> p(rng() % (max_length + 1));
  const int style = static_cast<int>(rng() % 3);
  for (auto& b : p)
    b = static_cast<std::uint8_t>(style == 0 ? rng() : style == 1 ? rng() % 4 : (rng() % 16) * 17);
  // Often an IPv4-like header so that 4*([14]&0xf) and protocol checks take both ways.
  if (p.size() > 24 && rng() % 2) {
    p[12] = 0x08, p[13] = 0x00, p[14] = static_cast<std::uint8_t>(0x40 | (5 + rng() % 3));
    p[23] = static_cast<std::uint8_t>(rng() % 2 ? 6 : 17);
  }
  return p;
}

}  // namespace ninep::bpf::testing
