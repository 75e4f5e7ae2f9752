// Open files and directories: open/create/read/write/flush/release/fsync and readdir(plus).
#include <fcntl.h>

#include <cstring>

#include "fuse/attr.h"
#include "fuse/fs_retry.h"
#include "p9/dirent.h"

namespace ninep::fuse {
namespace {

// Flags that must not be replayed when a file is opened again after a reconnect.
constexpr std::uint32_t kNotOnReopen = p9::kOTrunc | p9::kOCreate | p9::kOExcl;

// Reused across requests of one worker thread: no allocation per read.
std::vector<std::uint8_t>& thread_buffer(std::size_t size) {
  thread_local std::vector<std::uint8_t> buf;
  if (buf.size() < size) buf.resize(size);
  return buf;
}

}  // namespace

Result<std::shared_ptr<client::Fid>> FileSystem::fid_for(OpenHandle& h,
                                                         const Connection::Snapshot& snap) {
  std::lock_guard lk(h.mu);
  if (h.fid && h.generation == snap.generation) return h.fid;
  // Opened on an older connection, or not yet (a directory, cache=auto): open the same file on
  // this one, as its opener.
  Connection::Snapshot as = snap.uid == h.uid ? snap : conn_.current(h.uid);
  if (!as.root) return std::unexpected(as.error);
  auto base = fid_for(h.node, as);
  if (!base) return std::unexpected(base.error());
  auto f = (*base)->clone();
  if (!f) return std::unexpected(f.error());
  auto o = f->lopen(h.lopen_flags & ~kNotOnReopen);
  if (!o) return std::unexpected(o.error());
  h.fid = std::make_shared<client::Fid>(std::move(*f));
  inodes_.set_open_fid(*h.node, h.fid, h.uid);
  if (h.is_dir) h.node->unwatched.store(false);  // the server watches a directory opened
  h.generation = as.generation;
  h.entries.clear();
  h.next_entry = 0;
  h.entries_from = ~std::uint64_t(0);
  h.at_end = false;
  return h.fid;
}

void FileSystem::open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, bool dir) {
  Ticket t = ticket();
  std::uint32_t flags = dir ? (p9::kORdonly | p9::kODirectory) : to_lopen_flags(fi->flags);
  std::uint32_t version = 0;
  bool lazy = false;  // a file opened without asking the server (see below)
  auto h = retrying<std::unique_ptr<OpenHandle>>(
      req, [&](const Connection::Snapshot& snap) -> Result<std::unique_ptr<OpenHandle>> {
        auto handle = std::make_unique<OpenHandle>();
        auto n = node(ino);
        if (!n) return std::unexpected(n.error());
        handle->node = *n;
        handle->uid = snap.uid;
        handle->lopen_flags = flags;
        handle->is_dir = dir;
        // cache=auto: a directory whose listing the kernel may have cached is opened on the
        // server only when a readdir misses the cache (fid_for(OpenHandle&)); the kernel has
        // checked the opener's permission (default_permissions).
        if (dir && coherence_ && !handle->node->unwatched.load()) return handle;
        // Likewise a file read again by the user whose open last checked its cached pages, while
        // no change was reported since.
        lazy = !dir && coherence_ && (flags & 3) == p9::kORdonly && !(flags & p9::kOTrunc) &&
               handle->node->pages_checked.load() && handle->node->pages_uid.load() == snap.uid;
        if (lazy) return handle;
        auto nf = fid_for(handle->node, snap);
        if (!nf) return std::unexpected(nf.error());
        auto f = (*nf)->clone();
        if (!f) return std::unexpected(f.error());
        auto o = f->lopen(flags);
        if (!o) return std::unexpected(o.error());
        version = o->qid.version;
        handle->fid = std::make_shared<client::Fid>(std::move(*f));
        handle->generation = snap.generation;
        return handle;
      });
  if (!h) return reply_error(req, h.error());
  if ((*h)->fid) inodes_.set_open_fid(*(*h)->node, (*h)->fid, (*h)->uid);
  Inode& node = *(*h)->node;
  if (!dir) {
    fi->keep_cache =
        caching() && !(flags & p9::kOTrunc) && (lazy || inodes_.keep_cache(node, version));
    if (!caching()) inodes_.keep_cache(node, 0);
    fi->direct_io = (fi->flags & O_DIRECT) != 0;
  }
  fi->fh = hand_out(h->get());
  bool sent = false;
  auto send = [&] { sent = fuse_reply_open(req, fi) == 0; };
  if (dir && coherence_) {
    // Its listing is cached (FOPEN_CACHE_DIR) and kept across opens until a change drops it.
    reply_cached(t, &node, [&](double timeout) {
      fi->cache_readdir = fi->keep_cache = timeout > 0;
      send();
    });
  } else if (coherence_) {
    reply_cached(t, inodes_.parent_of(node).get(), [&](double timeout) {
      if (timeout == 0) {
        fi->keep_cache = fi->keep_cache && !lazy;  // a change was reported meanwhile
      } else if (!lazy) {
        node.pages_uid.store((*h)->uid);  // the version was checked just now
        node.pages_checked.store(true);
      }
      send();
    });
  } else {
    send();
  }
  // A failed reply means the opener is gone and no release will come: drop the handle.
  if (!sent) return forget(h->get());
  (void)h->release();  // owned by handles_ until release()
}

