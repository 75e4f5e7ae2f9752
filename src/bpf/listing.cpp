// tcpdump -d's listing (libpcap's bpf_image), printed and parsed (see text.h).
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>

#include "bpf/mnemonics.h"
#include "bpf/text.h"
#include "bpf/text_lexer.h"

namespace ninep::bpf {
namespace {

using namespace op;
using mnemonic::Operand;
using text::Token;

std::int32_t as_signed(std::uint32_t v) {
  return static_cast<std::int32_t>(v);
}

std::string operand_text(const mnemonic::Opcode& o, const RawInstruction& r, std::size_t n) {
  switch (o.operand) {
    case Operand::None:
    case Operand::A:
      return "";
    case Operand::X:
      return "x";
    case Operand::Constant:
      if (o.hex) return fmt::format("#{:#x}", r.k);
      return fmt::format("#{}", as_signed(r.k));
    case Operand::Absolute:
      if (r.k >= kAncillaryBase)
        if (const auto* ext = mnemonic::extension(static_cast<Extension>(r.k - kAncillaryBase)))
          return fmt::format("[{}]", ext->libpcap);
      return fmt::format("[{}]", as_signed(r.k));
    case Operand::Indirect:
      return fmt::format("[x + {}]", as_signed(r.k));
    case Operand::Scratch:
      return fmt::format("M[{}]", as_signed(r.k));
    case Operand::Length:  // libpcap prints `ldx len` as "unimp 0x81"
      return "#pktlen";
    case Operand::MemShift:
      return fmt::format("4*([{}]&0xf)", as_signed(r.k));
    case Operand::Skip:
      return fmt::format("{}", static_cast<std::int32_t>(n + 1 + r.k));
  }
  return "";
}

}  // namespace

std::string listing_line(const RawInstruction& r, std::size_t n) {
  const mnemonic::Opcode* o = mnemonic::opcode(r.op);
  const std::string_view name = o != nullptr ? o->name : "unimp";
  const std::string operand = o != nullptr ? operand_text(*o, r, n) : fmt::format("{:#x}", r.op);
  // As libpcap: the jump layout goes with the class and operation bits, known opcode or not.
  if (mnemonic::is_conditional(r.op))
    return fmt::format("({:03}) {:<8} {:<16} jt {}\tjf {}", n, name, operand, n + 1 + r.jt,
                       n + 1 + r.jf);
  return fmt::format("({:03}) {:<8} {}", n, name, operand);
}

std::string print_listing(std::span<const RawInstruction> program) {
  std::string out;
  for (std::size_t i = 0; i < program.size(); ++i) out += listing_line(program[i], i) + "\n";
  return out;
}

namespace {

// One listing line after its "(NNN)": the mnemonic, then an operand whose form picks the opcode.
class LineParser {
 public:
  // `line` starts after "(NNN)", blanked out so that columns stay right.
  LineParser(std::string_view line, int line_number, std::size_t index)
      : in_(line, line_number), index_(index) {}

  Result<RawInstruction> parse() {
    if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
    if (in_.current().kind != Token::Kind::Identifier) return in_.expected("a mnemonic");
    const Token m = in_.current();
    if (m.is_word("unimp"))
      return text::error_at(
          m, "'unimp' does not show the instruction's operands; it cannot be read back");
    if (!mnemonic::is_opcode_name(m.text))
      return text::error_at(m, fmt::format("unknown instruction '{}'", m.text));
    if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
    const Token at = in_.current();
    RawInstruction r;
    auto form = operand(r.k);
    if (!form) return std::unexpected(form.error());
    const mnemonic::Opcode* o = mnemonic::find_opcode(m.text, *form);
    if (o == nullptr && *form == Operand::None) o = mnemonic::find_opcode(m.text, Operand::A);
    if (o == nullptr)
      return text::error_at(at, fmt::format("'{}' does not take this operand", m.text));
    r.op = o->code;
    if (o->operand == Operand::Skip) {
      auto skip = skip_to(at, r.k, 0xffffffffu);
      if (!skip) return std::unexpected(skip.error());
      r.k = *skip;
    }
    if (mnemonic::is_conditional(r.op)) {
      for (std::uint8_t* field : {&r.jt, &r.jf}) {
        if (auto ok = in_.expect_word(field == &r.jt ? "jt" : "jf"); !ok)
          return std::unexpected(ok.error());
        const Token t = in_.current();
        auto n = in_.number();
        if (!n) return std::unexpected(n.error());
        auto skip = skip_to(t, *n, 0xff);
        if (!skip) return std::unexpected(skip.error());
        *field = static_cast<std::uint8_t>(*skip);
      }
    }
    if (!in_.at_end()) return in_.expected("the end of the line");
    return r;
  }

