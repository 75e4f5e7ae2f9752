// The interpreter's executor: direct-threaded dispatch with GCC/Clang's labels-as-values.
//
// All handlers live in one function so that A, X, the op pointer and the packet stay in
// registers from step to step; each handler ends with its own indirect jump to the next one,
// which branch predictors learn per handler.
#include <bit>
#include <cstring>

#include "bpf/interpreter_ops.h"
#include "bpf/netlink_attribute.h"

#if !defined(__GNUC__)
#error "the cBPF interpreter needs labels as values (GCC or Clang)"
#endif

namespace ninep::bpf::interpreter {
namespace {

inline std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}
inline std::uint32_t load16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
  return v;
}
inline std::uint32_t load8(const std::uint8_t* p) {
  return *p;
}

inline std::uint32_t context_word(const Context* ctx, std::uint32_t offset) {
  std::uint32_t v;
  std::memcpy(&v, reinterpret_cast<const char*>(ctx) + offset, sizeof v);
  return v;
}

// A load that missed the packet: offsets the kernel treats as negative may address the
// network or link-layer header area (see Context); anything else fails.
[[gnu::always_inline]] inline const std::uint8_t* header_pointer(const std::uint8_t* p,
                                                                 std::uint32_t len,
                                                                 const Context* ctx,
                                                                 std::uint32_t off,
                                                                 std::uint32_t bytes) {
  std::int64_t start;
  if (off >= 0xfff00000u) {  // SKF_NET_OFF
    if (ctx->network_header < 0) return nullptr;
    start = std::int64_t{ctx->network_header} + (off - 0xfff00000u);
  } else if (off >= 0xffe00000u) {  // SKF_LL_OFF
    if (ctx->link_header < 0) return nullptr;
    start = std::int64_t{ctx->link_header} + (off - 0xffe00000u);
  } else {
    return nullptr;
  }
  if (start + bytes > len) return nullptr;
  return p + start;
}

