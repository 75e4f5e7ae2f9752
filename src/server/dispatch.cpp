// Request dispatch and the handlers that create, transform and destroy fids: attach, walk,
// clunk, remove, the extended-attribute transfers, and read/write (which serve both files and
// attribute transfers).
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <variant>

#include "server/dispatch_internal.h"

namespace ninep::server {

namespace detail {

Dispatched RequestContext::reply(const p9::Message& m) {
  auto n = p9::encode(std::span<std::uint8_t>(w.buf.data(), msize - 1), tag, m);
  if (!n) return error(ERANGE);
  return {Dispatched::Outcome::Reply, *n};
}

Dispatched RequestContext::error(int code) {
  if (code <= 0) code = EIO;
  if ((code == EMFILE || code == ENFILE) && !s.told_out_of_fds.load()) {
    // Not the client's fault (unless it hit the fid limit), and the client cannot say why to
    // anyone: tell the operator, once, when the process really is out of descriptors.
    const int why = descriptors_exhausted();
    if (why != 0 && !s.told_out_of_fds.exchange(true))
      s.log.log(LogLevel::Warn,
                "connection {}: out of file descriptors ({}): every fid holds one; raise the "
                "limit on open files (ulimit -n){}",
                s.conn_id, why == EMFILE ? "the process's limit" : "the system's limit",
                why == EMFILE ? "" : " or fs.file-max");
  }
  p9::encode_rlerror(std::span<std::uint8_t, p9::kRlerrorSize>(w.buf.data(), p9::kRlerrorSize), tag,
                     static_cast<std::uint32_t>(code));
  return {Dispatched::Outcome::Reply, p9::kRlerrorSize};
}

Result<void> check_name(std::string_view name, bool dots_allowed) {
  if (name.empty()) return fail(EINVAL, "empty name");
  if (name.size() > kMaxNameLength) return fail(ENAMETOOLONG, "name too long");
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos)
    return fail(EINVAL, "name contains '/' or NUL");
  if (!dots_allowed && (name == "." || name == "..")) return fail(EINVAL, "'.' or '..'");
  return {};
}

Result<FidRef> lookup(Session& s, std::uint32_t fid) {
  FidRef f = s.fids.get(fid);
  if (!f) return fail(EBADF, "unknown fid");
  return f;
}

Result<FidRef> lookup_file(Session& s, std::uint32_t fid) {
  auto f = lookup(s, fid);
  if (f && (*f)->kind != Fid::Kind::File)
    return fail(EBADF, "fid is an xattr transfer or an event subscription");
  return f;
}

Result<void> become(const Fid& f) {
  return ThreadIdentity::assume(*f.who);
}

bool xattr_name_allowed(std::string_view name, XattrNamespaces spaces) {
  return spaces == XattrNamespaces::All || name.starts_with("user.") ||
         name.starts_with("system.posix_acl_");
}

void keep_allowed_xattr_names(std::vector<std::uint8_t>& list, XattrNamespaces spaces) {
  if (spaces == XattrNamespaces::All) return;
  std::size_t out = 0;
  for (std::size_t at = 0; at < list.size();) {
    const auto* begin = reinterpret_cast<const char*>(list.data() + at);
    const std::size_t len = ::strnlen(begin, list.size() - at);
    const std::size_t next = std::min(list.size(), at + len + 1);
    if (xattr_name_allowed(std::string_view(begin, len), spaces)) {
      std::memmove(list.data() + out, list.data() + at, next - at);
      out += next - at;
    }
    at = next;
  }
  list.resize(out);
}

namespace {

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <typename... F>
Overloaded(F...) -> Overloaded<F...>;  // clang 16 lacks aggregate deduction

bool opens_for_writing(std::uint32_t flags) {
  const std::uint32_t acc = flags & p9::kOAccmode;
  return acc == p9::kOWronly || acc == p9::kORdwr || (flags & (p9::kOTrunc | p9::kOCreate)) != 0;
}

}  // namespace

std::optional<std::uint32_t> fid_it_changes(const p9::Message& m) {
  using R = std::optional<std::uint32_t>;
  return std::visit(Overloaded{
                        [](const p9::Tlopen& x) -> R {
                          return opens_for_writing(x.flags) ? R(x.fid) : std::nullopt;
                        },
                        [](const p9::Tlcreate& x) -> R { return x.fid; },
                        [](const p9::Twrite& x) -> R { return x.fid; },
                        [](const p9::Tsetattr& x) -> R { return x.fid; },
                        [](const p9::Txattrcreate& x) -> R { return x.fid; },
                        [](const p9::Tremove& x) -> R { return x.fid; },
                        [](const p9::Trename& x) -> R { return x.fid; },
                        [](const p9::Tmkdir& x) -> R { return x.dfid; },
                        [](const p9::Tsymlink& x) -> R { return x.dfid; },
                        [](const p9::Tmknod& x) -> R { return x.dfid; },
                        [](const p9::Tlink& x) -> R { return x.dfid; },
                        [](const p9::Trenameat& x) -> R { return x.olddirfid; },
                        [](const p9::Tunlinkat& x) -> R { return x.dirfid; },
                        [](const auto&) -> R { return std::nullopt; },
                    },
                    m);
}

Judged refused_by_export(Session& s, const p9::Message& m) {
  if (auto changed = fid_it_changes(m)) {
    FidRef f = s.fids.get(*changed);
    if (f && f->exp->read_only) {
      if (std::holds_alternative<p9::Tremove>(m)) s.fids.take(*changed);  // clunked anyway
      return {EROFS, false};
    }
  }
  if (!s.any_policy) return {};
  Judged j = judged_by_policy(s, m);
  if (j.error != 0)
    if (const auto* r = std::get_if<p9::Tremove>(&m)) s.fids.take(r->fid);  // clunked anyway
  return j;
}

namespace {

const Export* find_export(Session& s, std::string_view aname) {
  if (s.exports.empty()) return nullptr;
  if (aname.empty()) return &s.exports.front();
  for (const Export& e : s.exports)
    if (e.name == aname) return &e;
  for (const Export& e : s.exports)
    if (e.path == aname) return &e;
  return nullptr;
}

}  // namespace

// This server needs no authentication; like diod, answer that there is no authentication file.
// The Linux client then attaches with afid = NOFID.
Dispatched handle(RequestContext& c, const p9::Tauth&) {
  return c.error(ENOENT);
}

Dispatched handle(RequestContext& c, const p9::Tattach& m) {
  // syslog(SYSLOG_ACTION_SIZE_BUFFER): harmless, and outside the seccomp filter's allow-list.
  if (c.s.cfg.test_hooks && m.aname == "ninep-test:forbidden-syscall")
    ::syscall(SYS_syslog, 10, 0, 0);
  // `<aname>#events`: a subscription to the export's change events (docs/events.md).
  constexpr std::string_view kEventsSuffix = "#events";
  const bool events = m.aname.ends_with(kEventsSuffix);
  const Export* exp =
      find_export(c.s, events ? m.aname.substr(0, m.aname.size() - kEventsSuffix.size()) : m.aname);
  if (exp == nullptr || (events && !exp->events)) return c.error(ENOENT);
  const IdentityMapping& map = c.s.cfg.identity;
  // Under all_squash who attaches does not matter, not even whether the host knows them.
  Result<IdentityPtr> who = map.squash == Squash::All
                                ? Result<IdentityPtr>(std::make_shared<Identity>())
                                : resolve_identity(m.uname, m.n_uname);
  if (!who) return c.error(who.error());
  *who = squash_identity(std::move(*who), map);
  if (c.s.fids.get(m.fid)) return c.error(EBADF);
  if (events) {
    // Who may subscribe: whoever may list the export root (docs/events.md).
    if (auto r = ThreadIdentity::assume(**who); !r) return c.error(r.error());
    auto probe = exp->backend->attach();
    if (!probe) return c.error(probe.error());
    if (auto r = exp->backend->open(**probe, p9::kORdonly | p9::kODirectory); !r)
      return c.error(r.error());
  }
  auto node = exp->backend->attach();
  if (!node) return c.error(node.error());
  p9::Qid qid = events ? kEventsQid : (*node)->qid;
  FidRef f = c.s.fids.make();
  if (events) {
    auto ch = c.s.fids.charge(*f, Budget::kBytes, Subscription::kMaxPending, ENOBUFS);
    if (!ch) return c.error(ch.error());
    auto sub = exp->events->subscribe(c.s.waker);
    if (!sub) return c.error(sub.error());
    f->kind = Fid::Kind::Events;
    f->events = std::move(*sub);
  } else {
    touched(*exp, **node);
  }
  f->exp = exp;
  f->who = std::move(*who);
  f->node = std::move(*node);
  if (exp->policy) {
    f->path = root_path();
    policy::RequestRecord r = record_for(c.s, *f, static_cast<std::uint32_t>(p9::Type::Tattach));
    r.name = m.aname.size() <= policy::kMaxName ? m.aname : std::string_view();
    if (Judged j = judge(c.s, *exp, r); j.error != 0) {
      if (j.kill) return {Dispatched::Outcome::Kill, 0};
      return c.error(j.error);
    }
  }
  if (auto r = c.s.fids.insert(m.fid, f); !r) return c.error(r.error());
  return c.reply(p9::Rattach{qid});
}

Dispatched handle(RequestContext& c, const p9::Twalk& m) {
  auto src = lookup_file(c.s, m.fid);
  if (!src) return c.error(src.error());
  Fid& f = **src;
  const bool in_place = m.newfid == m.fid;
  if (!in_place && c.s.fids.get(m.newfid)) return c.error(EBADF);

  std::shared_lock shared(f.mu, std::defer_lock);
  std::unique_lock exclusive(f.mu, std::defer_lock);
  if (in_place)
    exclusive.lock();
  else
    shared.lock();
  if (in_place && f.opened) return c.error(EBUSY);
  if (auto r = become(f); !r) return c.error(r.error());

  Backend& be = *f.exp->backend;
  p9::Rwalk out;
  NodePtr cur, parent;  // where the walk is, and the directory it came from (after a step)
  // With a request policy: each name is judged in the directory walked to so far, whose path
  // and depth follow the walk.
  const bool judged = f.exp->policy != nullptr;
  std::string path;
  std::uint32_t depth = f.depth;
  if (judged && f.path) path = *f.path;
  if (m.nwname == 0) {
    if (in_place) return c.reply(out);
    auto n = be.clone(*f.node);
    if (!n) return c.error(n.error());
    cur = std::move(*n);
  }
  for (std::uint16_t i = 0; i < m.nwname; ++i) {
    Result<NodePtr> next = fail(EINVAL);
    const std::string_view name = m.wnames[i];
    Node& from = cur ? *cur : *f.node;
    if (auto ok = check_name(name, true); !ok) {
      next = std::unexpected(ok.error());
    } else if (Judged j = judged ? judge_walk_name(c.s, f, path, depth,
                                                   file_type_of_qid(from.qid.type), name)
                                 : Judged{};
               j.error != 0) {
      if (j.kill) return {Dispatched::Outcome::Kill, 0};
      next = fail(j.error);  // as if the name were not there (or not to be walked)
    } else {
      next = be.walk(from, name);
    }
    if (!next) {
      if (i == 0) return c.error(next.error());
      return c.reply(out);  // partial walk: the qids that succeeded, newfid untouched
    }
    parent = std::exchange(cur, std::move(*next));
    out.qids[i] = cur->qid;
    out.nwqid = static_cast<std::uint16_t>(i + 1);
    if (judged && name == "..") {
      if (depth > 0) {
        const auto slash = path.rfind('/');
        path.resize(slash == std::string::npos ? 0 : slash);
        --depth;
      }
    } else if (judged && name != ".") {
      if (!path.empty()) path += '/';
      path += name;
      ++depth;
    }
  }
  std::shared_ptr<const std::string> new_path;
  if (judged) new_path = m.nwname == 0 ? f.path : std::make_shared<const std::string>(path);
  if (m.nwname > 0) {
    if (auto r = be.check_inside(*cur); !r) return c.error(r.error());
  }
  // The directory the fid's file is in (its own, for a directory) is watched for changes.
  if ((cur->qid.type & p9::kQtDir) != 0)
    touched(*f.exp, *cur);
  else if (m.nwname > 0)
    touched(*f.exp, parent ? *parent : *f.node);
  if (in_place) {
    NodePtr old = std::exchange(f.node, std::move(cur));
    f.renew();
    if (judged) {
      f.path = std::move(new_path);
      f.depth = depth;
    }
    exclusive.unlock();
    return c.reply(out);
  }
  FidRef nf = c.s.fids.make();
  nf->exp = f.exp;
  nf->who = f.who;
  nf->node = std::move(cur);
  nf->path = std::move(new_path);
  nf->depth = depth;
  shared.unlock();
  if (auto r = c.s.fids.insert(m.newfid, nf); !r) return c.error(r.error());
  return c.reply(out);
}

Dispatched handle(RequestContext& c, const p9::Tclunk& m) {
  FidRef f = c.s.fids.take(m.fid);
  if (!f) return c.error(EBADF);
  if (f->kind != Fid::Kind::XattrWrite) return c.reply(p9::Rclunk{});
  // Committing a Txattrcreate: the fid is gone whatever happens.
  std::unique_lock lock(f->mu);
  XattrTransfer& x = *f->xattr;
  if (x.written != x.size || x.data.size() != x.size) return c.error(EINVAL);
  if (auto r = become(*f); !r) return c.error(r.error());
  Backend& be = *f->exp->backend;
  auto r = x.size == 0 ? be.xattr_remove(*f->node, x.name)
                       : be.xattr_set(*f->node, x.name, x.data, x.flags);
  if (!r) return c.error(r.error());
  return c.reply(p9::Rclunk{});
}

Dispatched handle(RequestContext& c, const p9::Tremove& m) {
  FidRef f = c.s.fids.take(m.fid);  // clunked even when the remove fails
  if (!f) return c.error(EBADF);
  if (f->kind != Fid::Kind::File) return c.error(EBADF);
  std::shared_lock lock(f->mu);
  if (!c.still_judged(m.fid, *f)) return c.error(EBUSY);
  if (auto r = become(*f); !r) return c.error(r.error());
  if (auto r = f->exp->backend->remove(*f->node); !r) return c.error(r.error());
  return c.reply(p9::Rremove{});
}

Dispatched handle(RequestContext& c, const p9::Txattrwalk& m) {
  auto src = lookup_file(c.s, m.fid);
  if (!src) return c.error(src.error());
  Fid& f = **src;
  if (m.newfid == m.fid || c.s.fids.get(m.newfid)) return c.error(EBADF);
  if (m.name.find('\0') != std::string_view::npos) return c.error(EINVAL);
  const XattrNamespaces spaces = c.s.cfg.xattr_namespaces;
  if (!m.name.empty() && !xattr_name_allowed(m.name, spaces)) return c.error(EOPNOTSUPP);
  std::shared_lock lock(f.mu);
  if (!c.still_judged(m.fid, f)) return c.error(EBUSY);
  if (auto r = become(f); !r) return c.error(r.error());
  auto x = std::make_unique<XattrTransfer>();
  Backend& be = *f.exp->backend;
  auto r =
      m.name.empty() ? be.xattr_list(*f.node, x->data) : be.xattr_get(*f.node, m.name, x->data);
  if (!r) return c.error(r.error());
  if (m.name.empty()) keep_allowed_xattr_names(x->data, spaces);
  x->name.assign(m.name);
  x->size = x->data.size();
  std::uint64_t size = x->size;
  FidRef nf = c.s.fids.make();
  if (auto ch = c.s.fids.charge(*nf, Budget::kBytes, size, ENOBUFS); !ch)
    return c.error(ch.error());
  nf->exp = f.exp;
  nf->who = f.who;
  nf->kind = Fid::Kind::XattrRead;
  nf->xattr = std::move(x);
  nf->path = f.path;
  nf->depth = f.depth;
  lock.unlock();
  if (auto ins = c.s.fids.insert(m.newfid, nf); !ins) return c.error(ins.error());
  return c.reply(p9::Rxattrwalk{size});
}

Dispatched handle(RequestContext& c, const p9::Txattrcreate& m) {
  constexpr std::uint64_t kMaxXattrSize = 65536;  // Linux XATTR_SIZE_MAX
  constexpr std::uint32_t kKnownFlags = 1 | 2;    // XATTR_CREATE | XATTR_REPLACE
  auto src = lookup_file(c.s, m.fid);
  if (!src) return c.error(src.error());
  Fid& f = **src;
  if (m.name.empty() || m.name.find('\0') != std::string_view::npos) return c.error(EINVAL);
  if (!xattr_name_allowed(m.name, c.s.cfg.xattr_namespaces)) return c.error(EOPNOTSUPP);
  if (m.attr_size > kMaxXattrSize) return c.error(E2BIG);
  if ((m.flags & ~kKnownFlags) != 0) return c.error(EINVAL);
  std::unique_lock lock(f.mu);
  if (!c.still_judged(m.fid, f)) return c.error(EBUSY);
  if (f.opened || f.kind != Fid::Kind::File) return c.error(EBADF);
  auto x = std::make_unique<XattrTransfer>();
  x->name.assign(m.name);
  x->size = m.attr_size;
  x->flags = m.flags;  // nothing reserved: the value is held (and charged) as it arrives
  f.xattr = std::move(x);
  f.kind = Fid::Kind::XattrWrite;
  f.renew();
  return c.reply(p9::Rxattrcreate{});
}

Dispatched handle(RequestContext& c, const p9::Tread& m) {
  auto ref = lookup(c.s, m.fid);
  if (!ref) return c.error(ref.error());
  Fid& f = **ref;
  std::shared_lock lock(f.mu);
  if (!c.still_judged(m.fid, f)) return c.error(EBUSY);
  const std::size_t want = std::min<std::size_t>(m.count, c.max_payload());
  std::uint8_t* payload = c.w.buf.data() + p9::kRreadHeaderSize;
  std::size_t n = 0;
  if (f.kind == Fid::Kind::XattrRead) {
    const auto& data = f.xattr->data;
    if (m.offset < data.size()) {
      n = std::min<std::size_t>(want, data.size() - m.offset);
      std::memcpy(payload, data.data() + m.offset, n);
    }
  } else if (f.kind == Fid::Kind::Events) {
    return read_events(c, f, static_cast<std::uint32_t>(want));
  } else if (f.kind == Fid::Kind::File) {
    if (auto r = become(f); !r) return c.error(r.error());
    auto r = f.exp->backend->read(*f.node, m.offset, std::span<std::uint8_t>(payload, want));
    if (!r) return c.error(r.error());
    n = *r;
  } else {
    return c.error(EBADF);
  }
  p9::encode_rread_header(
      std::span<std::uint8_t, p9::kRreadHeaderSize>(c.w.buf.data(), p9::kRreadHeaderSize), c.tag,
      static_cast<std::uint32_t>(n));
  return {Dispatched::Outcome::Reply, p9::kRreadHeaderSize + n};
}

Dispatched handle(RequestContext& c, const p9::Twrite& m) {
  auto ref = lookup(c.s, m.fid);
  if (!ref) return c.error(ref.error());
  Fid& f = **ref;
  if (f.kind == Fid::Kind::XattrWrite) {
    std::unique_lock lock(f.mu);
    if (!c.still_judged(m.fid, f)) return c.error(EBUSY);
    XattrTransfer& x = *f.xattr;
    if (m.offset > x.size || m.data.size() > x.size - m.offset) return c.error(ENOSPC);
    const std::size_t end = static_cast<std::size_t>(m.offset) + m.data.size();
    if (x.data.size() < end) {
      if (auto ch = c.s.fids.charge(f, Budget::kBytes, end - x.data.size(), ENOBUFS); !ch)
        return c.error(ch.error());
      x.data.resize(end);
    }
    std::memcpy(x.data.data() + m.offset, m.data.data(), m.data.size());
    x.written = std::max<std::uint64_t>(x.written, end);
    return c.reply(p9::Rwrite{static_cast<std::uint32_t>(m.data.size())});
  }
  if (f.kind != Fid::Kind::File) return c.error(EBADF);
  std::shared_lock lock(f.mu);
  if (!c.still_judged(m.fid, f)) return c.error(EBUSY);
  if (auto r = become(f); !r) return c.error(r.error());
  auto r = f.exp->backend->write(*f.node, m.offset, m.data);
  if (!r) return c.error(r.error());
  return c.reply(p9::Rwrite{static_cast<std::uint32_t>(*r)});
}

}  // namespace detail

Dispatched dispatch(Session& s, const p9::Fcall& call, HandlerScratch& w) {
  using namespace detail;
  const std::uint32_t msize = s.msize.load(std::memory_order_relaxed);
  if (w.buf.size() < msize) w.buf.resize(msize);
  RequestContext c{s, w, call.tag, msize};
  const Judged j = refused_by_export(s, call.msg);
  if (j.error != 0) {
    if (j.kill) return {Dispatched::Outcome::Kill, 0};
    return c.error(j.error);
  }
  if (s.any_policy) c.judged = &j;
  return std::visit([&c](const auto& m) { return handle(c, m); }, call.msg);
}

}  // namespace ninep::server