 private:
  // The operand's form, its value in `k`.
  Result<Operand> operand(std::uint32_t& k) {
    const Token& t = in_.current();
    auto read = [&](Result<std::uint32_t> v, Operand form) -> Result<Operand> {
      if (!v) return std::unexpected(v.error());
      k = *v;
      return form;
    };
    if (t.kind == Token::Kind::End) return Operand::None;
    if (t.kind == Token::Kind::Number) {
      auto next = in_.peek();
      if (!next) return std::unexpected(next.error());
      if (next->is('*')) return read(mem_shift(), Operand::MemShift);
    }
    if (t.kind == Token::Kind::Number || t.is('-')) return read(in_.number(), Operand::Skip);
    if (t.is_word("x")) {
      if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
      return Operand::X;
    }
    if (t.is_word("m")) {
      if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
      return read(in_.bracketed(), Operand::Scratch);
    }
    if (t.is('#')) {
      if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
      auto len = in_.accept_word("pktlen");
      if (!len) return std::unexpected(len.error());
      if (*len) return Operand::Length;
      return read(in_.number(), Operand::Constant);
    }
    if (!t.is('[')) return in_.expected("an operand");
    if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
    auto x = in_.accept_word("x");
    if (!x) return std::unexpected(x.error());
    if (*x) {
      if (auto ok = in_.expect('+'); !ok) return std::unexpected(ok.error());
    } else if (in_.current().kind == Token::Kind::Identifier) {
      const auto* ext = mnemonic::find_libpcap_extension(in_.current().text);
      if (ext == nullptr) return in_.expected("a number or an extension name");
      if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
      k = kAncillaryBase + static_cast<std::uint32_t>(ext->ext);
      if (auto ok = in_.expect(']'); !ok) return std::unexpected(ok.error());
      return Operand::Absolute;
    }
    auto v = in_.number();
    if (!v) return std::unexpected(v.error());
    if (auto ok = in_.expect(']'); !ok) return std::unexpected(ok.error());
    k = *v;
    return *x ? Operand::Indirect : Operand::Absolute;
  }

  // 4*([k]&0xf)
  Result<std::uint32_t> mem_shift() {
    if (in_.current().value != 4) return in_.expected("4*([k]&0xf)");
    if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
    for (char c : {'*', '('})
      if (auto ok = in_.expect(c); !ok) return std::unexpected(ok.error());
    auto v = in_.bracketed();
    if (!v) return v;
    if (auto ok = in_.expect('&'); !ok) return std::unexpected(ok.error());
    if (in_.current().kind != Token::Kind::Number || in_.current().value != 0xf)
      return in_.expected("0xf");
    if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
    if (auto ok = in_.expect(')'); !ok) return std::unexpected(ok.error());
    return v;
  }

  // The absolute instruction number `target` (read at `at`) as a skip from this instruction.
  Result<std::uint32_t> skip_to(const Token& at, std::uint32_t target, std::uint32_t limit) {
    if (target <= index_ || target - index_ - 1 > limit)
      return text::error_at(
          at, fmt::format("target {} is not reachable from instruction {}", target, index_));
    return target - static_cast<std::uint32_t>(index_) - 1;
  }

  text::TokenCursor in_;
  std::size_t index_;
};

}  // namespace

Result<Program> parse_listing(std::string_view text) {
  Program program;
  int line_number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    ++line_number;
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (program.size() >= kMaxInstructions)
      return text::error_at(line_number, 1,
                            fmt::format("more than {} instructions", kMaxInstructions));
    // "(NNN)" in decimal (the lexer would read 010 as octal), then the instruction.
    std::string rest(line);
    const std::size_t open = rest.find_first_not_of(" \t");
    std::size_t close = open;
    std::uint64_t number = 0;
    bool digits = false;
    if (rest[open] == '(') {
      for (close = open + 1; close < rest.size() && rest[close] >= '0' && rest[close] <= '9';
           ++close) {
        number = std::min<std::uint64_t>(number * 10 + (rest[close] - '0'), 1u << 20);
        digits = true;
      }
    }
    if (rest[open] != '(' || !digits || close >= rest.size() || rest[close] != ')')
      return text::error_at(line_number, static_cast<int>(open) + 1,
                            "expected '(NNN)', the instruction number");
    if (number != program.size())
      return text::error_at(
          line_number, static_cast<int>(open) + 2,
          fmt::format("expected instruction number {}, found {}", program.size(), number));
    std::fill(rest.begin() + open, rest.begin() + close + 1, ' ');
    auto r = LineParser(rest, line_number, program.size()).parse();
    if (!r) return std::unexpected(r.error());
    program.push_back(*r);
  }
  return program;
}

}  // namespace ninep::bpf
