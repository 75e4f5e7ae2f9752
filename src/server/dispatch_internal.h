// Helpers shared by the request handlers (dispatch*.cpp); not part of the library's API.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string_view>

#include "p9/codec.h"
#include "policy/record.h"
#include "server/dispatch.h"
#include "server/events.h"
#include "server/fid.h"
#include "server/identity.h"

namespace ninep::server::detail {

// What an export's rules say of a request: refused with `error` (0: go on), and whether the
// connection is to be dropped.
struct Judged {
  int error = 0;
  bool kill = false;
  // The fids the judgment was about, with their generations when judged (Fid::generation).
  struct Seen {
    std::uint32_t fid = 0;
    std::uint64_t generation = 0;
  };
  std::array<Seen, 2> seen{};
  std::uint8_t n_seen = 0;
};

struct RequestContext {
  Session& s;
  HandlerScratch& w;
  std::uint16_t tag;
  std::uint32_t msize;
  // What the export's policy judged this request by (nothing without a policy).
  const Judged* judged = nullptr;

  // False when fid `id`, locked by the caller, is no longer the file the policy judged (a
  // concurrent walk in place, Tlcreate or Txattrcreate on it, or a clunk and a new fid with its
  // number): the request must not run on it.
  bool still_judged(std::uint32_t id, const Fid& f) const {
    if (judged == nullptr) return true;
    for (std::uint8_t i = 0; i < judged->n_seen; ++i)
      if (judged->seen[i].fid == id && judged->seen[i].generation != f.generation) return false;
    return true;
  }

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
// A fid of export `e` now uses `n`: watched for change events while the export has subscribers.
inline void touched(const Export& e, Node& n) {
  if (e.events) e.events->touched(n);
}
// The qid of `#events` fids: a synthetic file whose path no file of an export has (localfs
// qid paths never have all 64 bits set).
inline constexpr p9::Qid kEventsQid{p9::kQtFile, 0, ~std::uint64_t{0}};
// Tlopen, Tgetattr and Tread of an `#events` fid (dispatch_events.cpp).
Dispatched open_events(RequestContext& c, Fid& f, const p9::Tlopen& m);
Dispatched getattr_events(RequestContext& c, const Fid& f);
Dispatched read_events(RequestContext& c, Fid& f, std::uint32_t count);

// Switches the thread to the fid's user.
Result<void> become(const Fid& f);

// The one place a request meets its export's rules before a handler runs: read-only exports,
// then the export's request policy (judged_by_policy). Twalk and Tattach are judged by their
// handlers (a walk once per name), Treaddir's entries by its handler too; Tclunk never is.
Judged refused_by_export(Session& s, const p9::Message& m);

// Request policies (dispatch_policy.cpp), used only on exports that have one.
// The record of a request on fid `f` (identity, export, file type, path, depth), other fields 0.
policy::RequestRecord record_for(Session& s, const Fid& f, std::uint32_t type);
// The file type (S_IFMT bits) the fid's qid tells.
std::uint32_t file_type_of(const Fid& f);
std::uint32_t file_type_of_qid(std::uint8_t qid_type);
// Runs the export's policy over `r`, logs what the verdict asks to.
Judged judge(Session& s, const Export& e, const policy::RequestRecord& r);
// What follows from the decision `d` on `r` (logging, refusing, dropping the connection).
Judged follow(Session& s, const Export& e, const policy::RequestRecord& r, policy::Decision d);
// The record of one Twalk step: `name` in the directory `path` (at `depth`, of `file_type`).
Judged judge_walk_name(Session& s, const Fid& f, std::string_view path, std::uint32_t depth,
                       std::uint32_t file_type, std::string_view name);
// The request's record built from the message and the fid it acts on, judged.
Judged judged_by_policy(Session& s, const p9::Message& m);
// Removes from packed Rreaddir entries those whose Twalk the policy refuses; returns the size
// of what is kept (packed at the start of `entries`), or kill.
struct KeptEntries {
  std::size_t size = 0;
  bool kill = false;
};
Result<KeptEntries> keep_walkable_entries(Session& s, const Fid& dir,
                                          std::span<std::uint8_t> entries);
// The shared "" path of export roots.
const std::shared_ptr<const std::string>& root_path();

// The fid whose export a request would change (nullopt for requests that change nothing): the
// one place where read-only exports are decided. (The backend refuses writes on its own too.)
std::optional<std::uint32_t> fid_it_changes(const p9::Message& m);

// One handler per request type; the rest (replies, Tversion and Tflush, which the connection
// handles) are not supported here.
Dispatched handle(RequestContext& c, const p9::Tauth& m);
Dispatched handle(RequestContext& c, const p9::Tattach& m);
Dispatched handle(RequestContext& c, const p9::Twalk& m);
Dispatched handle(RequestContext& c, const p9::Tclunk& m);
Dispatched handle(RequestContext& c, const p9::Tremove& m);
Dispatched handle(RequestContext& c, const p9::Txattrwalk& m);
Dispatched handle(RequestContext& c, const p9::Txattrcreate& m);
Dispatched handle(RequestContext& c, const p9::Tread& m);
Dispatched handle(RequestContext& c, const p9::Twrite& m);

Dispatched handle(RequestContext& c, const p9::Tlopen& m);
Dispatched handle(RequestContext& c, const p9::Tlcreate& m);
Dispatched handle(RequestContext& c, const p9::Tgetattr& m);
Dispatched handle(RequestContext& c, const p9::Tsetattr& m);
Dispatched handle(RequestContext& c, const p9::Tstatfs& m);
Dispatched handle(RequestContext& c, const p9::Treadlink& m);
Dispatched handle(RequestContext& c, const p9::Treaddir& m);
Dispatched handle(RequestContext& c, const p9::Tfsync& m);
Dispatched handle(RequestContext& c, const p9::Tlock& m);
Dispatched handle(RequestContext& c, const p9::Tgetlock& m);

Dispatched handle(RequestContext& c, const p9::Tmkdir& m);
Dispatched handle(RequestContext& c, const p9::Tsymlink& m);
Dispatched handle(RequestContext& c, const p9::Tmknod& m);
Dispatched handle(RequestContext& c, const p9::Tlink& m);
Dispatched handle(RequestContext& c, const p9::Trename& m);
Dispatched handle(RequestContext& c, const p9::Trenameat& m);
Dispatched handle(RequestContext& c, const p9::Tunlinkat& m);
template <typename M>
Dispatched handle(RequestContext& c, const M&) {
  return c.error(EOPNOTSUPP);
}

}  // namespace ninep::server::detail
