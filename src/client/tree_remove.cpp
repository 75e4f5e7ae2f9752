#include "client/tree_remove.h"

#include <fmt/format.h>

#include <string>
#include <unordered_set>
#include <vector>

#include "client/dir_listing.h"
#include "client/remote_path.h"
#include "client/tree_copy.h"
#include "p9/message.h"

namespace ninep::client {
namespace {

constexpr std::uint8_t kDtDir = 4;  // Linux DT_DIR

class Remover {
 public:
  explicit Remover(const TreeRemoveOptions& opts) : opts_(opts) {}

  Result<void> remove(const Fid& parent, std::string_view name, const std::string& shown,
                      std::uint32_t depth) {
    auto f = parent.walk({name});
    if (!f) return std::unexpected(about(shown, f.error()));
    if (!f->is_dir()) return named(shown, parent.unlinkat(name));
    if (depth > opts_.max_depth)
      return fail(ELOOP, fmt::format("{}: directory tree deeper than {} levels (limit; does a "
                                     "directory on the server contain itself?)",
                                     shown, opts_.max_depth));
    auto names = list(*f);
    if (!names) return std::unexpected(about(shown, names.error()));
    for (const auto& n : *names)
      if (auto r = remove(*f, n, join_path(shown, n), depth + 1); !r) return r;
    f = Fid();
    return named(shown, parent.unlinkat(name, p9::kAtRemovedir));
  }

 private:
  static Result<void> named(std::string_view shown, Result<void> r) {
    if (!r) return std::unexpected(about(shown, r.error()));
    return r;
  }

  // The names to remove in directory `f`: "." and ".." (the directory's own links, once each)
  // left out, anything else unusable an error.
  Result<std::vector<std::string>> list(const Fid& f) {
    auto d = f.clone();
    if (!d) return std::unexpected(d.error());
    if (auto r = d->lopen(p9::kORdonly | p9::kODirectory); !r) return std::unexpected(r.error());
    // +2: "." and "..", which are not counted.
    auto entries = read_directory(*d, opts_.max_entries - entries_ + 2);
    if (!entries) return entries.error().code == E2BIG ? limit() : std::unexpected(entries.error());
    std::vector<std::string> out;
    std::unordered_set<std::string_view> seen;
    bool dot = false, dotdot = false;
    for (const auto& e : *entries) {
      if (e.name == "." || e.name == "..") {
        bool& once = e.name == "." ? dot : dotdot;
        if ((e.type == kDtDir || (e.qid.type & p9::kQtDir) != 0) && !once) {
          once = true;
          continue;
        }
      }
      if (auto r = check_entry_name(e.name); !r) return std::unexpected(r.error());
      if (!seen.insert(e.name).second)
        return fail(EPROTO, "server listed the entry name " + quoted(e.name) + " twice");
      ++entries_;
      out.push_back(e.name);
    }
    if (entries_ > opts_.max_entries) return limit();
    return out;
  }

  std::unexpected<Error> limit() const {
    return fail(E2BIG, fmt::format("more than {} entries (limit)", opts_.max_entries));
  }

  // A server's name as it can be shown on a terminal: quoted, control bytes escaped.
  static std::string quoted(std::string_view name) {
    std::string out = "\"";
    for (unsigned char c : name) {
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
        out += fmt::format("\\x{:02x}", c);
      else
        out += static_cast<char>(c);
    }
    return out + "\"";
  }

  const TreeRemoveOptions& opts_;
  std::uint64_t entries_ = 0;
};

}  // namespace

Result<void> remove_tree(const Fid& parent, std::string_view name, std::string_view shown,
                         const TreeRemoveOptions& opts) {
  Remover r(opts);
  return r.remove(parent, name, std::string(shown), 0);
}

Result<void> remove_path(const Fid& root, std::string_view path, const TreeRemoveOptions& opts) {
  auto missing_ok = [&](const Error& e) { return opts.force && e.code == ENOENT; };
  auto p = walk_parent(root, path);
  if (!p) {
    if (missing_ok(p.error())) return {};
    return std::unexpected(about(path, p.error()));
  }
  auto& [parent, name] = *p;
  auto target = parent.walk({name});
  if (!target) {
    if (missing_ok(target.error())) return {};
    return std::unexpected(about(path, target.error()));
  }
  Result<void> r;
  if (!target->is_dir()) {
    r = parent.unlinkat(name);
  } else if (opts.recursive) {
    target = Fid();
    return remove_tree(parent, name, path, opts);
  } else if (opts.empty_dirs) {
    r = parent.unlinkat(name, p9::kAtRemovedir);
  } else {
    r = fail(EISDIR, "use -r to remove a directory tree or -d for an empty directory");
  }
  if (!r) return std::unexpected(about(path, r.error()));
  return {};
}

}  // namespace ninep::client