std::uint64_t FileSystem::hand_out(OpenHandle* h) {
  std::lock_guard lk(handles_mu_);
  handles_.insert(h);
  return reinterpret_cast<std::uintptr_t>(h);
}

void FileSystem::forget(OpenHandle* h) {
  std::lock_guard lk(handles_mu_);
  handles_.erase(h);
}

std::uint64_t FileSystem::open_handles() const {
  std::lock_guard lk(handles_mu_);
  return handles_.size();
}

FileSystem::~FileSystem() {
  for (OpenHandle* h : handles_) delete h;
}

void FileSystem::create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                        fuse_file_info* fi) {
  std::uint32_t flags = to_lopen_flags(fi->flags) | p9::kOCreate;
  if (fi->flags & O_EXCL) flags |= p9::kOExcl;
  gid_t gid = creator_gid(req);
  Ticket t = ticket();
  struct Created {
    fuse_entry_param entry;
    std::unique_ptr<OpenHandle> handle;
  };
  auto c = retrying<Created>(req, [&](const Connection::Snapshot& snap) -> Result<Created> {
    auto p = node_fid(parent, snap);
    if (!p) return std::unexpected(p.error());
    auto f = p->fid->clone();
    if (!f) return std::unexpected(f.error());
    auto o = f->lcreate(name, flags, mode & 07777, gid);
    if (!o) return std::unexpected(o.error());
    auto e = lookup_entry(p->node, name, snap);
    if (!e) return std::unexpected(e.error());
    Created out{*e, std::make_unique<OpenHandle>()};
    out.handle->node = inodes_.get(e->ino);
    if (!out.handle->node) return fail(ESTALE, "created file vanished");
    out.handle->uid = snap.uid;
    out.handle->lopen_flags = flags;
    out.handle->fid = std::make_shared<client::Fid>(std::move(*f));
    out.handle->generation = snap.generation;
    return out;
  });
  if (!c) return reply_error(req, c.error());
  inodes_.keep_cache(*c->handle->node, 0);
  inodes_.set_open_fid(*c->handle->node, c->handle->fid, c->handle->uid);
  fi->keep_cache = 0;
  fi->direct_io = (fi->flags & O_DIRECT) != 0;
  fi->fh = hand_out(c->handle.get());
  bool sent = false;
  reply_cached(t, inodes_.get(parent).get(), [&](double timeout) {
    c->entry.attr_timeout = c->entry.entry_timeout = timeout;
    sent = fuse_reply_create(req, &c->entry, fi) == 0;
  });
  if (!sent) {
    forget(c->handle.get());
    inodes_.unremember(c->entry.ino);
    return;  // the handle is dropped (clunked) here
  }
  (void)c->handle.release();  // owned by handles_ until release()
}

void FileSystem::read(fuse_req_t req, size_t size, off_t off, fuse_file_info* fi) {
  OpenHandle& h = *handle_of(fi);
  auto& buf = thread_buffer(size);
  auto n = retrying<std::size_t>(req, [&](const Connection::Snapshot& snap) -> Result<size_t> {
    auto f = fid_for(h, snap);
    if (!f) return std::unexpected(f.error());
    return (*f)->read(static_cast<std::uint64_t>(off), std::span(buf.data(), size));
  });
  if (!n) return reply_error(req, n.error());
  fuse_reply_buf(req, reinterpret_cast<const char*>(buf.data()), *n);
}

