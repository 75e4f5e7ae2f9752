// tcpdump -d's listing (libpcap's bpf_image), printed and parsed (see text.h).
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>

#include "bpf/opcodes.h"
#include "bpf/text.h"
#include "bpf/text_lexer.h"

namespace ninep::bpf {
namespace {

using namespace op;
using text::Token;

// libpcap's names for ancillary loads, by SKF_AD_* offset / 4.
constexpr const char* kAncillary[] = {"proto", "type",   "ifidx",  "nla",      "nlan",  "mark",
                                      "queue", "hatype", "rxhash", "cpu",      "xor_x", "vlan_tci",
                                      "vlanp", "poff",   "random", "vlan_tpid"};

const char* ancillary_name(std::uint32_t k) {
  if (k < kAncillaryBase) return nullptr;
  const std::uint32_t off = k - kAncillaryBase;
  if (off % 4 != 0 || off / 4 >= std::size(kAncillary)) return nullptr;
  return kAncillary[off / 4];
}

std::int32_t as_signed(std::uint32_t v) {
  return static_cast<std::int32_t>(v);
}

}  // namespace

std::string listing_line(const RawInstruction& r, std::size_t n) {
  const std::uint16_t c = r.op;
  std::string name, operand;
  const char* sized = size(c) == kW ? "ld" : size(c) == kH ? "ldh" : "ldb";
  switch (c) {
    case kRet | kK:
      name = "ret", operand = fmt::format("#{}", as_signed(r.k));
      break;
    case kRet | kA:
      name = "ret";
      break;
    case kLd | kW | kAbs:
    case kLd | kH | kAbs:
    case kLd | kB | kAbs:
      name = sized;
      if (const char* ext = ancillary_name(r.k))
        operand = fmt::format("[{}]", ext);
      else
        operand = fmt::format("[{}]", as_signed(r.k));
      break;
    case kLd | kW | kLen:
      name = "ld", operand = "#pktlen";
      break;
    case kLdx | kW | kLen:  // libpcap prints "unimp 0x81"
      name = "ldx", operand = "#pktlen";
      break;
    case kLd | kW | kInd:
    case kLd | kH | kInd:
    case kLd | kB | kInd:
      name = sized, operand = fmt::format("[x + {}]", as_signed(r.k));
      break;
    case kLd | kImm:
      name = "ld", operand = fmt::format("#{:#x}", r.k);
      break;
    case kLdx | kImm:
      name = "ldx", operand = fmt::format("#{:#x}", r.k);
      break;
    case kLdx | kMsh | kB:
      name = "ldxb", operand = fmt::format("4*([{}]&0xf)", as_signed(r.k));
      break;
    case kLd | kMem:
    case kLdx | kMem:
    case kSt:
    case kStx: {
      static constexpr const char* kNames[] = {"ld", "ldx", "st", "stx"};
      name = kNames[cls(c)], operand = fmt::format("M[{}]", as_signed(r.k));
      break;
    }
    case kJmp | kJa:
      name = "ja", operand = fmt::format("{}", static_cast<std::int32_t>(n + 1 + r.k));
      break;
    case kAlu | kNeg:
      name = "neg";
      break;
    case kMisc | kTax:
      name = "tax";
      break;
    case kMisc | kTxa:
      name = "txa";
      break;
    default:
      if (cls(c) == kJmp && c < 0x100 && (alu_op(c) >= kJeq && alu_op(c) <= kJset)) {
        static constexpr const char* kNames[] = {"jeq", "jgt", "jge", "jset"};
        name = kNames[(alu_op(c) >> 4) - 1];
        operand = src(c) == kX ? "x" : fmt::format("#{:#x}", r.k);
        return fmt::format("({:03}) {:<8} {:<16} jt {}\tjf {}", n, name, operand, n + 1 + r.jt,
                           n + 1 + r.jf);
      }
      if (cls(c) == kAlu && c < 0x100) {
        const std::uint16_t a = alu_op(c);
        static constexpr const char* kNames[] = {"add", "sub", "mul",   "div", "or", "and",
                                                 "lsh", "rsh", nullptr, "mod", "xor"};
        if (a <= kXor && a != kNeg) {
          name = kNames[a >> 4];
          if (src(c) == kX)
            operand = "x";
          else if (a == kAnd || a == kOr || a == kXor)
            operand = fmt::format("#{:#x}", r.k);
          else
            operand = fmt::format("#{}", as_signed(r.k));
          break;
        }
      }
      name = "unimp", operand = fmt::format("{:#x}", c);
      break;
  }
  // As libpcap: the jump layout goes with the class and operation bits, known opcode or not.
  if (cls(c) == kJmp && alu_op(c) != kJa)
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

// One listing line after its "(NNN)".
class LineParser {
 public:
  // `line` starts after "(NNN)", blanked out so that columns stay right.
  LineParser(std::string_view line, int line_number, std::size_t index)
      : lexer_(line, line_number), index_(index) {}

  Result<RawInstruction> parse() {
    if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    if (t_.kind != Token::Kind::Identifier) return expected("a mnemonic");
    const Token m = t_;
    if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    auto r = instruction(m);
    if (!r) return r;
    if (t_.kind != Token::Kind::End) return expected("the end of the line");
    return r;
  }

 private:
  Result<void> advance() {
    auto t = lexer_.next();
    if (!t) return std::unexpected(t.error());
    t_ = *t;
    return {};
  }
  std::unexpected<Error> expected(std::string_view what) {
    return text::error_at(t_, fmt::format("expected {}, found {}", what, text::describe(t_)));
  }
  Result<void> expect(char c) {
    if (!t_.is(c)) return expected(fmt::format("'{}'", c));
    return advance();
  }
  Result<void> expect_word(std::string_view w) {
    if (!t_.is_word(w)) return expected(fmt::format("'{}'", w));
    return advance();
  }
  // A signed decimal or hex number.
  Result<std::uint32_t> number() {
    bool negative = false;
    if (t_.is('-')) {
      negative = true;
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    }
    if (t_.kind != Token::Kind::Number) return expected("a number");
    const std::uint32_t v = t_.value;
    if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    return negative ? 0u - v : v;
  }
  // An absolute instruction number, as a skip from this instruction.
  Result<std::uint32_t> target(std::uint32_t limit) {
    const Token at = t_;
    auto v = number();
    if (!v) return v;
    if (*v <= index_ || *v - index_ - 1 > limit)
      return text::error_at(
          at, fmt::format("target {} is not reachable from instruction {}", *v, index_));
    return *v - static_cast<std::uint32_t>(index_) - 1;
  }
  Result<std::uint32_t> bracketed() {  // [k] or M[k] contents
    if (auto ok = expect('['); !ok) return std::unexpected(ok.error());
    auto v = number();
    if (!v) return v;
    if (auto ok = expect(']'); !ok) return std::unexpected(ok.error());
    return v;
  }

  Result<RawInstruction> instruction(const Token& m);

  text::Lexer lexer_;
  std::size_t index_;
  Token t_;
};

Result<RawInstruction> LineParser::instruction(const Token& m) {
  auto make = [](std::uint16_t code, std::uint32_t k = 0, std::uint8_t jt = 0,
                 std::uint8_t jf = 0) {
    return RawInstruction{code, jt, jf, k};
  };
  const bool ld = m.is_word("ld"), ldh = m.is_word("ldh"), ldb = m.is_word("ldb");
  if (ld || ldh || ldb || m.is_word("ldx")) {
    const bool x = m.is_word("ldx");
    const std::uint16_t sz = ldh ? kH : ldb ? kB : kW;
    if (t_.is('#')) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      if (t_.is_word("pktlen")) {
        if (auto ok = advance(); !ok) return std::unexpected(ok.error());
        return make(x ? kLdx | kW | kLen : kLd | kW | kLen);
      }
      auto v = number();
      if (!v) return std::unexpected(v.error());
      return make(x ? kLdx | kImm : kLd | kImm, *v);
    }
    if (t_.is_word("m")) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      auto v = bracketed();
      if (!v) return std::unexpected(v.error());
      return make(x ? kLdx | kMem : kLd | kMem, *v);
    }
    if (auto ok = expect('['); !ok) return std::unexpected(ok.error());
    if (t_.is_word("x")) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      if (auto ok = expect('+'); !ok) return std::unexpected(ok.error());
      auto v = number();
      if (!v) return std::unexpected(v.error());
      if (auto ok = expect(']'); !ok) return std::unexpected(ok.error());
      return make(kLd | sz | kInd, *v);
    }
    std::uint32_t k = 0;
    if (t_.kind == Token::Kind::Identifier) {
      std::optional<std::uint32_t> off;
      for (std::size_t i = 0; i < std::size(kAncillary); ++i)
        if (t_.is_word(kAncillary[i])) off = static_cast<std::uint32_t>(i * 4);
      if (!off) return expected("a number or an extension name");
      k = kAncillaryBase + *off;
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    } else {
      auto v = number();
      if (!v) return std::unexpected(v.error());
      k = *v;
    }
    if (auto ok = expect(']'); !ok) return std::unexpected(ok.error());
    return make(kLd | sz | kAbs, k);
  }
  if (m.is_word("ldxb")) {
    if (t_.kind != Token::Kind::Number || t_.value != 4) return expected("4*([k]&0xf)");
    if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    for (char c : {'*', '('})
      if (auto ok = expect(c); !ok) return std::unexpected(ok.error());
    auto v = bracketed();
    if (!v) return std::unexpected(v.error());
    if (auto ok = expect('&'); !ok) return std::unexpected(ok.error());
    if (t_.kind != Token::Kind::Number || t_.value != 0xf) return expected("0xf");
    if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    if (auto ok = expect(')'); !ok) return std::unexpected(ok.error());
    return make(kLdx | kB | kMsh, *v);
  }
  if (m.is_word("st") || m.is_word("stx")) {
    if (auto ok = expect_word("m"); !ok) return std::unexpected(ok.error());
    auto v = bracketed();
    if (!v) return std::unexpected(v.error());
    return make(m.is_word("st") ? kSt : kStx, *v);
  }
  if (m.is_word("ret")) {
    if (t_.kind == Token::Kind::End) return make(kRet | kA);
    if (auto ok = expect('#'); !ok) return std::unexpected(ok.error());
    auto v = number();
    if (!v) return std::unexpected(v.error());
    return make(kRet | kK, *v);
  }
  if (m.is_word("ja")) {
    auto skip = target(0xffffffffu);
    if (!skip) return std::unexpected(skip.error());
    return make(kJmp | kJa, *skip);
  }
  static constexpr std::pair<std::string_view, std::uint16_t> kJumps[] = {
      {"jeq", kJeq}, {"jgt", kJgt}, {"jge", kJge}, {"jset", kJset}};
  for (const auto& [word, bits] : kJumps) {
    if (!m.is_word(word)) continue;
    std::uint16_t code = kJmp | bits;
    std::uint32_t k = 0;
    if (t_.is_word("x")) {
      code |= kX;
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    } else {
      if (auto ok = expect('#'); !ok) return std::unexpected(ok.error());
      auto v = number();
      if (!v) return std::unexpected(v.error());
      k = *v;
    }
    if (auto ok = expect_word("jt"); !ok) return std::unexpected(ok.error());
    auto jt = target(0xff);
    if (!jt) return std::unexpected(jt.error());
    if (auto ok = expect_word("jf"); !ok) return std::unexpected(ok.error());
    auto jf = target(0xff);
    if (!jf) return std::unexpected(jf.error());
    return make(code, k, static_cast<std::uint8_t>(*jt), static_cast<std::uint8_t>(*jf));
  }
  static constexpr std::pair<std::string_view, std::uint16_t> kAluOps[] = {
      {"add", kAdd}, {"sub", kSub}, {"mul", kMul}, {"div", kDiv}, {"mod", kMod},
      {"and", kAnd}, {"or", kOr},   {"xor", kXor}, {"lsh", kLsh}, {"rsh", kRsh}};
  for (const auto& [word, bits] : kAluOps) {
    if (!m.is_word(word)) continue;
    if (t_.is_word("x")) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      return make(kAlu | bits | kX);
    }
    if (auto ok = expect('#'); !ok) return std::unexpected(ok.error());
    auto v = number();
    if (!v) return std::unexpected(v.error());
    return make(kAlu | bits | kK, *v);
  }
  if (m.is_word("neg")) return make(kAlu | kNeg);
  if (m.is_word("tax")) return make(kMisc | kTax);
  if (m.is_word("txa")) return make(kMisc | kTxa);
  if (m.is_word("unimp"))
    return text::error_at(
        m, "'unimp' does not show the instruction's operands; it cannot be read back");
  return text::error_at(m, fmt::format("unknown instruction '{}'", m.text));
}

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
