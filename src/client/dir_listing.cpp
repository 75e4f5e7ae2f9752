#include "client/dir_listing.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "client/session.h"
#include "p9/dirent.h"

namespace ninep::client {

Result<std::vector<DirEntry>> read_directory(const Fid& dir, std::uint64_t max_entries) {
  if (!dir) return fail(EBADF);
  std::vector<std::uint8_t> buf(std::min<std::size_t>(dir.session().max_io(), 256 * 1024));
  std::vector<DirEntry> out;
  // Offsets already asked for: a server whose cookies lead back to one of them would make the
  // loop run forever (re-reading the same entries). One per reply, not per entry.
  std::unordered_set<std::uint64_t> requested;
  std::uint64_t offset = 0;
  for (;;) {
    if (!requested.insert(offset).second)
      return fail(EPROTO,
                  fmt::format("Rreaddir cookies cycle (offset {} requested twice)", offset));
    auto n = dir.readdir_some(offset, buf);
    if (!n) return std::unexpected(n.error());
    if (*n == 0) break;
    p9::DirentReader rd(std::span<const std::uint8_t>(buf.data(), *n));
    std::size_t entries = 0;
    std::uint64_t next = offset;
    for (;;) {
      auto d = rd.next();
      if (!d) return fail(EPROTO, "malformed Rreaddir: " + d.error().message);
      if (!*d) break;
      if (out.size() >= max_entries)
        return fail(E2BIG, fmt::format("directory has more than {} entries", max_entries));
      out.push_back(DirEntry{(*d)->qid, (*d)->offset, (*d)->type, std::string((*d)->name)});
      next = (*d)->offset;
      ++entries;
    }
    if (entries == 0) return fail(EPROTO, "Rreaddir with data but no whole entry");
    if (next == offset) return fail(EPROTO, "Rreaddir did not advance the directory offset");
    offset = next;
  }
  return out;
}

}  // namespace ninep::client
