// The server's sandbox (`--sandbox`): once its listeners are open, a server process keeps no path
// to anything but its exports, so that a hole in localfs's own checks (host_path.h) still leads
// nowhere.
//
// namespace: a new mount namespace (and, for a server not run as root, a new user namespace that
//   maps only its own uid and gid). prepare() bind-mounts each export onto itself, so that the
//   descriptor the server then opens is the root of a mount of its own; enter() moves those mounts
//   into an empty tmpfs, pivots into it and detaches the old root: "/" then holds the exports, as
//   /0, /1, ..., and nothing else (read-only, no devices). localfs reopens files through
//   /proc/self/fd (host_path.h): that directory, bound from the old /proc, becomes the working
//   directory and is detached, so no path names it, and ".." from it leads nowhere.
// chroot: for a root server that may not make namespaces: chroot() into the deepest directory
//   that holds every export, the working directory kept at /proc/self/fd. Weaker: ".." from the
//   working directory leads out, and the server resolves no relative path but descriptor numbers.
// none: nothing.
//
// Users and groups are looked up in a copy of the user database taken by enter() (there is no
// /etc in the sandbox): a user added later is known after a restart.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace ninep::server {

// Builds with AddressSanitizer keep /proc in the sandbox: LeakSanitizer reads /proc/self/task
// and /proc/self/maps when the process exits.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSandboxKeepsProc = true;
#else
inline constexpr bool kSandboxKeepsProc = false;
#endif

enum class SandboxMode {
  Auto,  // namespace where the platform allows it, else chroot (root) or none, with a notice
  Namespace,
  Chroot,
  None,
};

// "namespace", "chroot" or "none"; EINVAL naming the choices otherwise.
Result<SandboxMode> parse_sandbox_mode(std::string_view text);

class Sandbox {
 public:
  // Sets up what must come before the exports are opened (`export_paths`, all of them). Call it
  // before any thread starts (namespaces are per thread until then). Auto falls back, with
  // `fallback` set to the reason; an explicit mode that cannot be had is an error.
  static Result<Sandbox> prepare(SandboxMode mode, const std::vector<std::string>& export_paths,
                                 std::string& fallback);
  // Enters the sandbox: after the exports were opened and the listeners made, before serving.
  Result<void> enter();

  SandboxMode mode() const { return mode_; }
  // "namespace (user namespace)", "chroot into /srv", "none": for the operator.
  std::string describe() const;

 private:
  SandboxMode mode_ = SandboxMode::None;
  bool user_namespace_ = false;
  std::vector<std::string> paths_;  // distinct export paths, deepest first
  std::string chroot_dir_;
};

// Keeps only the capabilities a root server's identity model needs (setuid/setgid, chown,
// dac_override, dac_read_search, fowner, fsetid, mknod; sys_admin and setfcap when security.* and
// trusted.* xattrs are served: `all_xattr_namespaces`), dropping the rest from the permitted,
// inheritable, ambient and bounding sets; a server not run as root keeps none. Returns the names
// kept ("none" when empty), comma-separated.
Result<std::string> limit_capabilities(bool all_xattr_namespaces);

}  // namespace ninep::server
