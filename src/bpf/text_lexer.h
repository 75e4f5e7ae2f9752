// Tokens of the textual program forms (bpf_asm syntax, tcpdump's listing and C array), with the
// line and column of each for error messages, and the cursor the parsers read them with.
// Internal to bpf/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace ninep::bpf::text {

// Whether `text` is `word` (lower case) in any case: mnemonics and keywords are caseless.
bool is_word(std::string_view text, std::string_view word);

struct Token {
  enum class Kind { End, Identifier, Number, Punct };
  Kind kind = Kind::End;
  std::string_view text;
  std::uint32_t value = 0;  // for numbers
  int line = 1;
  int column = 1;

  bool is(char punct) const { return kind == Kind::Punct && text.size() == 1 && text[0] == punct; }
  bool is_word(std::string_view word) const {
    return kind == Kind::Identifier && bpf::text::is_word(text, word);
  }
};

// A position in text that knows its line and column.
class Characters {
 public:
  explicit Characters(std::string_view text, int first_line = 1) : text_(text), line_(first_line) {}

  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void advance();
  std::size_t pos() const { return pos_; }
  std::string_view since(std::size_t start) const { return text_.substr(start, pos_ - start); }
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

// Splits text into identifiers ([A-Za-z_][A-Za-z0-9_]*), unsigned numbers (0x hex, 0b binary,
// 0 octal, decimal; at most 32 bits) and single-character punctuation, skipping white space and
// comments: `;` and `//` to the end of the line, `/* ... */`, and lines whose first character is
// `#` (bpf_asm's preprocessor-style comments).
class Lexer {
 public:
  explicit Lexer(std::string_view text, int first_line = 1) : in_(text, first_line) {}

  // The next token, or an error such as "3:7: bad number '09'".
  Result<Token> next();

 private:
  Result<void> skip_space_and_comments();

  Characters in_;
};

// "line:column: message" as an EINVAL error.
std::unexpected<Error> error_at(int line, int column, std::string message);
inline std::unexpected<Error> error_at(const Token& t, std::string message) {
  return error_at(t.line, t.column, std::move(message));
}

// A token for messages: 'ldx', end of input, ...
std::string describe(const Token& t);

// The parsers' view of the tokens: the current one, one of lookahead, and the checks that read
// past an expected token or report what was found instead.
class TokenCursor {
 public:
  explicit TokenCursor(std::string_view text, int first_line = 1) : lexer_(text, first_line) {}

  const Token& current() const { return current_; }
  bool at_end() const { return current_.kind == Token::Kind::End; }
  // Moves to the next token (call once first to read the first).
  Result<void> advance();
  // The token after the current one.
  Result<Token> peek();

  // "expected <what>, found <current token>" at the current token.
  std::unexpected<Error> expected(std::string_view what) const;
  Result<void> expect(char punct);
  Result<void> expect_word(std::string_view word);
  // Reads past `punct` (or `word`) when it is the current token; says whether it was.
  Result<bool> accept(char punct);
  Result<bool> accept_word(std::string_view word);
  // [+|-] NUMBER, as a 32-bit two's complement value.
  Result<std::uint32_t> number();
  // `[` NUMBER `]`.
  Result<std::uint32_t> bracketed();

 private:
  Lexer lexer_;
  Token current_;
  std::optional<Token> lookahead_;
};

}  // namespace ninep::bpf::text