// All handlers in one function (see the top of this file); never inlined nor cloned, as the
// labels must exist exactly once per instantiation. Without `Calls`, the handlers that call out
// (rand, nla, nlan) are left out: a function that calls nothing needs no callee-saved registers,
// so entering and leaving it costs next to nothing, and the decoder uses it for every program
// that has none of those.
template <bool Calls>
#if defined(__clang__)
[[gnu::noinline]]
#else
[[gnu::noinline, gnu::noclone]]
#endif
std::uint32_t
execute(const std::uint8_t* p, std::uint32_t len, const Context* ctx, const void* state) {
#define NINEP_BPF_LABEL_ADDRESS(name) &&L_##name,
  static const void* const kHandlers[] = {NINEP_BPF_INTERPRETER_OPS(NINEP_BPF_LABEL_ADDRESS)};
#undef NINEP_BPF_LABEL_ADDRESS
  static_assert(sizeof kHandlers / sizeof kHandlers[0] == static_cast<int>(Kind::Count));
  if (state == nullptr) [[unlikely]] {
    *reinterpret_cast<const void* const**>(const_cast<std::uint8_t*>(p)) = kHandlers;
    return 0;
  }
  const Op* const ops = static_cast<const Op*>(state);

  std::uint32_t A = 0, X = 0;
  std::uint32_t M[16];  // the validator proves every read follows a write
  const Op* pc = ops;

#define NEXT goto * pc->handler
#define STEP \
  ++pc;      \
  NEXT
#define JUMP(cond)                       \
  pc = ops + ((cond) ? pc->jt : pc->jf); \
  NEXT
// A packet load at `offset` of `bytes` bytes; out of bounds ends the run with verdict 0.
#define LOAD(bytes, loader, offset)                                         \
  do {                                                                      \
    const std::uint32_t off_ = (offset);                                    \
    if (static_cast<std::uint64_t>(off_) + (bytes) <= len) [[likely]] {     \
      A = loader(p + off_);                                                 \
    } else {                                                                \
      const std::uint8_t* at_ = header_pointer(p, len, ctx, off_, (bytes)); \
      if (at_ == nullptr) return 0;                                         \
      A = loader(at_);                                                      \
    }                                                                       \
  } while (0)
// A conditional op with its _RT/_RF/_RTF variants (see interpreter_ops.h); `prelude` runs
// first (the load of a fused op).
#define CONDITIONAL(name, prelude, cond) \
  L_##name : prelude;                    \
  JUMP(cond);                            \
  L_##name##_RT : prelude;               \
  if (cond) return pc->jt;               \
  pc = ops + pc->jf;                     \
  NEXT;                                  \
  L_##name##_RF : prelude;               \
  if (!(cond)) return pc->jf;            \
  pc = ops + pc->jt;                     \
  NEXT;                                  \
  L_##name##_RTF : prelude;              \
  return (cond) ? pc->jt : pc->jf;
#define NOTHING (void)0
#define FUSED_ALL(size, bytes, loader, offset)                            \
  CONDITIONAL(LD_##size##_JEQ, LOAD(bytes, loader, offset), A == pc->val) \
  CONDITIONAL(LD_##size##_JGT, LOAD(bytes, loader, offset), A > pc->val)  \
  CONDITIONAL(LD_##size##_JGE, LOAD(bytes, loader, offset), A >= pc->val) \
  CONDITIONAL(LD_##size##_JSET, LOAD(bytes, loader, offset), (A & pc->val) != 0)

  NEXT;

L_RET_K:
  return pc->k;
L_RET_A:
  return A;

L_LD_W_ABS:
  LOAD(4, load32, pc->k);
  STEP;
L_LD_H_ABS:
  LOAD(2, load16, pc->k);
  STEP;
L_LD_B_ABS:
  LOAD(1, load8, pc->k);
  STEP;
L_LD_W_IND:
  LOAD(4, load32, X + pc->k);
  STEP;
L_LD_H_IND:
  LOAD(2, load16, X + pc->k);
  STEP;
L_LD_B_IND:
  LOAD(1, load8, X + pc->k);
  STEP;
L_LD_IMM:
  A = pc->k;
  STEP;
L_LDX_IMM:
  X = pc->k;
  STEP;
L_LD_MEM:
  A = M[pc->k];
  STEP;
L_LDX_MEM:
  X = M[pc->k];
  STEP;
L_LD_LEN:
  A = len;
  STEP;
L_LDX_LEN:
  X = len;
  STEP;
L_LDX_MSH:
  if (pc->k < len) [[likely]] {
    X = (p[pc->k] & 0xfu) << 2;
  } else {
    const std::uint8_t* at = header_pointer(p, len, ctx, pc->k, 1);
    if (at == nullptr) return 0;
    X = (*at & 0xfu) << 2;
  }
  STEP;

L_LD_PROTO:
  A = ctx->protocol;
  STEP;
L_LD_CTX32:
  A = context_word(ctx, pc->k);
  STEP;
L_LD_DEVICE32:
  if (!ctx->has_device) return A;
  A = context_word(ctx, pc->k);
  STEP;
L_LD_RAND:
  if constexpr (!Calls) __builtin_unreachable();
  A = ctx->random(ctx->random_state);
  STEP;
L_LD_NLA:
  if constexpr (!Calls) __builtin_unreachable();
  A = find_netlink_attribute(p, len, A, X);
  STEP;
L_LD_NLAN:
  if constexpr (!Calls) __builtin_unreachable();
  A = find_nested_netlink_attribute(p, len, A, X);
  STEP;

L_ST:
  M[pc->k] = A;
  STEP;
L_STX:
  M[pc->k] = X;
  STEP;
L_TAX:
  X = A;
  STEP;
L_TXA:
  A = X;
  STEP;

L_ADD_K:
  A += pc->k;
  STEP;
L_MUL_K:
  A *= pc->k;
  STEP;
L_DIV_K:
  A /= pc->k;  // the validator rejects division by constant 0
  STEP;
L_MOD_K:
  A %= pc->k;
  STEP;
L_AND_K:
  A &= pc->k;
  STEP;
L_OR_K:
  A |= pc->k;
  STEP;
L_XOR_K:
  A ^= pc->k;
  STEP;
L_LSH_K:
  A <<= pc->k;  // the validator rejects constant shifts >= 32
  STEP;
L_RSH_K:
  A >>= pc->k;
  STEP;
L_ADD_X:
  A += X;
  STEP;
L_SUB_X:
  A -= X;
  STEP;
L_MUL_X:
  A *= X;
  STEP;
L_DIV_X:
  if (X == 0) return 0;
  A /= X;
  STEP;
L_MOD_X:
  if (X == 0) return 0;
  A %= X;
  STEP;
L_AND_X:
  A &= X;
  STEP;
L_OR_X:
  A |= X;
  STEP;
L_XOR_X:
  A ^= X;
  STEP;
L_LSH_X:
  A <<= (X & 31);  // as the kernel (and x86) do
  STEP;
L_RSH_X:
  A >>= (X & 31);
  STEP;
L_NEG:
  A = 0u - A;
  STEP;

L_JA:
  pc = ops + pc->jt;
  NEXT;
  CONDITIONAL(JEQ_K, NOTHING, A == pc->k)
  CONDITIONAL(JGT_K, NOTHING, A > pc->k)
  CONDITIONAL(JGE_K, NOTHING, A >= pc->k)
  CONDITIONAL(JSET_K, NOTHING, (A & pc->k) != 0)
  CONDITIONAL(JEQ_X, NOTHING, A == X)
  CONDITIONAL(JGT_X, NOTHING, A > X)
  CONDITIONAL(JGE_X, NOTHING, A >= X)
  CONDITIONAL(JSET_X, NOTHING, (A & X) != 0)

  FUSED_ALL(W_ABS, 4, load32, pc->k)
  FUSED_ALL(H_ABS, 2, load16, pc->k)
  FUSED_ALL(B_ABS, 1, load8, pc->k)
  FUSED_ALL(W_IND, 4, load32, X + pc->k)
  FUSED_ALL(H_IND, 2, load16, X + pc->k)
  FUSED_ALL(B_IND, 1, load8, X + pc->k)

#undef FUSED_ALL
#undef NOTHING
#undef CONDITIONAL
#undef LOAD
#undef JUMP
#undef STEP
#undef NEXT
}

template <bool Calls>
const void* const* table_of() {
  const void* const* table = nullptr;
  execute<Calls>(reinterpret_cast<const std::uint8_t*>(&table), 0, nullptr, nullptr);
  return table;
}

}  // namespace

Runner runner(bool calls) {
  if (calls) return {&execute<true>, table_of<true>()};
  return {&execute<false>, table_of<false>()};
}

}  // namespace ninep::bpf::interpreter
