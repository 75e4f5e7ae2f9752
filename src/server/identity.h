// Who a request runs as. When the server runs as root, every request runs with the file-system
// credentials of the user that attached (Tattach's n_uname, or uname looked up), mapped by the
// squash rules (config.h): fsuid, fsgid and supplementary groups, switched per worker THREAD,
// and the thread's effective capabilities are those of that identity: none for anyone but an
// unsquashed root. Otherwise everything runs as the server's own user and the host refuses what
// that user may not do.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "server/config.h"

namespace ninep::server {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
};

using IdentityPtr = std::shared_ptr<const Identity>;

// Resolves Tattach's user: n_uname when given (not ~0), else uname as a number or a user name.
// The primary and supplementary groups come from the host's user database; a uid unknown there
// gets gid = uid and no supplementary groups. ENOENT ("unknown user") when uname names nobody.
Result<IdentityPtr> resolve_identity(std::string_view uname, std::uint32_t n_uname);
// From now on, users and groups are looked up in a copy of the host's user database taken now
// (every entry getpwent/getgrent list), for a server whose root no longer contains /etc (the
// sandbox). A user added to the host later is unknown to the server until it restarts.
void snapshot_user_database();
// The identity requests of `who` run as under `map`: squashed identities become the anonymous
// uid/gid with no supplementary groups; under root squash, group 0 is squashed as well (as
// nfsd does), so a guest cannot use the host's root group either.
IdentityPtr squash_identity(IdentityPtr who, const IdentityMapping& map);

// Per-thread credential switching. Only switches when the process runs as root (euid 0);
// otherwise a no-op, since the host already applies the server user's permissions.
class ThreadIdentity {
 public:
  // Makes the calling thread's file-system credentials those of `who`, and its effective
  // capabilities all of its permitted ones for uid 0, none for any other uid. Cheap when
  // unchanged.
  static Result<void> assume(const Identity& who);
  // True when identities are switched (the process runs as root).
  static bool switching();
};

}  // namespace ninep::server
