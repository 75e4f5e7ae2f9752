#include "bpf/text_lexer.h"

#include <fmt/format.h>

#include <cctype>

namespace ninep::bpf::text {
namespace {

bool word_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

// The value of a number token, or why it is not one.
Result<std::uint32_t> number_value(std::string_view word) {
  int base = 10;
  std::string_view digits = word;
  if (word.size() > 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X')) {
    base = 16, digits = word.substr(2);
  } else if (word.size() > 2 && word[0] == '0' && (word[1] == 'b' || word[1] == 'B')) {
    base = 2, digits = word.substr(2);
  } else if (word.size() > 1 && word[0] == '0') {
    base = 8, digits = word.substr(1);
  }
  std::uint64_t v = 0;
  for (char c : digits) {
    const int d = digit_value(c);
    if (d >= base) return fail(EINVAL, fmt::format("bad number '{}'", word));
    v = v * base + d;
    if (v > 0xffffffffull)
      return fail(EINVAL, fmt::format("number '{}' does not fit in 32 bits", word));
  }
  return static_cast<std::uint32_t>(v);
}

}  // namespace

bool is_word(std::string_view text, std::string_view word) {
  if (text.size() != word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != word[i]) return false;
  return true;
}

std::unexpected<Error> error_at(int line, int column, std::string message) {
  return fail(EINVAL, fmt::format("{}:{}: {}", line, column, message));
}

std::string describe(const Token& t) {
  if (t.kind == Token::Kind::End) return "end of input";
  return fmt::format("'{}'", t.text);
}

void Characters::advance() {
  if (text_[pos_] == '\n') {
    ++line_;
    column_ = 1;
  } else {
    ++column_;
  }
  ++pos_;
}

Result<void> Lexer::skip_space_and_comments() {
  while (!in_.at_end()) {
    const char c = in_.peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      in_.advance();
    } else if (c == ';' || (c == '/' && in_.peek(1) == '/') || (c == '#' && in_.column() == 1)) {
      while (!in_.at_end() && in_.peek() != '\n') in_.advance();
    } else if (c == '/' && in_.peek(1) == '*') {
      const int line = in_.line(), column = in_.column();
      in_.advance(), in_.advance();
      while (!in_.at_end() && !(in_.peek() == '*' && in_.peek(1) == '/')) in_.advance();
      if (in_.at_end()) return error_at(line, column, "unterminated comment");
      in_.advance(), in_.advance();
    } else {
      break;
    }
  }
  return {};
}

Result<Token> Lexer::next() {
  if (auto ok = skip_space_and_comments(); !ok) return std::unexpected(ok.error());
  Token t;
  t.line = in_.line();
  t.column = in_.column();
  if (in_.at_end()) return t;
  const std::size_t start = in_.pos();
  const char c = in_.peek();
  if (word_start(c) || std::isdigit(static_cast<unsigned char>(c))) {
    while (!in_.at_end() && word_char(in_.peek())) in_.advance();
    t.text = in_.since(start);
    if (word_start(c)) {
      t.kind = Token::Kind::Identifier;
      return t;
    }
    auto v = number_value(t.text);
    if (!v) return error_at(t, v.error().message);
    t.kind = Token::Kind::Number;
    t.value = *v;
    return t;
  }
  if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
    return error_at(t, fmt::format("unexpected character {:#04x}", static_cast<unsigned char>(c)));
  in_.advance();
  t.kind = Token::Kind::Punct;
  t.text = in_.since(start);
  return t;
}

Result<void> TokenCursor::advance() {
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

Result<Token> TokenCursor::peek() {
  if (!lookahead_) {
    auto t = lexer_.next();
    if (!t) return std::unexpected(t.error());
    lookahead_ = *t;
  }
  return *lookahead_;
}

std::unexpected<Error> TokenCursor::expected(std::string_view what) const {
  return error_at(current_, fmt::format("expected {}, found {}", what, describe(current_)));
}

Result<void> TokenCursor::expect(char punct) {
  if (!current_.is(punct)) return expected(fmt::format("'{}'", punct));
  return advance();
}

Result<void> TokenCursor::expect_word(std::string_view word) {
  if (!current_.is_word(word)) return expected(fmt::format("'{}'", word));
  return advance();
}

Result<bool> TokenCursor::accept(char punct) {
  if (!current_.is(punct)) return false;
  if (auto ok = advance(); !ok) return std::unexpected(ok.error());
  return true;
}

Result<bool> TokenCursor::accept_word(std::string_view word) {
  if (!current_.is_word(word)) return false;
  if (auto ok = advance(); !ok) return std::unexpected(ok.error());
  return true;
}

Result<std::uint32_t> TokenCursor::number() {
  const bool negative = current_.is('-');
  if (negative || current_.is('+'))
    if (auto ok = advance(); !ok) return std::unexpected(ok.error());
  if (current_.kind != Token::Kind::Number) return expected("a number");
  const Token t = current_;
  if (auto ok = advance(); !ok) return std::unexpected(ok.error());
  if (!negative) return t.value;
  if (t.value > 0x80000000u) return error_at(t, fmt::format("-{} does not fit in 32 bits", t.text));
  return 0u - t.value;
}

Result<std::uint32_t> TokenCursor::bracketed() {
  if (auto ok = expect('['); !ok) return std::unexpected(ok.error());
  auto v = number();
  if (!v) return v;
  if (auto ok = expect(']'); !ok) return std::unexpected(ok.error());
  return v;
}

}  // namespace ninep::bpf::text
