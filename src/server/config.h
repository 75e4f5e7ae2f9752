// What a Server serves and with which limits.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "server/backend.h"
#include "transport/poll_window.h"

namespace ninep::server {

class EventHub;

// One exported tree. Tattach's aname selects it by `name` or by `path`; an empty aname selects
// the first export.
struct Export {
  std::string name;
  std::string path;  // as given on the command line (also accepted as aname)
  bool read_only = false;
  std::unique_ptr<Backend> backend;
  // The request policy (policy/policy.h) every request on this export is judged by; null for
  // none (then nothing is judged and fids keep no paths). Its policy may be replaced at any time.
  std::shared_ptr<policy::PolicySlot> policy;
  // Change events for `<aname>#events` subscribers (server/events.h); the Server makes it.
  std::shared_ptr<EventHub> events;
};

// Who requests run as, NFS-style (exports(5)): the attaching user, except that uid 0 becomes the
// anonymous identity (Root, the default, "root_squash"), nobody does (None), or everyone does
// (All).
enum class Squash { Root, None, All };

struct IdentityMapping {
  Squash squash = Squash::Root;
  uid_t anon_uid = 65534;  // nobody
  gid_t anon_gid = 65534;  // nogroup
};

struct Owner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// Which extended-attribute namespaces clients may read and write. The default keeps security.*
// (file capabilities, SELinux labels) and trusted.* away from guests.
enum class XattrNamespaces { UserAndAcl, All };

enum class LogLevel { Error, Warn, Info, Debug };

struct ServerConfig {
  // Largest msize accepted; the kernel's maximum for fd/tcp/unix transports is 1 MiB.
  std::uint32_t max_msize = 1u << 20;
  // Worker threads per connection (started on demand).
  unsigned threads = 16;
  // How long a connection's reader polls for the next request before it sleeps, at most (the
  // window adapts: transport/poll_window.h). Zero: never poll.
  std::chrono::microseconds poll_max = transport::PollWindow::kDefaultMax;
  std::uint32_t max_fids = 65536;        // per connection
  std::uint32_t max_outstanding = 1024;  // requests in flight per connection
  std::uint32_t max_connections = 256;   // per server
  // Directories watched for change events per export, at most (the least recently used beyond).
  std::size_t max_watches = 8192;
  IdentityMapping identity;
  // Report every file as owned by this identity (Rgetattr only; chown is accepted and ignored).
  // Changes what clients see, not what they may do: see `identity` for that.
  std::optional<Owner> report_owner;
  XattrNamespaces xattr_namespaces = XattrNamespaces::UserAndAcl;
  // Server-wide budget shared fairly by the connections (see budget.h): bytes held for clients
  // (request frames in flight or still arriving, xattr values, directory buffers) and descriptors
  // held for fids (0: 90% of the open-file limit when the server starts).
  std::uint64_t max_memory = std::uint64_t{2} << 30;
  std::uint64_t max_open_files = 0;
  // Print every request and reply (p9::to_string) to the log.
  bool trace = false;
  LogLevel log_level = LogLevel::Warn;
  // Where log lines go; stderr when empty. Called from many threads, one whole line each.
  std::function<void(LogLevel, std::string_view)> log_sink;
  // Tests only (`ninep serve --test-hooks`): Tattach with aname "ninep-test:forbidden-syscall"
  // first makes a harmless system call the seccomp filter does not allow (see seccomp.h).
  bool test_hooks = false;
};

}  // namespace ninep::server
