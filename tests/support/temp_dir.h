// A temporary directory (mkdtemp under $TMPDIR or /tmp) removed with its contents on destruction.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace ninep::testing {

class TempDir {
 public:
  // `prefix` names the directory for humans (e.g. "ninep-client-").
  static Result<TempDir> create(std::string_view prefix = "ninep-test-");
  TempDir() = default;
  TempDir(TempDir&& o) noexcept;
  TempDir& operator=(TempDir&& o) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string operator/(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace ninep::testing
