// Reaching an export the way the client commands do: connect to an address, negotiate, attach
// as the current user unless told otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "client/fid.h"
#include "client/session.h"
#include "common/error.h"

namespace ninep::client {

struct RemoteOptions {
  std::string address;  // unix:/path, tcp:HOST:PORT, vsock:CID:PORT, fd:N
  std::string aname;    // export to attach
  std::string uname;    // Tattach uname; empty: $USER, else the uid as a number
  std::uint32_t msize = 512 * 1024;
  std::optional<std::uint32_t> uid;  // Tattach n_uname; unset: the current uid
};

// Who to attach as: `uid` or the current uid, `uname` or $USER or that uid as a number.
struct AttachIdentity {
  std::string uname;
  std::uint32_t uid = 0;
};
AttachIdentity attach_identity(const RemoteOptions& opts);

struct Remote {
  std::shared_ptr<Session> session;
  Fid root;
};

// Attaches on an already started session. An attach failure names the address.
Result<Remote> attach_remote(std::shared_ptr<Session> session, const RemoteOptions& opts);
// Connects to opts.address, negotiates opts.msize and attaches. Errors name what failed (the
// address when it is unreachable or refuses the attach).
Result<Remote> connect_remote(const RemoteOptions& opts);

}  // namespace ninep::client
