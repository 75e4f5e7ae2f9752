// Error values that cross library boundaries: an errno-style code plus a human message.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace ninep {

struct Error {
  int code = 0;         // errno value (EINVAL, EPROTO, ENOENT, ...)
  std::string message;  // what went wrong, for humans; may be empty

  // "message: strerror(code)", or just strerror(code) when there is no message.
  std::string to_string() const {
    std::string s = message;
    if (code != 0) {
      if (!s.empty()) s += ": ";
      s += std::strerror(code);
    }
    return s;
  }
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(int code, std::string message = {}) {
  return std::unexpected(Error{code, std::move(message)});
}

// The current errno as an Error with `what` as its message.
inline std::unexpected<Error> fail_errno(std::string what) {
  return fail(errno, std::move(what));
}

}  // namespace ninep
