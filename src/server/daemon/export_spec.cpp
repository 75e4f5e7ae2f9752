#include "server/daemon/export_spec.h"

#include <charconv>
#include <cstdint>

#include "transport/address.h"

namespace ninep::server {

Result<ExportSpec> parse_export(std::string_view text) {
  ExportSpec e;
  std::string t(text);
  // Options come after the path, last first; a path may hold ',' itself.
  for (bool more = true; more;) {
    more = false;
    if (t.size() > 3 && t.ends_with(",ro")) {
      e.read_only = true;
      t.resize(t.size() - 3);
      more = true;
    } else if (t.size() > 3 && t.ends_with(",rw")) {
      t.resize(t.size() - 3);
      more = true;
    } else if (auto at = t.rfind(",policy="); at != std::string::npos && e.policy_file.empty()) {
      e.policy_file = t.substr(at + 8);
      if (e.policy_file.empty())
        return fail(EINVAL, "--export '" + std::string(text) + "': policy= needs a file");
      t.resize(at);
      more = true;
    }
  }
  auto eq = t.find('=');
  if (eq != std::string::npos) {
    e.name = t.substr(0, eq);
    e.path = t.substr(eq + 1);
  } else {
    e.path = t;
  }
  if (e.path.empty()) return fail(EINVAL, "--export '" + std::string(text) + "': empty path");
  if (eq == std::string::npos) {
    std::string p = e.path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    auto slash = p.rfind('/');
    e.name = slash == std::string::npos ? p : p.substr(slash + 1);
  }
  return e;
}

Result<std::pair<std::string, std::string>> parse_podman_serve(std::string_view text) {
  const std::string v(text);
  auto eq = v.rfind('=');
  if (eq != std::string::npos && eq > 0 && transport::parse_address(v.substr(eq + 1)))
    return std::pair{v.substr(0, eq), v.substr(eq + 1)};
  auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == v.size())
    return fail(EINVAL, "--serve '" + v + "': expected PATH:PORT or PATH=ADDRESS");
  std::string id = v.substr(colon + 1);
  std::uint32_t port = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), port);
  if (ec != std::errc() || p != id.data() + id.size())
    return fail(EINVAL, "--serve '" + v + "': '" + id + "' is not a vsock port number");
  return std::pair{v.substr(0, colon), "vsock:" + id};
}

}  // namespace ninep::server
