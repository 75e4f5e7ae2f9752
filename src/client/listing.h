// What the reading client commands show for a remote path: `ls` lines, the `stat` block, the `df`
// table (or, with Output::Json, one JSON object per file: client/attr_json.h), and a file's
// contents (`cat`). Errors name the path they are about.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/fid.h"
#include "common/error.h"

namespace ninep::client {

// Text for people, or JSON Lines (client/attr_json.h) for scripts.
enum class Output { Text, Json };

struct ListOptions {
  bool long_format = false;      // long_listing_line() per entry
  bool all = false;              // include names starting with '.'
  bool directory = false;        // a directory as itself, not its contents
  Output output = Output::Text;  // Json: attr_json() per entry (long_format is then ignored)
  // A listing longer than this is an error (E2BIG), not unbounded memory.
  std::uint64_t max_entries = 1'000'000;
};

struct Listing {
  // True when the lines are the contents of a directory (`ls` then shows a "PATH:" header).
  bool contents = false;
  // In name order; short format marks directories with a trailing '/'. Json: one object each.
  std::vector<std::string> lines;
  // Entries that could not be shown (their paths named); the other entries are still listed.
  std::vector<Error> errors;
};

// What `ls` shows for `path` below `root`: the path itself when it is not a directory (or with
// `directory`), else its entries.
Result<Listing> list_path(const Fid& root, std::string_view path, const ListOptions& opts);

// The `stat` block for `path` (a symlink's name followed by " -> target"), or its JSON line.
Result<std::string> stat_path(const Fid& root, std::string_view path, Output output = Output::Text);

// The `df` table for the file system holding `path` (`human`: sizes with units), or its JSON line.
Result<std::string> df_path(const Fid& root, std::string_view path, bool human,
                            Output output = Output::Text);

// Calls `sink` with the contents of the remote file `path`, in order, one buffer at a time. A
// remote failure is an error naming `path`; an error from `sink` ends the copy and is returned
// as it is.
using ContentSink = std::function<Result<void>(std::span<const std::uint8_t>)>;
Result<void> read_remote_file(const Fid& root, std::string_view path, const ContentSink& sink);

}  // namespace ninep::client
