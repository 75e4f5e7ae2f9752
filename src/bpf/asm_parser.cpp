// The bpf_asm syntax parser (see text.h).
#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>

#include "bpf/instruction.h"
#include "bpf/opcodes.h"
#include "bpf/text.h"
#include "bpf/text_lexer.h"

namespace ninep::bpf {
namespace {

using text::Token;
using TK = Token::Kind;

// Extension keywords: bpf_asm's, plus `xor_x` (SKF_AD_ALU_XOR_X, which bpf_asm cannot name).
std::optional<std::uint32_t> extension_offset(const Token& t) {
  static constexpr std::pair<std::string_view, Extension> kNames[] = {
      {"proto", Extension::Protocol},
      {"type", Extension::PacketType},
      {"poff", Extension::PayloadOffset},
      {"ifidx", Extension::InterfaceIndex},
      {"nla", Extension::NetlinkAttribute},
      {"nlan", Extension::NetlinkAttributeNested},
      {"mark", Extension::Mark},
      {"queue", Extension::Queue},
      {"hatype", Extension::LinkLayerType},
      {"rxhash", Extension::RxHash},
      {"cpu", Extension::CpuId},
      {"vlan_tci", Extension::VlanTag},
      {"vlan_pr", Extension::VlanTagPresent},
      {"vlan_avail", Extension::VlanTagPresent},
      {"vlan_tpid", Extension::VlanProtocol},
      {"rand", Extension::Random},
      {"xor_x", Extension::AluXorX}};
  for (const auto& [name, ext] : kNames)
    if (t.is_word(name)) return static_cast<std::uint32_t>(ext);
  return std::nullopt;
}

// A jump target not yet resolved to a label's index.
struct Fixup {
  std::size_t index;
  enum class Field { Jt, Jf, K } field;
  Token label;
};

class AsmParser {
 public:
  explicit AsmParser(std::string_view text) : lexer_(text) {}

  Result<Program> parse() {
    if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    while (current_.kind != TK::End) {
      if (auto ok = statement(); !ok) return std::unexpected(ok.error());
    }
    if (pending_label_)
      return text::error_at(*pending_label_, "label at the end of the program has no instruction");
    for (const Fixup& f : fixups_) {
      if (auto ok = resolve(f); !ok) return std::unexpected(ok.error());
    }
    return std::move(program_);
  }

 private:
  Result<void> advance() {
    if (lookahead_) {
      current_ = *lookahead_;
      lookahead_.reset();
      return {};
    }
    auto t = lexer_.next();
    if (!t) return std::unexpected(t.error());
    current_ = *t;
    return {};
  }
  Result<Token> peek() {
    if (!lookahead_) {
      auto t = lexer_.next();
      if (!t) return std::unexpected(t.error());
      lookahead_ = *t;
    }
    return *lookahead_;
  }
  std::unexpected<Error> error(const Token& t, std::string message) {
    return text::error_at(t, std::move(message));
  }
  std::unexpected<Error> expected(std::string_view what) {
    return error(current_, fmt::format("expected {}, found {}", what, text::describe(current_)));
  }
  Result<void> expect(char punct) {
    if (!current_.is(punct)) return expected(fmt::format("'{}'", punct));
    return advance();
  }
  Result<void> expect_word(std::string_view word) {
    if (!current_.is_word(word)) return expected(fmt::format("'{}'", word));
    return advance();
  }

  // [+|-] NUMBER, as a 32-bit two's complement value.
  Result<std::uint32_t> number() {
    bool negative = false;
    if (current_.is('-') || current_.is('+')) {
      negative = current_.is('-');
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    }
    if (current_.kind != TK::Number) return expected("a number");
    const Token t = current_;
    if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    if (!negative) return t.value;
    if (t.value > 0x80000000u) return error(t, fmt::format("-{} does not fit in 32 bits", t.text));
    return 0u - t.value;
  }

