// Conversion between typed instructions and their raw (struct sock_filter) form.
#pragma once

#include <span>
#include <vector>

#include "bpf/instruction.h"
#include "bpf/raw.h"
#include "common/error.h"

namespace ninep::bpf {

// The raw form of one instruction. Fails (EINVAL) for a field the encoding cannot hold: a bad
// load size, scratch slot >= 16, a register other than A/X, an unknown ALU op, condition or
// extension. A RawInstruction is returned unchanged.
Result<RawInstruction> assemble(const Instruction& instruction);

// The raw form of a program. Errors name the failing instruction by its 0-based index (the
// numbering of the kernel, tcpdump -d and the validator): "instruction 3: bad scratch slot 16".
// Assembling does not validate: see validate.h.
Result<std::vector<RawInstruction>> assemble(std::span<const Instruction> program);

// The typed form of one raw instruction, or the RawInstruction itself when no typed instruction
// assembles back to exactly these bytes (opcodes the kernel does not know, unused fields that
// are not zero). So assemble(disassemble(r)) == r for every r.
Instruction disassemble(RawInstruction raw);

struct Disassembly {
  std::vector<Instruction> instructions;
  bool all_decoded = true;  // false when some instruction stayed a RawInstruction
};
Disassembly disassemble(std::span<const RawInstruction> program);

}  // namespace ninep::bpf
