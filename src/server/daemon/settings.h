// The server's settings as a command line gives them (strings and flags), and their checked
// translation into a ServerConfig. Shared by `ninep serve` and `ninep server9p`.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"
#include "server/config.h"

namespace ninep::server {

struct Settings {
  std::string msize = "1M";
  unsigned threads = 16;
  std::uint32_t poll_us = 50;  // --poll-us (ServerConfig::poll_max)
  bool no_root_squash = false, all_squash = false;
  std::uint32_t anon_uid = 65534, anon_gid = 65534;
  std::string xattr_namespaces = "user";  // or "all"
  std::string report_owner;               // UID:GID
  std::string max_memory = "2G";
  std::uint64_t max_open_files = 0;  // 0: 90% of the open-file limit
  bool trace = false;
  int verbose = 0;
  std::uint32_t max_connections = 256, max_fids = 65536, max_requests = 1024;
  std::uint32_t max_watches = 8192;  // per export (change events)
  bool test_hooks = false;           // tests only (ServerConfig::test_hooks)
};

// EINVAL naming the option for anything out of range or contradictory.
Result<ServerConfig> make_config(const Settings& s);

}  // namespace ninep::server