  Result<void> statement() {
    // Labels: `name:` (several may name the same instruction).
    while (current_.kind == TK::Identifier) {
      auto next = peek();
      if (!next) return std::unexpected(next.error());
      if (!next->is(':')) break;
      const std::string name(current_.text);
      if (current_.is_word("x") || current_.is_word("a") || current_.is_word("m"))
        return error(current_, fmt::format("'{}' cannot be a label", name));
      if (labels_.contains(name))
        return error(current_, fmt::format("label '{}' defined twice", name));
      labels_[name] = program_.size();
      pending_label_ = current_;
      if (auto ok = advance(); !ok) return ok;
      if (auto ok = advance(); !ok) return ok;
    }
    if (current_.kind == TK::End) return {};
    pending_label_.reset();
    if (program_.size() >= kMaxInstructions)
      return error(current_, fmt::format("more than {} instructions", kMaxInstructions));
    if (current_.kind != TK::Identifier) return expected("an instruction");
    const Token mnemonic = current_;
    if (auto ok = advance(); !ok) return ok;
    auto in = instruction(mnemonic);
    if (!in) return std::unexpected(in.error());
    program_.push_back(*in);
    return {};
  }

  Result<RawInstruction> instruction(const Token& m) {
    using namespace op;
    if (m.is_word("ld")) return load(kW, kLd);
    if (m.is_word("ldh")) return load(kH, kLd);
    if (m.is_word("ldb")) return load(kB, kLd);
    if (m.is_word("ldx") || m.is_word("ldxb")) return load_x();
    if (m.is_word("ldi") || m.is_word("ldxi")) {
      if (current_.is('#'))
        if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      auto k = number();
      if (!k) return std::unexpected(k.error());
      return RawInstruction{static_cast<std::uint16_t>(m.is_word("ldi") ? kLd | kImm : kLdx | kImm),
                            0, 0, *k};
    }
    if (m.is_word("st") || m.is_word("stx")) {
      auto n = scratch();
      if (!n) return std::unexpected(n.error());
      return RawInstruction{m.is_word("st") ? kSt : kStx, 0, 0, *n};
    }
    if (m.is_word("ja") || m.is_word("jmp")) {
      RawInstruction r{kJmp | kJa, 0, 0, 0};
      if (auto ok = target(Fixup::Field::K, r); !ok) return std::unexpected(ok.error());
      return r;
    }
    struct JumpWord {
      std::string_view word;
      std::uint16_t op;
      bool negated;
    };
    static constexpr JumpWord kJumps[] = {
        {"jeq", kJeq, false}, {"jneq", kJeq, true}, {"jne", kJeq, true}, {"jgt", kJgt, false},
        {"jle", kJgt, true},  {"jge", kJge, false}, {"jlt", kJge, true}, {"jset", kJset, false}};
    for (const JumpWord& j : kJumps)
      if (m.is_word(j.word)) return conditional(j.op, j.negated);
    static constexpr std::pair<std::string_view, std::uint16_t> kAlu[] = {
        {"add", kAdd}, {"sub", kSub}, {"mul", kMul}, {"div", kDiv}, {"mod", kMod},
        {"and", kAnd}, {"or", kOr},   {"xor", kXor}, {"lsh", kLsh}, {"rsh", kRsh}};
    for (const auto& [word, bits] : kAlu)
      if (m.is_word(word)) {
        auto x = x_operand();
        if (!x) return std::unexpected(x.error());
        if (*x) return RawInstruction{static_cast<std::uint16_t>(op::kAlu | bits | kX), 0, 0, 0};
        if (auto ok = expect('#'); !ok) return std::unexpected(ok.error());
        auto k = number();
        if (!k) return std::unexpected(k.error());
        return RawInstruction{static_cast<std::uint16_t>(op::kAlu | bits | kK), 0, 0, *k};
      }
    if (m.is_word("neg")) return RawInstruction{op::kAlu | kNeg, 0, 0, 0};
    if (m.is_word("tax")) return RawInstruction{kMisc | kTax, 0, 0, 0};
    if (m.is_word("txa")) return RawInstruction{kMisc | kTxa, 0, 0, 0};
    if (m.is_word("ret")) return ret();
    if (m.is_word("raw")) return raw();
    return error(m, fmt::format("unknown instruction '{}'", m.text));
  }

  // `x` or `%x` (true), or nothing (false).
  Result<bool> x_operand() {
    if (current_.is('%')) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      if (auto ok = expect_word("x"); !ok) return std::unexpected(ok.error());
      return true;
    }
    if (current_.is_word("x")) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      return true;
    }
    return false;
  }

