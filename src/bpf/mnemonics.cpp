#include "bpf/mnemonics.h"

#include <iterator>

#include "bpf/text_lexer.h"

namespace ninep::bpf::mnemonic {
namespace {

// The first row of `rows` that `match` accepts.
template <typename Rows, typename Match>
auto find_row(const Rows& rows, Match match) -> decltype(&*std::begin(rows)) {
  for (const auto& r : rows)
    if (match(r)) return &r;
  return nullptr;
}

bool named(std::string_view text, std::string_view name) {
  return !name.empty() && text::is_word(text, name);
}

}  // namespace

const Opcode* opcode(std::uint16_t code) {
  return find_row(kOpcodes, [&](const Opcode& o) { return o.code == code; });
}

const Opcode* find_opcode(std::string_view name, Operand operand) {
  return find_row(kOpcodes,
                  [&](const Opcode& o) { return o.operand == operand && named(name, o.name); });
}

bool is_opcode_name(std::string_view name) {
  return find_row(kOpcodes, [&](const Opcode& o) { return named(name, o.name); }) != nullptr;
}

const AluOperation* alu_operation(std::uint16_t op_bits) {
  return find_row(kAluOperations, [&](const AluOperation& a) { return a.op == op_bits; });
}

const AluOperation* find_alu_operation(std::string_view name) {
  return find_row(kAluOperations, [&](const AluOperation& a) { return named(name, a.name); });
}

const Condition* condition(std::uint16_t op_bits) {
  return find_row(kConditions, [&](const Condition& c) { return c.op == op_bits; });
}

const Condition* find_condition(std::string_view name, bool& negated) {
  negated = false;
  if (const Condition* c =
          find_row(kConditions, [&](const Condition& c) { return named(name, c.name); }))
    return c;
  negated = true;
  return find_row(kConditions, [&](const Condition& c) {
    return named(name, c.negated) || named(name, c.negated_alias);
  });
}

const Condition* condition_of(JumpTest test, bool& negated) {
  for (const Condition& c : kConditions) {
    if (c.test == test || c.negated_test == test) {
      negated = c.negated_test == test;
      return &c;
    }
  }
  return nullptr;
}

const ExtensionName* extension(Extension ext) {
  return find_row(kExtensions, [&](const ExtensionName& e) { return e.ext == ext; });
}

const ExtensionName* find_extension(std::string_view name) {
  return find_row(kExtensions, [&](const ExtensionName& e) {
    return named(name, e.name) || named(name, e.alias);
  });
}

const ExtensionName* find_libpcap_extension(std::string_view name) {
  return find_row(kExtensions, [&](const ExtensionName& e) { return named(name, e.libpcap); });
}

std::string_view load_name(std::uint16_t size_bits) {
  const Opcode* o = opcode(static_cast<std::uint16_t>(op::kLd | op::kAbs | size_bits));
  return o != nullptr ? o->name : "ld";
}

}  // namespace ninep::bpf::mnemonic
