// Helpers shared by the request handlers (dispatch*.cpp); not part of the library's API.
#pragma once

#include <mutex>
#include <shared_mutex>
#include <string_view>

#include "p9/codec.h"
#include "server/dispatch.h"
#include "server/identity.h"

namespace ninep::server::detail {

struct Ctx {
  Session& s;
  Worker& w;
  std::uint16_t tag;
  std::uint32_t msize;

  // Encodes `m` as the reply; a reply that would not fit under msize becomes Rlerror(ERANGE).
  Dispatched reply(const p9::Message& m);
  Dispatched error(int code);
  Dispatched error(const Error& e) { return error(e.code); }
  // Largest payload of an Rread/Rreaddir so the whole reply stays below msize.
  std::size_t max_payload() const { return msize - p9::kRreadHeaderSize - 1; }
};

// Checks a name given by the client: not empty, at most 255 bytes, no '/' and no NUL; "." and
// ".." only where `dots_allowed` (walk).
Result<void> check_name(std::string_view name, bool dots_allowed);

// Extended attributes clients may use: user.* and system.posix_acl_* unless all are allowed.
bool xattr_name_allowed(std::string_view name, XattrNamespaces spaces);
// Removes the names not allowed from a NUL-separated list (as listxattr returns it).
void keep_allowed_xattr_names(std::vector<std::uint8_t>& list, XattrNamespaces spaces);

// Looks up a fid; EBADF when absent.
Result<FidRef> lookup(Session& s, std::uint32_t fid);
// A fid that names a file (not an xattr transfer).
Result<FidRef> lookup_file(Session& s, std::uint32_t fid);
// Switches the thread to the fid's user.
Result<void> become(const Fid& f);

Dispatched handle_attach(Ctx& c, const p9::Tattach& m);
Dispatched handle_walk(Ctx& c, const p9::Twalk& m);
Dispatched handle_clunk(Ctx& c, const p9::Tclunk& m);
Dispatched handle_remove(Ctx& c, const p9::Tremove& m);
Dispatched handle_xattrwalk(Ctx& c, const p9::Txattrwalk& m);
Dispatched handle_xattrcreate(Ctx& c, const p9::Txattrcreate& m);
Dispatched handle_read(Ctx& c, const p9::Tread& m);
Dispatched handle_write(Ctx& c, const p9::Twrite& m);

Dispatched handle_lopen(Ctx& c, const p9::Tlopen& m);
Dispatched handle_lcreate(Ctx& c, const p9::Tlcreate& m);
Dispatched handle_getattr(Ctx& c, const p9::Tgetattr& m);
Dispatched handle_setattr(Ctx& c, const p9::Tsetattr& m);
Dispatched handle_statfs(Ctx& c, const p9::Tstatfs& m);
Dispatched handle_readlink(Ctx& c, const p9::Treadlink& m);
Dispatched handle_readdir(Ctx& c, const p9::Treaddir& m);
Dispatched handle_fsync(Ctx& c, const p9::Tfsync& m);
Dispatched handle_lock(Ctx& c, const p9::Tlock& m);
Dispatched handle_getlock(Ctx& c, const p9::Tgetlock& m);

Dispatched handle_mkdir(Ctx& c, const p9::Tmkdir& m);
Dispatched handle_symlink(Ctx& c, const p9::Tsymlink& m);
Dispatched handle_mknod(Ctx& c, const p9::Tmknod& m);
Dispatched handle_link(Ctx& c, const p9::Tlink& m);
Dispatched handle_rename(Ctx& c, const p9::Trename& m);
Dispatched handle_renameat(Ctx& c, const p9::Trenameat& m);
Dispatched handle_unlinkat(Ctx& c, const p9::Tunlinkat& m);

}  // namespace ninep::server::detail