  // `M[n]`.
  Result<std::uint32_t> scratch() {
    if (auto ok = expect_word("m"); !ok) return std::unexpected(ok.error());
    if (auto ok = expect('['); !ok) return std::unexpected(ok.error());
    auto n = number();
    if (!n) return n;
    if (auto ok = expect(']'); !ok) return std::unexpected(ok.error());
    return n;
  }

  // ld/ldh/ldb: `#k`, `#len`/`len`, an extension, `M[k]`, `[k]`, `[x + k]`.
  Result<RawInstruction> load(std::uint16_t size, std::uint16_t cls) {
    using namespace op;
    const bool word = size == kW;
    const char* name = size == kW ? "ld" : size == kH ? "ldh" : "ldb";
    const Token start = current_;
    if (current_.is('#')) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      if (current_.kind != TK::Identifier) {
        if (!word) return error(start, fmt::format("{} cannot load a constant (use ld)", name));
        auto k = number();
        if (!k) return std::unexpected(k.error());
        return RawInstruction{static_cast<std::uint16_t>(cls | kImm), 0, 0, *k};
      }
    }
    if (current_.is_word("len")) {
      if (!word) return error(start, fmt::format("{} cannot load len (use ld)", name));
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      return RawInstruction{static_cast<std::uint16_t>(cls | kW | kLen), 0, 0, 0};
    }
    if (auto ext = extension_offset(current_)) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      return RawInstruction{static_cast<std::uint16_t>(kLd | size | kAbs), 0, 0,
                            kAncillaryBase + *ext};
    }
    if (current_.is_word("m")) {
      if (!word) return error(start, fmt::format("{} cannot load a scratch word (use ld)", name));
      auto n = scratch();
      if (!n) return std::unexpected(n.error());
      return RawInstruction{static_cast<std::uint16_t>(cls | kMem), 0, 0, *n};
    }
    if (!current_.is('[')) return expected("#k, len, an extension, M[k], [k] or [x + k]");
    if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    auto x = x_operand();
    if (!x) return std::unexpected(x.error());
    std::uint32_t k = 0;
    if (*x) {
      if (current_.is('+')) {
        if (auto ok = advance(); !ok) return std::unexpected(ok.error());
        auto n = number();
        if (!n) return std::unexpected(n.error());
        k = *n;
      }
    } else {
      auto n = number();
      if (!n) return std::unexpected(n.error());
      k = *n;
    }
    if (auto ok = expect(']'); !ok) return std::unexpected(ok.error());
    return RawInstruction{static_cast<std::uint16_t>(kLd | size | (*x ? kInd : kAbs)), 0, 0, k};
  }

  // ldx/ldxb: `#k`, `#len`/`len`, `M[k]`, `4*([k]&0xf)`.
  Result<RawInstruction> load_x() {
    using namespace op;
    if (current_.kind == TK::Number) {
      const Token four = current_;
      if (four.value != 4) return error(four, "only 4*([k]&0xf) is supported");
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      for (char c : {'*', '(', '['})
        if (auto ok = expect(c); !ok) return std::unexpected(ok.error());
      auto k = number();
      if (!k) return std::unexpected(k.error());
      for (char c : {']', '&'})
        if (auto ok = expect(c); !ok) return std::unexpected(ok.error());
      if (current_.kind != TK::Number || current_.value != 0xf)
        return error(current_, "only 4*([k]&0xf) is supported");
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      if (auto ok = expect(')'); !ok) return std::unexpected(ok.error());
      return RawInstruction{kLdx | kB | kMsh, 0, 0, *k};
    }
    if (current_.is_word("m") || current_.is('#') || current_.is_word("len")) {
      auto r = load(kW, kLdx);
      if (r && r->op == (kLd | kAbs)) return error(current_, "ldx cannot load an extension");
      return r;
    }
    return expected("#k, len, M[k] or 4*([k]&0xf)");
  }

  // jeq/jgt/...: operand, then one or two targets.
  Result<RawInstruction> conditional(std::uint16_t bits, bool negated) {
    using namespace op;
    auto x = x_operand();
    if (!x) return std::unexpected(x.error());
    std::uint32_t k = 0;
    if (!*x) {
      if (auto ok = expect('#'); !ok) return std::unexpected(ok.error());
      auto n = number();
      if (!n) return std::unexpected(n.error());
      k = *n;
    }
    RawInstruction r{static_cast<std::uint16_t>(kJmp | bits | (*x ? kX : kK)), 0, 0, k};
    if (auto ok = expect(','); !ok) return std::unexpected(ok.error());
    // A negated condition jumps to its first target when the machine's condition is false.
    const auto first = negated ? Fixup::Field::Jf : Fixup::Field::Jt;
    const auto second = negated ? Fixup::Field::Jt : Fixup::Field::Jf;
    if (auto ok = target(first, r); !ok) return std::unexpected(ok.error());
    if (current_.is(',')) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      if (auto ok = target(second, r); !ok) return std::unexpected(ok.error());
    }
    return r;
  }

  // A label or a skip count, stored in `field` of `r` (the instruction being parsed).
  Result<void> target(Fixup::Field field, RawInstruction& r) {
    if (current_.kind == TK::Identifier) {
      fixups_.push_back(Fixup{program_.size(), field, current_});
      return advance();
    }
    if (current_.kind != TK::Number) return expected("a label or a skip count");
    const Token t = current_;
    if (field == Fixup::Field::K) {
      r.k = t.value;
    } else {
      if (t.value > 255) return error(t, fmt::format("skip {} is more than 255", t.value));
      (field == Fixup::Field::Jt ? r.jt : r.jf) = static_cast<std::uint8_t>(t.value);
    }
    return advance();
  }

  Result<void> resolve(const Fixup& f) {
    auto it = labels_.find(std::string(f.label.text));
    if (it == labels_.end()) return error(f.label, fmt::format("unknown label '{}'", f.label.text));
    if (it->second <= f.index)
      return error(f.label, fmt::format("jump to '{}' goes backwards", f.label.text));
    const std::size_t skip = it->second - f.index - 1;
    RawInstruction& r = program_[f.index];
    if (f.field == Fixup::Field::K) {
      r.k = static_cast<std::uint32_t>(skip);
      return {};
    }
    if (skip > 255)
      return error(f.label,
                   fmt::format("'{}' is {} instructions away; a conditional jump skips at most 255",
                               f.label.text, skip));
    (f.field == Fixup::Field::Jt ? r.jt : r.jf) = static_cast<std::uint8_t>(skip);
    return {};
  }

  Result<RawInstruction> ret() {
    using namespace op;
    if (current_.is('#')) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      auto k = number();
      if (!k) return std::unexpected(k.error());
      return RawInstruction{kRet | kK, 0, 0, *k};
    }
    if (current_.is('%'))
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
    if (current_.is_word("a")) {
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      return RawInstruction{kRet | kA, 0, 0, 0};
    }
    if (current_.is_word("x")) {  // bpf_asm has it; the kernel does not
      if (auto ok = advance(); !ok) return std::unexpected(ok.error());
      return RawInstruction{kRet | kX, 0, 0, 0};
    }
    return expected("#k or a");
  }

  // raw op, jt, jf, k
  Result<RawInstruction> raw() {
    std::uint32_t v[4];
    for (int i = 0; i < 4; ++i) {
      if (i > 0)
        if (auto ok = expect(','); !ok) return std::unexpected(ok.error());
      const Token t = current_;
      auto n = number();
      if (!n) return std::unexpected(n.error());
      const std::uint32_t limit = i == 0 ? 0xffff : i < 3 ? 0xff : 0xffffffff;
      if (*n > limit)
        return error(t, fmt::format("{} does not fit in {} bits", *n, i == 0 ? 16 : 8));
      v[i] = *n;
    }
    return RawInstruction{static_cast<std::uint16_t>(v[0]), static_cast<std::uint8_t>(v[1]),
                          static_cast<std::uint8_t>(v[2]), v[3]};
  }

  text::Lexer lexer_;
  Token current_;
  std::optional<Token> lookahead_;
  std::optional<Token> pending_label_;
  std::map<std::string, std::size_t> labels_;
  std::vector<Fixup> fixups_;
  Program program_;
};

}  // namespace

Result<Program> parse_assembler(std::string_view text) {
  return AsmParser(text).parse();
}

}  // namespace ninep::bpf
