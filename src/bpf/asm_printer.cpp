// Printing a program in bpf_asm syntax, with labels on jump targets (see text.h).
#include <fmt/format.h>

#include <vector>

#include "bpf/assemble.h"
#include "bpf/mnemonics.h"
#include "bpf/text.h"

namespace ninep::bpf {
namespace {

bool is_jump(const RawInstruction& r, const Instruction& typed) {
  return std::holds_alternative<Jump>(typed) || std::holds_alternative<JumpIf>(typed) ||
         std::holds_alternative<JumpIfX>(typed) || (r.op & 0x07) == op::kJmp;
}

}  // namespace

std::string print_assembler(std::span<const RawInstruction> program) {
  const std::size_t n = program.size();
  std::vector<Instruction> typed;
  typed.reserve(n);
  for (const RawInstruction& r : program) typed.push_back(disassemble(r));

  // Which instructions are jump targets (and so need a label).
  std::vector<bool> target(n, false);
  auto mark = [&](std::size_t i, std::uint64_t skip) {
    if (i + 1 + skip < n) target[i + 1 + skip] = true;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const RawInstruction& r = program[i];
    if (std::holds_alternative<Jump>(typed[i])) {
      mark(i, r.k);
    } else if (std::holds_alternative<JumpIf>(typed[i]) ||
               std::holds_alternative<JumpIfX>(typed[i])) {
      // Only the targets the printed form names (see below).
      const bool has_negation = !mnemonic::condition(op::alu_op(r.op))->negated.empty();
      if (r.jf == 0) {
        mark(i, r.jt);
      } else if (r.jt == 0 && has_negation) {
        mark(i, r.jf);
      } else {
        mark(i, r.jt);
        mark(i, r.jf);
      }
    }
  }
  // A target as a label when it is inside the program, else as a skip count.
  auto where = [&](std::size_t i, std::uint64_t skip) {
    if (i + 1 + skip < n) return fmt::format("L{}", i + 1 + skip);
    return fmt::format("{}", skip);
  };

  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (target[i]) out += fmt::format("L{}:\n", i);
    const RawInstruction& r = program[i];
    std::string line;
    if (!is_jump(r, typed[i]) || std::holds_alternative<RawInstruction>(typed[i])) {
      line = to_string(typed[i]);
    } else if (std::holds_alternative<Jump>(typed[i])) {
      line = "ja " + where(i, r.k);
    } else {
      const bool x = op::src(r.op) == op::kX;
      const std::string operand =
          x ? "x" : (r.k >= 10 ? fmt::format("#{:#x}", r.k) : fmt::format("#{}", r.k));
      // bpf_asm's mnemonics for "jump if the condition holds" and "... if it does not".
      const mnemonic::Condition* c = mnemonic::condition(op::alu_op(r.op));
      const std::string_view positive = c->name, negative = c->negated;
      if (r.jf == 0)
        line = fmt::format("{} {}, {}", positive, operand, where(i, r.jt));
      else if (r.jt == 0 && !negative.empty())
        line = fmt::format("{} {}, {}", negative, operand, where(i, r.jf));
      else
        line = fmt::format("{} {}, {}, {}", positive, operand, where(i, r.jt), where(i, r.jf));
    }
    out += "  " + line + "\n";
  }
  return out;
}

}  // namespace ninep::bpf
