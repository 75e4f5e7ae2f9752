// What a Server serves and with which limits.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/backend.h"

namespace ninep::server {

// One exported tree. Tattach's aname selects it by `name` or by `path`; an empty aname selects
// the first export.
struct Export {
  std::string name;
  std::string path;  // as given on the command line (also accepted as aname)
  bool read_only = false;
  std::unique_ptr<Backend> backend;
};

struct Squash {
  uid_t uid = 0;
  gid_t gid = 0;
};

enum class LogLevel { Error, Warn, Info, Debug };

struct ServerConfig {
  // Largest msize accepted; the kernel's maximum for fd/tcp/unix transports is 1 MiB.
  std::uint32_t max_msize = 1u << 20;
  // Worker threads per connection (started on demand).
  unsigned threads = 16;
  std::uint32_t max_fids = 65536;        // per connection
  std::uint32_t max_outstanding = 1024;  // requests in flight per connection
  std::uint32_t max_connections = 256;   // per server
  // Report every file as owned by this identity (getattr only; chown becomes a no-op).
  std::optional<Squash> squash;
  // Print every request and reply (p9::to_string) to the log.
  bool trace = false;
  LogLevel log_level = LogLevel::Warn;
  // Where log lines go; stderr when empty. Called from many threads, one whole line each.
  std::function<void(LogLevel, std::string_view)> log_sink;
};

}  // namespace ninep::server
