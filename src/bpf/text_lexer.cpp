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

bool Token::is_word(std::string_view word) const {
  if (kind != Kind::Identifier || text.size() != word.size()) return false;
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

void Lexer::advance() {
  if (text_[pos_] == '\n') {
    ++line_;
    column_ = 1;
  } else {
    ++column_;
  }
  ++pos_;
}

Result<void> Lexer::skip_space_and_comments() {
  while (pos_ < text_.size()) {
    const char c = peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      advance();
    } else if (c == ';' || (c == '/' && peek(1) == '/') || (c == '#' && column_ == 1)) {
      while (pos_ < text_.size() && peek() != '\n') advance();
    } else if (c == '/' && peek(1) == '*') {
      const int line = line_, column = column_;
      advance(), advance();
      while (pos_ < text_.size() && !(peek() == '*' && peek(1) == '/')) advance();
      if (pos_ >= text_.size()) return error_at(line, column, "unterminated comment");
      advance(), advance();
    } else {
      break;
    }
  }
  return {};
}

Result<Token> Lexer::next() {
  if (auto ok = skip_space_and_comments(); !ok) return std::unexpected(ok.error());
  Token t;
  t.line = line_;
  t.column = column_;
  if (pos_ >= text_.size()) return t;
  const std::size_t start = pos_;
  const char c = peek();
  if (word_start(c) || std::isdigit(static_cast<unsigned char>(c))) {
    while (pos_ < text_.size() && word_char(peek())) advance();
    t.text = text_.substr(start, pos_ - start);
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
  advance();
  t.kind = Token::Kind::Punct;
  t.text = text_.substr(start, 1);
  return t;
}

}  // namespace ninep::bpf::text
