// The bpf_asm syntax parser (see text.h).
#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>

#include "bpf/mnemonics.h"
#include "bpf/text.h"
#include "bpf/text_lexer.h"

namespace ninep::bpf {
namespace {

using text::Token;
using TK = Token::Kind;
using mnemonic::Operand;

// A jump target not yet resolved to a label's index.
struct Fixup {
  std::size_t index;
  enum class Field { Jt, Jf, K } field;
  Token label;
};

RawInstruction make(std::uint16_t code, std::uint32_t k = 0) {
  return RawInstruction{code, 0, 0, k};
}

class AsmParser {
 public:
  explicit AsmParser(std::string_view text) : in_(text) {}

  Result<Program> parse() {
    if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
    while (!in_.at_end()) {
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
  const Token& current() const { return in_.current(); }
  static std::unexpected<Error> error(const Token& t, std::string message) {
    return text::error_at(t, std::move(message));
  }

  Result<void> statement() {
    // Labels: `name:` (several may name the same instruction).
    while (current().kind == TK::Identifier) {
      auto next = in_.peek();
      if (!next) return std::unexpected(next.error());
      if (!next->is(':')) break;
      const std::string name(current().text);
      if (current().is_word("x") || current().is_word("a") || current().is_word("m"))
        return error(current(), fmt::format("'{}' cannot be a label", name));
      if (labels_.contains(name))
        return error(current(), fmt::format("label '{}' defined twice", name));
      labels_[name] = program_.size();
      pending_label_ = current();
      if (auto ok = in_.advance(); !ok) return ok;
      if (auto ok = in_.advance(); !ok) return ok;
    }
    if (in_.at_end()) return {};
    pending_label_.reset();
    if (program_.size() >= kMaxInstructions)
      return error(current(), fmt::format("more than {} instructions", kMaxInstructions));
    if (current().kind != TK::Identifier) return in_.expected("an instruction");
    const Token mnemonic = current();
    if (auto ok = in_.advance(); !ok) return ok;
    auto in = instruction(mnemonic);
    if (!in) return std::unexpected(in.error());
    program_.push_back(*in);
    return {};
  }

  // `#k` (`#` optional when `hash_optional`).
  Result<std::uint32_t> constant(bool hash_optional = false) {
    if (hash_optional) {
      if (auto hash = in_.accept('#'); !hash) return std::unexpected(hash.error());
    } else if (auto ok = in_.expect('#'); !ok) {
      return std::unexpected(ok.error());
    }
    return in_.number();
  }

  Result<RawInstruction> instruction(const Token& m) {
    using namespace op;
    if (const auto* ld = mnemonic::find_opcode(m.text, Operand::Absolute))
      return load(size(ld->code), kLd);
    if (m.is_word("ldx") || m.is_word("ldxb")) return load_x();
    if (m.is_word("ldi") || m.is_word("ldxi")) {
      auto k = constant(true);
      if (!k) return std::unexpected(k.error());
      return make(m.is_word("ldi") ? kLd | kImm : kLdx | kImm, *k);
    }
    if (const auto* st = mnemonic::find_opcode(m.text, Operand::Scratch)) {  // st, stx
      auto n = scratch();
      if (!n) return std::unexpected(n.error());
      return make(st->code, *n);
    }
    if (m.is_word("ja") || m.is_word("jmp")) {
      RawInstruction r = make(kJmp | kJa);
      if (auto ok = target(Fixup::Field::K, r); !ok) return std::unexpected(ok.error());
      return r;
    }
    bool negated = false;
    if (const auto* c = mnemonic::find_condition(m.text, negated))
      return conditional(c->op, negated);
    if (const auto* alu = mnemonic::find_alu_operation(m.text)) {
      auto x = x_operand();
      if (!x) return std::unexpected(x.error());
      if (*x) return make(op::kAlu | alu->op | kX);
      auto k = constant();
      if (!k) return std::unexpected(k.error());
      return make(op::kAlu | alu->op | kK, *k);
    }
    if (const auto* plain = mnemonic::find_opcode(m.text, Operand::None))  // neg, tax, txa
      return make(plain->code);
    if (m.is_word("ret")) return ret();
    if (m.is_word("raw")) return raw();
    return error(m, fmt::format("unknown instruction '{}'", m.text));
  }

  // `x` or `%x` (true), or nothing (false).
  Result<bool> x_operand() {
    auto percent = in_.accept('%');
    if (!percent) return percent;
    if (*percent) {
      if (auto ok = in_.expect_word("x"); !ok) return std::unexpected(ok.error());
      return true;
    }
    return in_.accept_word("x");
  }

  // `M[n]`.
  Result<std::uint32_t> scratch() {
    if (auto ok = in_.expect_word("m"); !ok) return std::unexpected(ok.error());
    return in_.bracketed();
  }

  // ld/ldh/ldb: `#k`, `#len`/`len`, an extension, `M[k]`, `[k]`, `[x + k]`.
  Result<RawInstruction> load(std::uint16_t size, std::uint16_t cls) {
    using namespace op;
    const bool word = size == kW;
    const std::string_view name = mnemonic::load_name(size);
    const Token start = current();
    if (current().is('#')) {
      if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
      if (current().kind != TK::Identifier) {
        if (!word) return error(start, fmt::format("{} cannot load a constant (use ld)", name));
        auto k = in_.number();
        if (!k) return std::unexpected(k.error());
        return make(cls | kImm, *k);
      }
    }
    if (current().is_word("len")) {
      if (!word) return error(start, fmt::format("{} cannot load len (use ld)", name));
      if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
      return make(cls | kW | kLen);
    }
    if (const auto* ext = mnemonic::find_extension(current().text);
        ext != nullptr && current().kind == TK::Identifier) {
      if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
      return make(kLd | size | kAbs, kAncillaryBase + static_cast<std::uint32_t>(ext->ext));
    }
    if (current().is_word("m")) {
      if (!word) return error(start, fmt::format("{} cannot load a scratch word (use ld)", name));
      auto n = scratch();
      if (!n) return std::unexpected(n.error());
      return make(cls | kMem, *n);
    }
    if (!current().is('[')) return in_.expected("#k, len, an extension, M[k], [k] or [x + k]");
    if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
    auto x = x_operand();
    if (!x) return std::unexpected(x.error());
    std::uint32_t k = 0;
    auto plus = *x ? in_.accept('+') : Result<bool>(true);
    if (!plus) return std::unexpected(plus.error());
    if (*plus) {
      auto n = in_.number();
      if (!n) return std::unexpected(n.error());
      k = *n;
    }
    if (auto ok = in_.expect(']'); !ok) return std::unexpected(ok.error());
    return make(kLd | size | (*x ? kInd : kAbs), k);
  }

  // ldx/ldxb: `#k`, `#len`/`len`, `M[k]`, `4*([k]&0xf)`.
  Result<RawInstruction> load_x() {
    using namespace op;
    if (current().kind == TK::Number) {
      const Token four = current();
      if (four.value != 4) return error(four, "only 4*([k]&0xf) is supported");
      if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
      for (char c : {'*', '('})
        if (auto ok = in_.expect(c); !ok) return std::unexpected(ok.error());
      auto k = in_.bracketed();
      if (!k) return std::unexpected(k.error());
      if (auto ok = in_.expect('&'); !ok) return std::unexpected(ok.error());
      if (current().kind != TK::Number || current().value != 0xf)
        return error(current(), "only 4*([k]&0xf) is supported");
      if (auto ok = in_.advance(); !ok) return std::unexpected(ok.error());
      if (auto ok = in_.expect(')'); !ok) return std::unexpected(ok.error());
      return make(kLdx | kB | kMsh, *k);
    }
    if (current().is_word("m") || current().is('#') || current().is_word("len")) {
      auto r = load(kW, kLdx);
      if (r && r->op == (kLd | kAbs)) return error(current(), "ldx cannot load an extension");
      return r;
    }
    return in_.expected("#k, len, M[k] or 4*([k]&0xf)");
  }

  // jeq/jgt/...: operand, then one or two targets.
  Result<RawInstruction> conditional(std::uint16_t bits, bool negated) {
    using namespace op;
    auto x = x_operand();
    if (!x) return std::unexpected(x.error());
    std::uint32_t k = 0;
    if (!*x) {
      auto n = constant();
      if (!n) return std::unexpected(n.error());
      k = *n;
    }
    RawInstruction r = make(kJmp | bits | (*x ? kX : kK), k);
    if (auto ok = in_.expect(','); !ok) return std::unexpected(ok.error());
    // A negated condition jumps to its first target when the machine's condition is false.
    const auto first = negated ? Fixup::Field::Jf : Fixup::Field::Jt;
    const auto second = negated ? Fixup::Field::Jt : Fixup::Field::Jf;
    if (auto ok = target(first, r); !ok) return std::unexpected(ok.error());
    auto comma = in_.accept(',');
    if (!comma) return std::unexpected(comma.error());
    if (*comma)
      if (auto ok = target(second, r); !ok) return std::unexpected(ok.error());
    return r;
  }

  // A label or a skip count, stored in `field` of `r` (the instruction being parsed).
  Result<void> target(Fixup::Field field, RawInstruction& r) {
    if (current().kind == TK::Identifier) {
      fixups_.push_back(Fixup{program_.size(), field, current()});
      return in_.advance();
    }
    if (current().kind != TK::Number) return in_.expected("a label or a skip count");
    const Token t = current();
    if (field == Fixup::Field::K) {
      r.k = t.value;
    } else {
      if (t.value > 255) return error(t, fmt::format("skip {} is more than 255", t.value));
      (field == Fixup::Field::Jt ? r.jt : r.jf) = static_cast<std::uint8_t>(t.value);
    }
    return in_.advance();
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
    if (current().is('#')) {
      auto k = constant();
      if (!k) return std::unexpected(k.error());
      return make(kRet | kK, *k);
    }
    if (auto percent = in_.accept('%'); !percent) return std::unexpected(percent.error());
    for (const std::uint16_t source : {kA, kX}) {  // bpf_asm has `ret x`; the kernel does not
      auto named = in_.accept_word(source == kA ? "a" : "x");
      if (!named) return std::unexpected(named.error());
      if (*named) return make(kRet | source);
    }
    return in_.expected("#k or a");
  }

  // raw op, jt, jf, k
  Result<RawInstruction> raw() {
    std::uint32_t v[4];
    for (int i = 0; i < 4; ++i) {
      if (i > 0)
        if (auto ok = in_.expect(','); !ok) return std::unexpected(ok.error());
      const Token t = current();
      auto n = in_.number();
      if (!n) return std::unexpected(n.error());
      const std::uint32_t limit = i == 0 ? 0xffff : i < 3 ? 0xff : 0xffffffff;
      if (*n > limit)
        return error(t, fmt::format("{} does not fit in {} bits", *n, i == 0 ? 16 : 8));
      v[i] = *n;
    }
    return RawInstruction{static_cast<std::uint16_t>(v[0]), static_cast<std::uint8_t>(v[1]),
                          static_cast<std::uint8_t>(v[2]), v[3]};
  }

  text::TokenCursor in_;
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
