// A fake 9P server for a small in-memory tree whose listings are whatever the test says, hostile
// ones included: names with '/', "..", duplicates, readdir cookies that cycle, listings that never
// end, directories that contain themselves. It answers the requests a download makes (attach,
// walk, getattr, lopen, readdir, read, readlink, clunk) and those of mkdir and rm (mkdir,
// unlinkat) on a FakeServer, from a thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fake_server.h"

namespace ninep::testing {

class FakeTree {
 public:
  enum class Listing {
    Normal,   // entries in order, then the end
    Wrap,     // after the last entry, starts again at the first (cookies cycle)
    Endless,  // "e0", "e1", ... with fresh cookies forever, all naming node `endless_node`
  };
  struct Entry {
    std::string name;
    std::size_t node = 0;
    std::uint64_t cookie = 0;  // 0: index + 1
  };
  struct Node {
    std::uint32_t mode = 0;  // S_IF* | permissions
    std::string data;        // file contents or link target
    std::vector<Entry> entries;
    std::size_t parent = 0;
    Listing listing = Listing::Normal;
    std::size_t per_reply = 0;  // most entries per Rreaddir (0: as many as fit)
    std::size_t endless_node = 0;
  };

  // Node 0 is the root directory.
  FakeTree();
  ~FakeTree();
  std::size_t add_dir(std::size_t parent, std::string name, std::uint32_t perm = 0755);
  std::size_t add_file(std::size_t parent, std::string name, std::string data,
                       std::uint32_t perm = 0644);
  std::size_t add_symlink(std::size_t parent, std::string name, std::string target);
  std::size_t add_node(std::size_t parent, std::string name, std::uint32_t mode);
  // Lists `node` under `name` in `dir` (no new node: links, duplicates, cycles).
  void add_entry(std::size_t dir, std::string name, std::size_t node);
  Node& node(std::size_t i) { return nodes_[i]; }

  // Starts answering on `fake` (Tversion included) until the client closes its end.
  void serve(FakeServer& fake);
  // Waits for the serving thread (after the client's session has been shut down).
  void join();
  // Treaddir requests answered so far.
  std::size_t readdirs() const { return readdirs_; }
  // Names removed by Tunlinkat, in order, as "DIRNODE/NAME" (read after join()).
  const std::vector<std::string>& unlinked() const { return unlinked_; }
  // Tunlinkat requests received, whether they succeeded or not.
  std::size_t unlinkats() const { return unlinkats_; }

 private:
  void run(FakeServer& fake);
  p9::Qid qid(std::size_t node) const;
  std::vector<Node> nodes_;
  std::map<std::uint32_t, std::size_t> fids_;
  std::thread thread_;
  std::size_t readdirs_ = 0;
  std::size_t unlinkats_ = 0;
  std::vector<std::string> unlinked_;
};

}  // namespace ninep::testing