void FileSystem::write(fuse_req_t req, const char* data, size_t size, off_t off,
                       fuse_file_info* fi) {
  OpenHandle& h = *handle_of(fi);
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(data), size);
  auto n = retrying<std::size_t>(req, [&](const Connection::Snapshot& snap) -> Result<size_t> {
    auto f = fid_for(h, snap);
    if (!f) return std::unexpected(f.error());
    return (*f)->write(static_cast<std::uint64_t>(off), bytes);
  });
  if (!n) return reply_error(req, n.error());
  fuse_reply_write(req, *n);
}

void FileSystem::flush(fuse_req_t req, fuse_file_info* fi) {
  OpenHandle& h = *handle_of(fi);
  bool locked;
  {
    std::lock_guard lk(h.mu);
    locked = h.locked;
  }
  // close() drops the POSIX locks the closing process holds on the file.
  if (locked) unlock_all(h, fi->lock_owner);
  fuse_reply_err(req, 0);
}

void FileSystem::release(fuse_req_t req, fuse_file_info* fi) {
  OpenHandle* h = handle_of(fi);
  // flock() locks end with the open file (the kernel says so, naming their owner). The clunk
  // below is asynchronous, so release them explicitly first: another process may try to take
  // them the moment close() returns.
  if (fi->flock_release) unlock_all(*h, fi->lock_owner);
  {
    // Under the lock: whoever counts open files and fids sees both drop together.
    std::lock_guard lk(handles_mu_);
    handles_.erase(h);
    delete h;  // drops the fid: clunked asynchronously
  }
  fuse_reply_err(req, 0);
}

void FileSystem::fsync(fuse_req_t req, int datasync, fuse_file_info* fi) {
  OpenHandle& h = *handle_of(fi);
  auto r = retrying<void>(req, [&](const Connection::Snapshot& snap) -> Result<void> {
    auto f = fid_for(h, snap);
    if (!f) return std::unexpected(f.error());
    return (*f)->fsync(datasync != 0);
  });
  if (!r) return reply_error(req, r.error());
  fuse_reply_err(req, 0);
}

Result<void> FileSystem::fill_dir_entries(OpenHandle& h, std::uint64_t off, std::size_t want,
                                          const Connection::Snapshot& snap) {
  auto f = fid_for(h, snap);
  if (!f) return std::unexpected(f.error());
  std::size_t count = std::min<std::size_t>(std::max<std::size_t>(want, 64 * 1024), max_io_);
  auto& buf = thread_buffer(count);
  auto n = (*f)->readdir_some(off, std::span(buf.data(), count));
  if (!n) return std::unexpected(n.error());
  std::lock_guard lk(h.mu);
  h.entries.clear();
  h.next_entry = 0;
  h.entries_from = off;
  h.at_end = *n == 0;
  p9::DirentReader reader(std::span<const std::uint8_t>(buf.data(), *n));
  for (;;) {
    auto d = reader.next();
    if (!d) return std::unexpected(d.error());
    if (!*d) break;
    h.entries.push_back(
        client::DirEntry{(*d)->qid, (*d)->offset, (*d)->type, std::string((*d)->name)});
  }
  if (h.entries.empty()) h.at_end = true;  // never ask again for the same nothing
  return {};
}

Result<bool> FileSystem::position_entries(fuse_req_t req, OpenHandle& h, std::uint64_t off,
                                          std::size_t size) {
  for (;;) {
    bool refill;
    {
      std::lock_guard lk(h.mu);
      // Where the buffered entries stand: the cookie of the entry last passed on.
      std::uint64_t at = h.next_entry == 0 ? h.entries_from : h.entries[h.next_entry - 1].offset;
      if (at != off || h.entries_from == ~std::uint64_t(0)) {
        refill = true;  // first call, rewinddir/seekdir, or a reconnect
      } else if (h.next_entry < h.entries.size()) {
        return true;
      } else if (h.at_end) {
        return false;
      } else {
        refill = true;
      }
    }
    if (refill) {
      auto r = retrying<void>(req, [&](const Connection::Snapshot& snap) {
        return fill_dir_entries(h, off, size, snap);
      });
      if (!r) return std::unexpected(r.error());
    }
  }
}

void FileSystem::readdir(fuse_req_t req, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  if (plus)
    readdir_plus(req, size, static_cast<std::uint64_t>(off), *handle_of(fi));
  else
    readdir_plain(req, size, static_cast<std::uint64_t>(off), *handle_of(fi));
}

