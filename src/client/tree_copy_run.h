// What a recursive copy in either direction keeps while it goes on past failures: its options,
// its observer, one transfer buffer, the first error (its result) and whether it must stop.
// Internal to tree_copy_get.cpp and tree_copy_put.cpp.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/tree_copy.h"

namespace ninep::client {

class TreeCopyRun {
 public:
  TreeCopyRun(const TreeCopyOptions& opts, TreeCopyObserver& obs)
      : opts_(opts), obs_(obs), buf_(std::max<std::size_t>(opts.buffer_size, 4096)) {}

  // Reports a failure on `what` and goes on; the first one becomes the result.
  void error(std::string_view what, const Error& e) {
    obs_.on_error(what, e);
    if (!first_)
      first_ = Error{e.code,
                     e.message.empty() ? std::string(what) : std::string(what) + ": " + e.message};
  }
  // Reports a failure after which nothing more is copied.
  void fatal(std::string_view what, const Error& e) {
    error(what, e);
    stopped_ = true;
  }
  Result<void> result() const {
    if (first_) return std::unexpected(*first_);
    return {};
  }

 protected:
  const TreeCopyOptions& opts_;
  TreeCopyObserver& obs_;
  std::vector<std::uint8_t> buf_;
  bool stopped_ = false;

 private:
  std::optional<Error> first_;
};

}  // namespace ninep::client
