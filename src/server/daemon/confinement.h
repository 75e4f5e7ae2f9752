// What a server process gives up before it serves, in the order it must: the sandbox (set up
// before the exports are opened, entered once listening), the capabilities it does not need, and
// its seccomp filter (sandbox.h, seccomp.h). Shared by `ninep serve` and `ninep server9p`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "server/daemon/sandbox.h"
#include "server/daemon/seccomp.h"

namespace ninep::server {

// As a command line gives them.
struct ConfinementSettings {
  std::string sandbox;           // "namespace", "chroot", "none"; "" = namespace where allowed
  std::string seccomp = "kill";  // or "log", "none"
  bool unchecked_paths = false;  // tests only: localfs's containment checks off
};

class Confinement {
 public:
  using Notice = std::function<void(const std::string&)>;

  // EINVAL naming the option for a bad mode.
  static Result<void> check(const ConfinementSettings& s);
  // Sets up the sandbox for `export_paths` (a fallback is reported through `notice` as a
  // warning). Call it before the exports are opened and before any thread starts.
  static Result<Confinement> prepare(const ConfinementSettings& s,
                                     const std::vector<std::string>& export_paths,
                                     const Notice& notice);
  // Once listening, before serving: enters the sandbox, keeps only the capabilities the identity
  // model needs (sys_admin and setfcap too with `all_xattr_namespaces`), installs the filter.
  // With `verbose`, says what it did through `notice`.
  Result<void> lock_down(bool all_xattr_namespaces, bool verbose, const Notice& notice);

 private:
  Sandbox sandbox_;
  SeccompMode seccomp_ = SeccompMode::Kill;
};

}  // namespace ninep::server
