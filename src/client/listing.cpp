#include "client/listing.h"

#include <algorithm>

#include "client/attr_json.h"
#include "client/attr_text.h"
#include "client/dir_listing.h"
#include "client/remote_path.h"
#include "p9/message.h"

namespace ninep::client {
namespace {

bool is_symlink(const Attr& a) {
  return (a.mode & p9::kSIfmt) == p9::kSIflnk;
}

// The ls -l line (or the JSON object) of `f`, at `path`, reading the target of a symlink.
Result<std::string> long_line(const Fid& f, std::string_view path, std::string_view name,
                              Output output) {
  auto a = f.getattr(output == Output::Json ? p9::kGetattrAll : p9::kGetattrBasic);
  if (!a) return std::unexpected(a.error());
  std::string target;
  if (is_symlink(*a))
    if (auto t = f.readlink()) target = std::move(*t);
  if (output == Output::Json) return attr_json(*a, path, name, target);
  return long_listing_line(*a, name, target);
}

}  // namespace

Result<Listing> list_path(const Fid& root, std::string_view path, const ListOptions& opts) {
  auto f = root.walk_path(path);
  if (!f) return std::unexpected(about(path, f.error()));
  Listing out;
  const bool attributes = opts.long_format || opts.output == Output::Json;
  if (!f->is_dir() || opts.directory) {
    if (!attributes) {
      out.lines.emplace_back(path);
      return out;
    }
    auto line = long_line(*f, path, split_parent(path).second, opts.output);
    if (!line) return std::unexpected(about(path, line.error()));
    out.lines.push_back(std::move(*line));
    return out;
  }
  auto dir = f->clone();
  if (!dir) return std::unexpected(about(path, dir.error()));
  if (auto r = dir->lopen(p9::kORdonly | p9::kODirectory); !r)
    return std::unexpected(about(path, r.error()));
  auto entries = read_directory(*dir, opts.max_entries);
  if (!entries) return std::unexpected(about(path, entries.error()));
  dir = Fid();
  std::sort(entries->begin(), entries->end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  out.contents = true;
  for (const auto& e : *entries) {
    if (!opts.all && !e.name.empty() && e.name[0] == '.') continue;
    if (!attributes) {
      out.lines.push_back(e.name + (e.type == p9::kDtDir ? "/" : ""));
      continue;
    }
    auto ef = f->walk({e.name});
    auto line = ef ? long_line(*ef, join_path(path, e.name), e.name, opts.output)
                   : Result<std::string>(std::unexpected(ef.error()));
    if (!line) {
      out.errors.push_back(about(join_path(path, e.name), line.error()));
      continue;
    }
    out.lines.push_back(std::move(*line));
  }
  return out;
}

Result<std::string> stat_path(const Fid& root, std::string_view path, Output output) {
  auto f = root.walk_path(path);
  if (!f) return std::unexpected(about(path, f.error()));
  if (output == Output::Json) {
    auto line = long_line(*f, path, split_parent(path).second, output);
    if (!line) return std::unexpected(about(path, line.error()));
    return *line + "\n";
  }
  auto a = f->getattr(p9::kGetattrAll);
  if (!a) return std::unexpected(about(path, a.error()));
  std::string name(path);
  if (is_symlink(*a))
    if (auto t = f->readlink()) name += " -> " + *t;
  return stat_text(*a, name);
}

Result<std::string> df_path(const Fid& root, std::string_view path, bool human, Output output) {
  auto f = root.walk_path(path);
  if (!f) return std::unexpected(about(path, f.error()));
  auto s = f->statfs();
  if (!s) return std::unexpected(about(path, s.error()));
  if (output == Output::Json) return statfs_json(*s, path) + "\n";
  return df_text(*s, path, human);
}

Result<void> read_remote_file(const Fid& root, std::string_view path, const ContentSink& sink) {
  auto f = root.walk_path(path);
  if (!f) return std::unexpected(about(path, f.error()));
  if (auto r = f->lopen(p9::kORdonly); !r) return std::unexpected(about(path, r.error()));
  std::vector<std::uint8_t> buf(4u << 20);
  std::uint64_t off = 0;
  for (;;) {
    auto n = f->read(off, buf);
    if (!n) return std::unexpected(about(path, n.error()));
    if (*n == 0) return {};
    if (auto r = sink(std::span<const std::uint8_t>(buf.data(), *n)); !r) return r;
    off += *n;
    if (*n < buf.size()) return {};
  }
}

}  // namespace ninep::client