void FileSystem::readdir_plain(fuse_req_t req, size_t size, std::uint64_t off, OpenHandle& h) {
  std::vector<char> out(size);
  std::size_t used = 0;
  for (;;) {
    auto more = position_entries(req, h, off, size);
    if (!more) {
      if (used == 0) return reply_error(req, more.error());
      break;
    }
    if (!*more) break;
    std::lock_guard lk(h.mu);
    const auto& e = h.entries[h.next_entry];
    struct stat st {};
    st.st_ino = e.qid.path;
    st.st_mode = static_cast<mode_t>(e.type) << 12;  // DT_* is S_IF* >> 12
    std::size_t need = fuse_add_direntry(req, out.data() + used, size - used, e.name.c_str(), &st,
                                         static_cast<off_t>(e.offset));
    if (need > size - used) break;
    used += need;
    off = e.offset;
    ++h.next_entry;
  }
  fuse_reply_buf(req, out.data(), used);
}

void FileSystem::readdir_plus(fuse_req_t req, size_t size, std::uint64_t off, OpenHandle& h) {
  Ticket t = ticket();
  // The entries passed on, packed into the reply once all are looked up (with the timeouts
  // known by then). "." and ".." have ino 0: the kernel takes no reference for them.
  struct Item {
    std::string name;
    std::uint64_t offset;
    fuse_entry_param entry;
  };
  std::vector<Item> items;
  std::size_t room = size;
  Error failure{};
  for (;;) {
    auto more = position_entries(req, h, off, size);
    if (!more) {
      failure = more.error();
      break;
    }
    if (!*more) break;
    // The entries that fit in what is left of the reply, looked up all at once.
    std::vector<client::DirEntry> run;
    {
      std::lock_guard lk(h.mu);
      std::size_t left = room;
      for (std::size_t i = h.next_entry; i < h.entries.size(); ++i) {
        std::size_t need =
            fuse_add_direntry_plus(req, nullptr, 0, h.entries[i].name.c_str(), nullptr, 0);
        if (need > left) break;
        left -= need;
        run.push_back(h.entries[i]);
      }
    }
    if (run.empty()) break;  // the reply is full
    std::vector<Result<fuse_entry_param>> found(run.size(), fail(0));
    std::vector<std::function<void()>> tasks;
    for (std::size_t i = 0; i < run.size(); ++i) {
      if (run[i].name == "." || run[i].name == "..") {
        fuse_entry_param pe{};
        pe.attr.st_ino = run[i].qid.path;
        pe.attr.st_mode = S_IFDIR;
        found[i] = pe;
        continue;
      }
      tasks.push_back([&, i] {
        found[i] = retrying<fuse_entry_param>(req, [&](const Connection::Snapshot& snap) {
          return lookup_entry(h.node, run[i].name, snap);
        });
      });
    }
    lookups_.run_all(tasks);
    bool stop = false;
    for (std::size_t i = 0; i < run.size(); ++i) {
      if (stop) {
        if (found[i] && found[i]->ino != 0) inodes_.unremember(found[i]->ino);
        continue;
      }
      if (!found[i] && found[i].error().code != ENOENT) {
        failure = found[i].error();
        stop = true;
        continue;
      }
      // ENOENT: removed since it was listed: skipped.
      if (found[i]) {
        room -= fuse_add_direntry_plus(req, nullptr, 0, run[i].name.c_str(), nullptr, 0);
        items.push_back(Item{run[i].name, run[i].offset, *found[i]});
      }
      off = run[i].offset;
      std::lock_guard lk(h.mu);
      ++h.next_entry;
    }
    if (stop) break;
  }
  if (items.empty() && failure.code != 0) return reply_error(req, failure);
  reply_cached(t, h.node.get(), [&](double timeout) {
    std::vector<char> out(size);
    std::size_t used = 0;
    for (auto& it : items) {
      if (it.entry.ino != 0) it.entry.attr_timeout = it.entry.entry_timeout = timeout;
      used += fuse_add_direntry_plus(req, out.data() + used, size - used, it.name.c_str(),
                                     &it.entry, static_cast<off_t>(it.offset));
    }
    if (fuse_reply_buf(req, out.data(), used) == 0) return;
    for (const auto& it : items)
      if (it.entry.ino != 0) inodes_.unremember(it.entry.ino);
  });
}

}  // namespace ninep::fuse
