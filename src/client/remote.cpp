#include "client/remote.h"

#include <unistd.h>

#include <cstdlib>

#include "client/remote_path.h"

namespace ninep::client {

AttachIdentity attach_identity(const RemoteOptions& opts) {
  AttachIdentity id;
  id.uid = opts.uid.value_or(::getuid());
  id.uname = opts.uname;
  if (id.uname.empty()) {
    const char* u = std::getenv("USER");
    id.uname = u && *u ? u : std::to_string(id.uid);
  }
  return id;
}

Result<Remote> attach_remote(std::shared_ptr<Session> session, const RemoteOptions& opts) {
  AttachIdentity id = attach_identity(opts);
  auto root = session->attach(id.uname, opts.aname, id.uid);
  if (!root) return std::unexpected(about(opts.address, root.error()));
  return Remote{std::move(session), std::move(*root)};
}

Result<Remote> connect_remote(const RemoteOptions& opts) {
  SessionOptions so;
  so.msize = opts.msize;
  auto s = Session::connect(opts.address, so);
  if (!s) return std::unexpected(s.error());
  return attach_remote(std::move(*s), opts);
}

}  // namespace ninep::client
