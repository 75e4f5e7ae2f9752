#include "server/daemon/confinement.h"

namespace ninep::server {
namespace {

Result<SandboxMode> sandbox_mode(const std::string& text) {
  return text.empty() ? SandboxMode::Auto : parse_sandbox_mode(text);
}

}  // namespace

Result<void> Confinement::check(const ConfinementSettings& s) {
  if (auto m = sandbox_mode(s.sandbox); !m) return std::unexpected(m.error());
  if (auto m = parse_seccomp_mode(s.seccomp); !m) return std::unexpected(m.error());
  return {};
}

Result<Confinement> Confinement::prepare(const ConfinementSettings& s,
                                         const std::vector<std::string>& export_paths,
                                         const Notice& notice) {
  auto mode = sandbox_mode(s.sandbox);
  if (!mode) return std::unexpected(mode.error());
  auto seccomp = parse_seccomp_mode(s.seccomp);
  if (!seccomp) return std::unexpected(seccomp.error());
  std::string fallback;
  auto sandbox = Sandbox::prepare(*mode, export_paths, fallback);
  if (!sandbox) return std::unexpected(sandbox.error());
  if (!fallback.empty()) notice("warning: " + fallback);
  Confinement c;
  c.sandbox_ = std::move(*sandbox);
  c.seccomp_ = *seccomp;
  return c;
}

Result<void> Confinement::lock_down(bool all_xattr_namespaces, bool verbose, const Notice& notice) {
  if (auto r = sandbox_.enter(); !r) return r;
  auto caps = limit_capabilities(all_xattr_namespaces);
  if (!caps) return std::unexpected(caps.error());
  if (auto r = install_seccomp(seccomp_, notice); !r) return r;
  if (verbose) {
    notice("sandbox: " + sandbox_.describe() + "; capabilities: " + *caps);
    notice(std::string("seccomp: ") + seccomp_mode_name(seccomp_));
  }
  return {};
}

}  // namespace ninep::server
