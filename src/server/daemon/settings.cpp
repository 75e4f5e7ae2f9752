#include "server/daemon/settings.h"

#include <algorithm>
#include <charconv>

#include "common/size.h"

namespace ninep::server {
namespace {

Result<Owner> parse_owner(const std::string& s) {
  const auto colon = s.find(':');
  const auto bad = [&] {
    return fail(EINVAL, "--report-owner '" + s + "': wants numeric UID:GID");
  };
  if (colon == std::string::npos || colon == 0) return bad();
  Owner q;
  auto a = std::from_chars(s.data(), s.data() + colon, q.uid);
  auto b = std::from_chars(s.data() + colon + 1, s.data() + s.size(), q.gid);
  if (a.ec != std::errc() || a.ptr != s.data() + colon || b.ec != std::errc() ||
      b.ptr != s.data() + s.size())
    return bad();
  return q;
}

}  // namespace

Result<ServerConfig> make_config(const Settings& s) {
  ServerConfig cfg;
  auto msize = parse_size(s.msize);
  if (!msize) return fail(EINVAL, "--msize: " + msize.error().message);
  if (*msize < 4096 || *msize > 0xFFFFFFFFull) return fail(EINVAL, "--msize: from 4096 to 4G");
  cfg.max_msize = static_cast<std::uint32_t>(*msize);
  cfg.threads = std::max(1u, s.threads);
  if (s.poll_us > 1000000) return fail(EINVAL, "--poll-us: at most 1000000 (one second)");
  cfg.poll_max = std::chrono::microseconds(s.poll_us);
  if (!s.report_owner.empty()) {
    auto q = parse_owner(s.report_owner);
    if (!q) return std::unexpected(q.error());
    cfg.report_owner = *q;
  }
  if (s.no_root_squash && s.all_squash)
    return fail(EINVAL, "--no-root-squash and --all-squash contradict each other");
  cfg.identity.squash = s.all_squash ? Squash::All : s.no_root_squash ? Squash::None : Squash::Root;
  cfg.identity.anon_uid = s.anon_uid;
  cfg.identity.anon_gid = s.anon_gid;
  if (s.xattr_namespaces == "all")
    cfg.xattr_namespaces = XattrNamespaces::All;
  else if (s.xattr_namespaces != "user")
    return fail(EINVAL, "--xattr-namespaces: 'user' or 'all'");
  auto mem = parse_size(s.max_memory);
  if (!mem) return fail(EINVAL, "--max-memory: " + mem.error().message);
  cfg.max_memory = *mem;
  cfg.max_open_files = s.max_open_files;
  cfg.trace = s.trace;
  cfg.log_level = s.verbose >= 2   ? LogLevel::Debug
                  : s.verbose == 1 ? LogLevel::Info
                                   : LogLevel::Warn;
  cfg.max_connections = std::max(1u, s.max_connections);
  cfg.max_fids = std::max(1u, s.max_fids);
  cfg.max_outstanding = std::max(1u, s.max_requests);
  cfg.max_watches = std::max(1u, s.max_watches);
  cfg.test_hooks = s.test_hooks;
  return cfg;
}

}  // namespace ninep::server
