// The numeric program forms: bytecode (xt_bpf, tc, tcpdump -ddd) and C arrays (tcpdump -dd), plus
// format detection (see text.h).
#include <fmt/format.h>

#include <cctype>

#include "bpf/text.h"
#include "bpf/text_lexer.h"

namespace ninep::bpf {
namespace {

// Bytecode text: decimal numbers between blanks and separators.
class Cursor : public text::Characters {
 public:
  using Characters::Characters;

  void skip_blanks() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\r')) advance();
  }
  // Separators between records: commas and newlines (with blanks around them).
  bool skip_separators() {
    bool any = false;
    for (;;) {
      skip_blanks();
      if (peek() != ',' && peek() != '\n') return any;
      any = true;
      advance();
    }
  }

  // An unsigned decimal number of at most `max`; `what` names it in errors.
  Result<std::uint32_t> number(std::uint32_t max, std::string_view what) {
    skip_blanks();
    const int at_line = line(), at_column = column();
    if (!std::isdigit(static_cast<unsigned char>(peek())))
      return text::error_at(at_line, at_column,
                            fmt::format("expected {} (a decimal number), found {}", what,
                                        at_end() ? "end of input" : fmt::format("'{}'", peek())));
    std::uint64_t v = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      v = v * 10 + (peek() - '0');
      if (v > max)
        return text::error_at(at_line, at_column, fmt::format("{} is larger than {}", what, max));
      advance();
    }
    return static_cast<std::uint32_t>(v);
  }
};

std::unexpected<Error> in_instruction(std::size_t index, const Error& e) {
  return fail(EINVAL, fmt::format("instruction {}: {}", index, e.message));
}

}  // namespace

Result<Program> parse_bytecode(std::string_view text) {
  Cursor c(text);
  c.skip_separators();
  auto count = c.number(kMaxInstructions, "the instruction count");
  if (!count) return std::unexpected(count.error());
  Program program;
  program.reserve(*count);
  for (;;) {
    const bool separated = c.skip_separators();
    if (c.at_end()) break;
    if (!separated)
      return text::error_at(c.line(), c.column(),
                            fmt::format("expected ',' or a new line, found '{}'", c.peek()));
    const std::size_t index = program.size();
    if (index == *count)
      return text::error_at(
          c.line(), c.column(),
          fmt::format("more instructions than the {} the count announces", *count));
    auto op = c.number(0xffff, "the opcode");
    if (!op) return in_instruction(index, op.error());
    auto jt = c.number(0xff, "jt");
    if (!jt) return in_instruction(index, jt.error());
    auto jf = c.number(0xff, "jf");
    if (!jf) return in_instruction(index, jf.error());
    auto k = c.number(0xffffffff, "k");
    if (!k) return in_instruction(index, k.error());
    program.push_back(RawInstruction{static_cast<std::uint16_t>(*op),
                                     static_cast<std::uint8_t>(*jt), static_cast<std::uint8_t>(*jf),
                                     *k});
  }
  if (program.size() != *count)
    return text::error_at(
        c.line(), c.column(),
        fmt::format("the count announces {} instructions but {} follow", *count, program.size()));
  return program;
}

std::string print_bytecode(std::span<const RawInstruction> program, bool one_per_line) {
  std::string out = fmt::format("{}", program.size());
  for (const RawInstruction& r : program)
    out += fmt::format("{}{} {} {} {}", one_per_line ? "\n" : ",", r.op, r.jt, r.jf, r.k);
  out += "\n";
  return out;
}

Result<Program> parse_c_array(std::string_view text) {
  text::Lexer lexer(text);
  Program program;
  auto t = lexer.next();
  for (;;) {
    if (!t) return std::unexpected(t.error());
    if (t->kind == text::Token::Kind::End) break;
    if (!t->is('{'))
      return text::error_at(*t, fmt::format("expected '{{', found {}", text::describe(*t)));
    if (program.size() >= kMaxInstructions)
      return text::error_at(*t, fmt::format("more than {} instructions", kMaxInstructions));
    std::uint32_t v[4];
    static constexpr std::uint32_t kMax[4] = {0xffff, 0xff, 0xff, 0xffffffff};
    static constexpr const char* kName[4] = {"the opcode", "jt", "jf", "k"};
    for (int i = 0; i < 4; ++i) {
      t = lexer.next();
      if (!t) return std::unexpected(t.error());
      if (t->kind != text::Token::Kind::Number)
        return text::error_at(
            *t, fmt::format("expected {} (a number), found {}", kName[i], text::describe(*t)));
      if (t->value > kMax[i])
        return text::error_at(*t, fmt::format("{} is larger than {}", kName[i], kMax[i]));
      v[i] = t->value;
      t = lexer.next();
      if (!t) return std::unexpected(t.error());
      const char close = i == 3 ? '}' : ',';
      if (i == 3 && t->is(',')) {  // a trailing comma inside the braces
        t = lexer.next();
        if (!t) return std::unexpected(t.error());
      }
      if (!t->is(close))
        return text::error_at(*t,
                              fmt::format("expected '{}', found {}", close, text::describe(*t)));
    }
    program.push_back(RawInstruction{static_cast<std::uint16_t>(v[0]),
                                     static_cast<std::uint8_t>(v[1]),
                                     static_cast<std::uint8_t>(v[2]), v[3]});
    t = lexer.next();
    if (t && t->is(',')) t = lexer.next();
  }
  return program;
}

std::string print_c_array(std::span<const RawInstruction> program) {
  std::string out;
  for (const RawInstruction& r : program)
    out += fmt::format("{{ {:#x}, {}, {}, {:#010x} }},\n", r.op, r.jt, r.jf, r.k);
  return out;
}

TextFormat detect_format(std::string_view text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (std::isdigit(static_cast<unsigned char>(c))) return TextFormat::Bytecode;
    if (c == '{') return TextFormat::CArray;
    if (c == '(') return TextFormat::Listing;
    break;
  }
  return TextFormat::Assembler;
}

Result<Program> parse(std::string_view text, TextFormat format) {
  switch (format) {
    case TextFormat::Bytecode:
      return parse_bytecode(text);
    case TextFormat::CArray:
      return parse_c_array(text);
    case TextFormat::Listing:
      return parse_listing(text);
    case TextFormat::Assembler:
      break;
  }
  return parse_assembler(text);
}

Result<Program> parse_program(std::string_view text) {
  return parse(text, detect_format(text));
}

}  // namespace ninep::bpf
