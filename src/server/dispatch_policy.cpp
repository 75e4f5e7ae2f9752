// Request policies in the server core: the record of each request (policy/record.h) built from
// the message and the fid it acts on, the verdict of the export's policy, and what follows.
#include <sys/stat.h>

#include <cstring>
#include <variant>

#include "p9/dirent.h"

#include "server/dispatch_internal.h"

namespace ninep::server::detail {

namespace {

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <typename... F>
Overloaded(F...) -> Overloaded<F...>;

std::uint32_t type_number(const p9::Message& m) {
  return static_cast<std::uint32_t>(p9::type_of(m));
}

// What a request names besides its fid, and its numbers.
struct Args {
  Args() = default;
  explicit Args(std::uint32_t f, std::string_view n = {}) : fid(f), name(n) {}
  std::optional<std::uint32_t> fid;
  std::string_view name;
  std::uint32_t flags = 0, mode = 0, unlink = 0, valid = 0, count = 0;
  std::uint64_t offset = 0;
};

Args args_of(const p9::Message& m) {
  using A = Args;
  return std::visit(
      Overloaded{
          [](const p9::Tremove& x) { return A(x.fid); },
          [](const p9::Txattrwalk& x) { return A(x.fid, x.name); },
          [](const p9::Txattrcreate& x) { return A(x.fid, x.name); },
          [](const p9::Tread& x) {
            A a(x.fid);
            a.offset = x.offset;
            a.count = x.count;
            return a;
          },
          [](const p9::Twrite& x) {
            A a(x.fid);
            a.offset = x.offset;
            a.count = static_cast<std::uint32_t>(x.data.size());
            return a;
          },
          [](const p9::Tlopen& x) {
            A a(x.fid);
            a.flags = x.flags;
            return a;
          },
          [](const p9::Tlcreate& x) {
            A a(x.fid, x.name);
            a.flags = x.flags;
            a.mode = x.mode;
            return a;
          },
          [](const p9::Tgetattr& x) { return A(x.fid); },
          [](const p9::Tsetattr& x) {
            A a(x.fid);
            a.mode = x.mode;
            a.valid = x.valid;
            return a;
          },
          [](const p9::Tstatfs& x) { return A(x.fid); },
          [](const p9::Treadlink& x) { return A(x.fid); },
          [](const p9::Treaddir& x) {
            A a(x.fid);
            a.offset = x.offset;
            a.count = x.count;
            return a;
          },
          [](const p9::Tfsync& x) { return A(x.fid); },
          [](const p9::Tlock& x) {
            A a(x.fid);
            a.offset = x.start;
            return a;
          },
          [](const p9::Tgetlock& x) {
            A a(x.fid);
            a.offset = x.start;
            return a;
          },
          [](const p9::Tmkdir& x) {
            A a(x.dfid, x.name);
            a.mode = x.mode;
            return a;
          },
          [](const p9::Tsymlink& x) { return A(x.dfid, x.name); },
          [](const p9::Tmknod& x) {
            A a(x.dfid, x.name);
            a.mode = x.mode;
            return a;
          },
          [](const p9::Tlink& x) { return A(x.dfid, x.name); },
          [](const p9::Trename& x) { return A(x.fid, x.name); },
          [](const p9::Trenameat& x) { return A(x.olddirfid, x.oldname); },
          [](const p9::Tunlinkat& x) {
            A a(x.dirfid, x.name);
            a.unlink = x.flags;
            return a;
          },
          // Tattach and Twalk are judged by their handlers; Tclunk always releases the fid.
          [](const auto&) { return A(); },
      },
      m);
}

}  // namespace

std::uint32_t file_type_of(const Fid& f) {
  if (!f.node) return 0;  // an xattr transfer
  return file_type_of_qid(f.node->qid.type);
}

std::uint32_t file_type_of_qid(std::uint8_t t) {
  if ((t & p9::kQtDir) != 0) return S_IFDIR;
  if ((t & p9::kQtSymlink) != 0) return S_IFLNK;
  return S_IFREG;  // the qid does not tell devices, fifos and sockets from files
}

const std::shared_ptr<const std::string>& root_path() {
  static const auto root = std::make_shared<const std::string>();
  return root;
}

policy::RequestRecord record_for(Session& s, const Fid& f, std::uint32_t type) {
  policy::RequestRecord r;
  r.type = type;
  r.uid = f.who ? f.who->uid : 0;
  r.gid = f.who ? f.who->gid : 0;
  r.export_index = static_cast<std::uint32_t>(f.exp - s.exports.data());
  r.file_type = file_type_of(f);
  r.depth = f.depth;
  if (f.path) r.path = *f.path;
  return r;
}

Judged judge(Session& s, const Export& e, const policy::RequestRecord& r) {
  return follow(s, e, r, e.policy->current().decide(r));
}

Judged follow(Session& s, const Export& e, const policy::RequestRecord& r, policy::Decision d) {
  using A = policy::Decision::Action;
  switch (d.action) {
    case A::Allow:
      return {};
    case A::Log:
      s.log.log(LogLevel::Warn,
                "policy: connection {}, export '{}', uid {} gid {}: {} path '{}' name '{}' "
                "(allowed, logged)",
                s.conn_id, e.name, r.uid, r.gid, p9::type_name(static_cast<p9::Type>(r.type)),
                r.path, r.name);
      return {};
    case A::Refuse:
      s.log.log(LogLevel::Debug, "policy: connection {}, export '{}': {} path '{}' name '{}': {}",
                s.conn_id, e.name, p9::type_name(static_cast<p9::Type>(r.type)), r.path, r.name,
                std::strerror(d.error));
      return {d.error, false};
    case A::Kill:
      s.log.log(LogLevel::Warn,
                "policy: connection {}, export '{}', uid {} gid {}: {} path '{}' name '{}': "
                "dropping the connection",
                s.conn_id, e.name, r.uid, r.gid, p9::type_name(static_cast<p9::Type>(r.type)),
                r.path, r.name);
      return {EACCES, true};
  }
  return {EACCES, false};
}

Judged judge_walk_name(Session& s, const Fid& f, std::string_view path, std::uint32_t depth,
                       std::uint32_t file_type, std::string_view name) {
  policy::RequestRecord r = record_for(s, f, static_cast<std::uint32_t>(p9::Type::Twalk));
  r.path = path;
  r.depth = depth;
  r.file_type = file_type;
  r.name = name;
  return judge(s, *f.exp, r);
}

Judged judged_by_policy(Session& s, const p9::Message& m) {
  const Args a = args_of(m);
  if (!a.fid) return {};
  FidRef f = s.fids.get(*a.fid);
  if (!f || !f->exp->policy) return {};
  Judged j;
  {
    std::shared_lock lock(f->mu);
    policy::RequestRecord r = record_for(s, *f, type_number(m));
    r.name = a.name;
    r.flags = a.flags;
    r.mode = a.mode;
    r.unlink = a.unlink;
    r.valid = a.valid;
    r.offset = a.offset;
    r.count = a.count;
    j = judge(s, *f->exp, r);
    j.seen[j.n_seen++] = {*a.fid, f->generation};
  }
  // Trenameat names two entries: the new name is judged in the new directory too.
  if (const auto* ra = std::get_if<p9::Trenameat>(&m); ra != nullptr && j.error == 0) {
    FidRef nd = s.fids.get(ra->newdirfid);
    if (nd && nd->exp->policy) {
      std::shared_lock lock(nd->mu);
      policy::RequestRecord r = record_for(s, *nd, type_number(m));
      r.name = ra->newname;
      const Judged::Seen first = j.seen[0];
      j = judge(s, *nd->exp, r);
      j.seen[0] = first;
      j.seen[1] = {ra->newdirfid, nd->generation};
      j.n_seen = 2;
    }
  }
  return j;
}

Result<KeptEntries> keep_walkable_entries(Session& s, const Fid& dir,
                                          std::span<std::uint8_t> entries) {
  // Each entry is judged as the walk to it would be. The records differ only in the name: the
  // directory's is encoded once and each entry's name written into it. Names no rule can tell
  // apart (NameScreen) share one verdict, taken for the first of them.
  policy::RequestRecord r = record_for(s, dir, static_cast<std::uint32_t>(p9::Type::Twalk));
  thread_local std::vector<std::uint8_t> record;
  const bool encoded = policy::encode(r, record);
  const policy::Policy& p = dir.exp->policy->current();
  std::optional<policy::Decision> unnamed;
  KeptEntries out;
  p9::DirentReader reader(entries);
  std::size_t at = 0;
  for (;;) {
    auto d = reader.next();
    if (!d) return std::unexpected(d.error());
    if (!*d) break;
    const std::size_t len = p9::ReaddirBuilder::entry_size((*d)->name);
    r.name = (*d)->name;
    const bool named = p.name_may_matter(r.name) || r.name.size() > policy::kMaxName;
    policy::Decision verdict;
    if (!named && unnamed) {
      verdict = *unnamed;
    } else {
      verdict = encoded && policy::set_name(record, r.name)
                    ? p.decide_encoded(record)
                    : policy::Decision{policy::Decision::Action::Refuse, ENAMETOOLONG};
      if (!named) unnamed = verdict;
    }
    Judged j = follow(s, *dir.exp, r, verdict);
    if (j.kill) return KeptEntries{0, true};
    if (j.error == 0) {
      if (out.size != at) std::memmove(entries.data() + out.size, entries.data() + at, len);
      out.size += len;
    }
    at += len;
  }
  return out;
}

}  // namespace ninep::server::detail
