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

// X(name) for every kind of op; the executor has a label L_<name> for each.
#define NINEP_BPF_INTERPRETER_OPS(X)                                                               \
  X(RET_K)                                                                                         \
  X(RET_A) X(LD_W_ABS) X(LD_H_ABS) X(LD_B_ABS) X(LD_W_IND) X(LD_H_IND) X(LD_B_IND) X(LD_IMM)       \
      X(LDX_IMM) X(LD_MEM) X(LDX_MEM) X(LD_LEN) X(LDX_LEN) X(LDX_MSH) X(LD_PROTO) X(LD_CTX32)      \
          X(LD_DEVICE32) X(LD_RAND) X(LD_NLA) X(LD_NLAN) X(ST) X(STX) X(TAX) X(TXA) X(ADD_K)       \
              X(MUL_K) X(DIV_K) X(MOD_K) X(AND_K) X(OR_K) X(XOR_K) X(LSH_K) X(RSH_K) X(ADD_X)      \
                  X(SUB_X) X(MUL_X) X(DIV_X) X(MOD_X) X(AND_X) X(OR_X) X(XOR_X) X(LSH_X) X(RSH_X)  \
                      X(NEG) X(JA) X(JEQ_K) X(JGT_K) X(JGE_K) X(JSET_K) X(JEQ_X) X(JGT_X) X(JGE_X) \
                          X(JSET_X) X(LD_W_ABS_JEQ) X(LD_W_ABS_JGT) X(LD_W_ABS_JGE)                \
                              X(LD_W_ABS_JSET) X(LD_H_ABS_JEQ) X(LD_H_ABS_JGT) X(LD_H_ABS_JGE)     \
                                  X(LD_H_ABS_JSET) X(LD_B_ABS_JEQ) X(LD_B_ABS_JGT) X(LD_B_ABS_JGE) \
                                      X(LD_B_ABS_JSET) X(LD_W_IND_JEQ) X(LD_W_IND_JGT)             \
                                          X(LD_W_IND_JGE) X(LD_W_IND_JSET) X(LD_H_IND_JEQ)         \
                                              X(LD_H_IND_JGT) X(LD_H_IND_JGE) X(LD_H_IND_JSET)     \
                                                  X(LD_B_IND_JEQ) X(LD_B_IND_JGT) X(LD_B_IND_JGE)  \
                                                      X(LD_B_IND_JSET)

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
  std::uint16_t jt = 0;   // absolute index of the next op if the condition holds
  std::uint16_t jf = 0;   // ... if it does not
};

// The handler address of each Kind, indexed by Kind.
const void* const* handlers();

// Runs the ops at `state` (an Op array ending in a return): the engine::RunFunction.
std::uint32_t run(const std::uint8_t* packet, std::uint32_t length, const Context* context,
                  const void* state);

}  // namespace ninep::bpf::interpreter
