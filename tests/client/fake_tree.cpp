#include "fake_tree.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "p9/dirent.h"

namespace ninep::testing {

using namespace std::chrono_literals;

FakeTree::FakeTree() {
  nodes_.push_back(Node{S_IFDIR | 0755, {}, {}, 0});
}

FakeTree::~FakeTree() {
  join();
}

std::size_t FakeTree::add_node(std::size_t parent, std::string name, std::uint32_t mode) {
  nodes_.push_back(Node{mode, {}, {}, parent});
  add_entry(parent, std::move(name), nodes_.size() - 1);
  return nodes_.size() - 1;
}

std::size_t FakeTree::add_dir(std::size_t parent, std::string name, std::uint32_t perm) {
  return add_node(parent, std::move(name), S_IFDIR | perm);
}

std::size_t FakeTree::add_file(std::size_t parent, std::string name, std::string data,
                               std::uint32_t perm) {
  auto n = add_node(parent, std::move(name), S_IFREG | perm);
  nodes_[n].data = std::move(data);
  return n;
}

std::size_t FakeTree::add_symlink(std::size_t parent, std::string name, std::string target) {
  auto n = add_node(parent, std::move(name), S_IFLNK | 0777);
  nodes_[n].data = std::move(target);
  return n;
}

void FakeTree::add_entry(std::size_t dir, std::string name, std::size_t node) {
  nodes_[dir].entries.push_back(Entry{std::move(name), node, 0});
}

void FakeTree::serve(FakeServer& fake) {
  thread_ = std::thread([this, &fake] { run(fake); });
}

void FakeTree::join() {
  if (thread_.joinable()) thread_.join();
}

p9::Qid FakeTree::qid(std::size_t node) const {
  std::uint32_t fmt = nodes_[node].mode & S_IFMT;
  std::uint8_t type = fmt == S_IFDIR ? p9::kQtDir : fmt == S_IFLNK ? p9::kQtSymlink : 0;
  return p9::Qid{type, 1, node + 1};
}

void FakeTree::run(FakeServer& fake) {
  if (!fake.answer_version(65536)) return;
  std::vector<std::uint8_t> buf;
  while (auto req = fake.next(60s)) {
    std::uint16_t tag = req->tag();
    auto lookup = [&](std::uint32_t fid) -> const std::size_t* {
      auto it = fids_.find(fid);
      return it == fids_.end() ? nullptr : &it->second;
    };
    switch (req->type()) {
      case p9::Type::Tattach: {
        fids_[req->as<p9::Tattach>().fid] = 0;
        fake.send(tag, p9::Rattach{qid(0)});
        break;
      }
      case p9::Type::Twalk: {
        const auto& w = req->as<p9::Twalk>();
        const std::size_t* from = lookup(w.fid);
        if (!from) {
          fake.send(tag, p9::Rlerror{EBADF});
          break;
        }
        std::size_t cur = *from;
        p9::Rwalk r;
        for (std::uint16_t i = 0; i < w.nwname; ++i) {
          const Node& n = nodes_[cur];
          std::string_view name = w.wnames[i];
          std::optional<std::size_t> next;
          if (name == "..") {
            next = n.parent;
          } else if (n.listing == Listing::Endless && name.starts_with("e")) {
            next = n.endless_node;
          } else {
            for (const auto& e : n.entries)
              if (e.name == name) {
                next = e.node;
                break;
              }
          }
          if (!next || (n.mode & S_IFMT) != S_IFDIR) break;
          cur = *next;
          r.qids[r.nwqid++] = qid(cur);
        }
        if (w.nwname > 0 && r.nwqid == 0) {
          fake.send(tag, p9::Rlerror{ENOENT});
          break;
        }
        if (r.nwqid == w.nwname) fids_[w.newfid] = cur;
        fake.send(tag, r);
        break;
      }
      case p9::Type::Tgetattr: {
        const std::size_t* n = lookup(req->as<p9::Tgetattr>().fid);
        if (!n) {
          fake.send(tag, p9::Rlerror{EBADF});
          break;
        }
        p9::Rgetattr a;
        a.valid = p9::kGetattrBasic;
        a.qid = qid(*n);
        a.mode = nodes_[*n].mode;
        a.nlink = 1;
        a.size = nodes_[*n].data.size();
        a.mtime_sec = a.atime_sec = 1'000'000'000;
        fake.send(tag, a);
        break;
      }
      case p9::Type::Tlopen: {
        const std::size_t* n = lookup(req->as<p9::Tlopen>().fid);
        if (!n) {
          fake.send(tag, p9::Rlerror{EBADF});
          break;
        }
        fake.send(tag, p9::Rlopen{qid(*n), 0});
        break;
      }
      case p9::Type::Treadlink: {
        const std::size_t* n = lookup(req->as<p9::Treadlink>().fid);
        if (!n) {
          fake.send(tag, p9::Rlerror{EBADF});
          break;
        }
        fake.send(tag, p9::Rreadlink{nodes_[*n].data});
        break;
      }
      case p9::Type::Tread: {
        const auto& r = req->as<p9::Tread>();
        const std::size_t* n = lookup(r.fid);
        if (!n) {
          fake.send(tag, p9::Rlerror{EBADF});
          break;
        }
        const std::string& d = nodes_[*n].data;
        std::size_t off = std::min<std::uint64_t>(r.offset, d.size());
        std::size_t len = std::min<std::size_t>(r.count, d.size() - off);
        fake.send(tag,
                  p9::Rread{p9::Bytes(reinterpret_cast<const std::uint8_t*>(d.data()) + off, len)});
        break;
      }
      case p9::Type::Treaddir: {
        ++readdirs_;
        const auto& r = req->as<p9::Treaddir>();
        const std::size_t* n = lookup(r.fid);
        if (!n) {
          fake.send(tag, p9::Rlerror{EBADF});
          break;
        }
        const Node& dir = nodes_[*n];
        buf.assign(r.count, 0);
        p9::ReaddirBuilder b(buf);
        std::size_t limit = dir.per_reply ? dir.per_reply : SIZE_MAX;
        if (dir.listing == Listing::Endless) {
          std::vector<std::string> names;
          for (std::uint64_t o = r.offset; b.count() < limit; ++o) {
            names.push_back("e" + std::to_string(o));
            if (!b.add(p9::Dirent{qid(dir.endless_node), o + 1, DT_REG, names.back()})) break;
          }
          fake.send(tag, p9::Rreaddir{b.data()});
          break;
        }
        auto cookie = [&](std::size_t i) {
          return dir.entries[i].cookie ? dir.entries[i].cookie : i + 1;
        };
        std::size_t start = dir.entries.size();
        if (r.offset == 0) {
          start = 0;
        } else {
          for (std::size_t i = 0; i < dir.entries.size(); ++i)
            if (cookie(i) == r.offset) {
              start = i + 1;
              break;
            }
        }
        if (dir.listing == Listing::Wrap && start >= dir.entries.size()) start = 0;
        for (std::size_t i = start; i < dir.entries.size() && b.count() < limit; ++i) {
          const Entry& e = dir.entries[i];
          std::uint32_t fmt = nodes_[e.node].mode & S_IFMT;
          std::uint8_t type = fmt == S_IFDIR ? DT_DIR : fmt == S_IFLNK ? DT_LNK : DT_REG;
          if (!b.add(p9::Dirent{qid(e.node), cookie(i), type, e.name})) break;
        }
        fake.send(tag, p9::Rreaddir{b.data()});
        break;
      }
      case p9::Type::Tmkdir: {
        const auto& m = req->as<p9::Tmkdir>();
        const std::size_t* d = lookup(m.dfid);
        if (!d) {
          fake.send(tag, p9::Rlerror{EBADF});
          break;
        }
        bool exists = false;
        for (const auto& e : nodes_[*d].entries) exists = exists || e.name == m.name;
        if (exists) {
          fake.send(tag, p9::Rlerror{EEXIST});
          break;
        }
        std::size_t n = add_dir(*d, std::string(m.name), m.mode & 07777);
        fake.send(tag, p9::Rmkdir{qid(n)});
        break;
      }
      case p9::Type::Tunlinkat: {
        ++unlinkats_;
        const auto& u = req->as<p9::Tunlinkat>();
        const std::size_t* d = lookup(u.dirfid);
        if (!d) {
          fake.send(tag, p9::Rlerror{EBADF});
          break;
        }
        auto& entries = nodes_[*d].entries;
        auto it = std::find_if(entries.begin(), entries.end(),
                               [&](const Entry& e) { return e.name == u.name; });
        if (it == entries.end()) {
          fake.send(tag, p9::Rlerror{ENOENT});
          break;
        }
        const Node& target = nodes_[it->node];
        bool empty = std::all_of(target.entries.begin(), target.entries.end(),
                                 [](const Entry& e) { return e.name == "." || e.name == ".."; });
        bool is_dir = (target.mode & S_IFMT) == S_IFDIR;
        bool want_dir = (u.flags & p9::kAtRemovedir) != 0;
        int err = is_dir && !want_dir                                       ? EISDIR
                  : !is_dir && want_dir                                     ? ENOTDIR
                  : is_dir && (!empty || target.listing != Listing::Normal) ? ENOTEMPTY
                                                                            : 0;
        if (err) {
          fake.send(tag, p9::Rlerror{static_cast<std::uint32_t>(err)});
          break;
        }
        unlinked_.push_back(std::to_string(*d) + "/" + it->name);
        entries.erase(it);
        fake.send(tag, p9::Runlinkat{});
        break;
      }
      case p9::Type::Tclunk: {
        fids_.erase(req->as<p9::Tclunk>().fid);
        fake.send(tag, p9::Rclunk{});
        break;
      }
      default:
        fake.send(tag, p9::Rlerror{EOPNOTSUPP});
    }
  }
}

}  // namespace ninep::testing
