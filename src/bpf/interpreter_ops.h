// The interpreter's internal form of a validated program (internal to the interpreter).
//
// Each raw instruction becomes one Op whose `handler` is the address of the code that executes
// it (direct threading: a step is one indirect jump, no opcode decoding at run time). Ops are
// specialised by load width, operand source and condition; jump targets are absolute indexes,
// already threaded through unconditional jumps; a packet load followed by a conditional jump on
// a constant becomes one fused op (the jump's own op stays in place for other jumps into it).
#pragma once

#include <cstdint>

#include "bpf/context.h"

namespace ninep::bpf::interpreter {

// A conditional op and its three variants for targets that are `ret #k` (_RT: the true target,
// _RF: the false one, _RTF: both), which return at once instead of dispatching to the ret: most
// runs end on such a jump.
#define NINEP_BPF_CONDITIONAL(X, name) X(name) X(name##_RT) X(name##_RF) X(name##_RTF)

// X(name) for every kind of op; the executor has a label L_<name> for each. The order of the
// conditional ops matters (see interpreter_decode.cpp).
// clang-format off (one op per line; the formatter cannot lay out this list stably)
#define NINEP_BPF_INTERPRETER_OPS(X) \
  X(RET_K)                           \
  X(RET_A)                           \
  X(LD_W_ABS)                        \
  X(LD_H_ABS)                        \
  X(LD_B_ABS)                        \
  X(LD_W_IND)                        \
  X(LD_H_IND)                        \
  X(LD_B_IND)                        \
  X(LD_IMM)                          \
  X(LDX_IMM)                         \
  X(LD_MEM)                          \
  X(LDX_MEM)                         \
  X(LD_LEN)                          \
  X(LDX_LEN)                         \
  X(LDX_MSH)                         \
  X(LD_PROTO)                        \
  X(LD_CTX32)                        \
  X(LD_DEVICE32)                     \
  X(LD_RAND)                         \
  X(LD_NLA)                          \
  X(LD_NLAN)                         \
  X(ST)                              \
  X(STX)                             \
  X(TAX)                             \
  X(TXA)                             \
  X(ADD_K)                           \
  X(MUL_K)                           \
  X(DIV_K)                           \
  X(MOD_K)                           \
  X(AND_K)                           \
  X(OR_K)                            \
  X(XOR_K)                           \
  X(LSH_K)                           \
  X(RSH_K)                           \
  X(ADD_X)                           \
  X(SUB_X)                           \
  X(MUL_X)                           \
  X(DIV_X)                           \
  X(MOD_X)                           \
  X(AND_X)                           \
  X(OR_X)                            \
  X(XOR_X)                           \
  X(LSH_X)                           \
  X(RSH_X)                           \
  X(NEG)                             \
  X(JA)                              \
  NINEP_BPF_CONDITIONAL(X, JEQ_K)    \
  NINEP_BPF_CONDITIONAL(X, JGT_K)    \
  NINEP_BPF_CONDITIONAL(X, JGE_K)    \
  NINEP_BPF_CONDITIONAL(X, JSET_K)   \
  NINEP_BPF_CONDITIONAL(X, JEQ_X)    \
  NINEP_BPF_CONDITIONAL(X, JGT_X)    \
  NINEP_BPF_CONDITIONAL(X, JGE_X)    \
  NINEP_BPF_CONDITIONAL(X, JSET_X)   \
  NINEP_BPF_FUSED(X, W_ABS)          \
  NINEP_BPF_FUSED(X, H_ABS)          \
  NINEP_BPF_FUSED(X, B_ABS)          \
  NINEP_BPF_FUSED(X, W_IND)          \
  NINEP_BPF_FUSED(X, H_IND)          \
  NINEP_BPF_FUSED(X, B_IND)
// clang-format on

// A packet load of one size and mode fused with each conditional jump on a constant.
#define NINEP_BPF_FUSED(X, load)            \
  NINEP_BPF_CONDITIONAL(X, LD_##load##_JEQ) \
  NINEP_BPF_CONDITIONAL(X, LD_##load##_JGT) \
  NINEP_BPF_CONDITIONAL(X, LD_##load##_JGE) NINEP_BPF_CONDITIONAL(X, LD_##load##_JSET)

enum class Kind : std::uint16_t {
#define NINEP_BPF_ENUM_ENTRY(name) name,
  NINEP_BPF_INTERPRETER_OPS(NINEP_BPF_ENUM_ENTRY)
#undef NINEP_BPF_ENUM_ENTRY
      Count
};

struct Op {
  const void* handler = nullptr;
  std::uint32_t k = 0;    // offset, constant, scratch slot or Context field offset
  std::uint32_t val = 0;  // the constant a fused op compares with
  std::uint32_t jt = 0;   // absolute index of the next op if the condition holds (JA: always),
                          // or the verdict of a _RT/_RTF variant
  std::uint32_t jf = 0;   // ... if it does not (_RF/_RTF: the verdict)
};

// An executor of ops (the engine::RunFunction, run(packet, length, context, ops)) and its handler
// table, indexed by Kind. `calls`: whether the ops may include rand, nla or nlan; the executor
// without them is cheaper to enter. Called with null ops, an executor runs nothing and stores
// its table at `packet`, which must then point to a `const void* const*`.
struct Runner {
  std::uint32_t (*run)(const std::uint8_t* packet, std::uint32_t length, const Context* context,
                       const void* ops);
  const void* const* handlers;
};
Runner runner(bool calls);

}  // namespace ninep::bpf::interpreter
