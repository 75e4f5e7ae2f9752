// Tokens of the textual program forms (bpf_asm syntax, tcpdump's listing and C array), with the
// line and column of each for error messages. Internal to bpf/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace ninep::bpf::text {

struct Token {
  enum class Kind { End, Identifier, Number, Punct };
  Kind kind = Kind::End;
  std::string_view text;
  std::uint32_t value = 0;  // for numbers
  int line = 1;
  int column = 1;

  bool is(char punct) const { return kind == Kind::Punct && text.size() == 1 && text[0] == punct; }
  // Case-insensitive comparison of an identifier (mnemonics and keywords are caseless).
  bool is_word(std::string_view word) const;
};

// Splits text into identifiers ([A-Za-z_][A-Za-z0-9_]*), unsigned numbers (0x hex, 0b binary,
// 0 octal, decimal; at most 32 bits) and single-character punctuation, skipping white space and
// comments: `;` and `//` to the end of the line, `/* ... */`, and lines whose first character is
// `#` (bpf_asm's preprocessor-style comments).
class Lexer {
 public:
  explicit Lexer(std::string_view text, int first_line = 1) : text_(text), line_(first_line) {}

  // The next token, or an error such as "3:7: bad number '09'".
  Result<Token> next();

 private:
  Result<void> skip_space_and_comments();
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void advance();

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

// "line:column: message" as an EINVAL error.
std::unexpected<Error> error_at(int line, int column, std::string message);
inline std::unexpected<Error> error_at(const Token& t, std::string message) {
  return error_at(t.line, t.column, std::move(message));
}

// A token for messages: 'ldx', end of input, ...
std::string describe(const Token& t);

}  // namespace ninep::bpf::text
