// Change-event records: what the server sends on an events subscription (docs/events.md).
// Each Rread of the subscription carries whole records, little-endian like all of 9P:
//   size[4] kind[1] flags[1] dir_qid[13] qid[13] path[s] name[s] to_dir_qid[13] to_path[s]
//   to_name[s]
// where size counts the whole record and [s] is a 2-byte length followed by that many bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "p9/message.h"

namespace ninep::p9 {

enum class EventKind : std::uint8_t {
  Create = 1,
  Remove = 2,
  Rename = 3,
  Attrib = 4,     // attributes changed
  Modify = 5,     // data changed
  Overflow = 6,   // events were lost: revalidate everything
  Unwatched = 7,  // the directory is no longer watched: what is cached below it is not kept fresh
};

inline constexpr std::uint8_t kEventIsDir = 1;  // flags bit 0: the entry is a directory

// The fixed part of a record (everything but the strings' bytes).
inline constexpr std::size_t kEventFixedSize = 4 + 1 + 1 + 3 * kQidSize + 4 * 2;

struct Event {
  EventKind kind = EventKind::Overflow;
  std::uint8_t flags = 0;
  Qid dir_qid;       // the directory the entry is in
  Qid qid;           // the entry (zero when unknown, e.g. removed)
  std::string path;  // the directory, below the export root ("" for the root)
  std::string name;  // the entry ("" for the directory itself)
  Qid to_dir_qid;    // Rename: where it went
  std::string to_path;
  std::string to_name;
  friend bool operator==(const Event&, const Event&) = default;
};

const char* event_kind_name(EventKind k);

// Bytes of `e` encoded.
std::size_t event_size(const Event& e);
// Encodes one record at the start of `out`; returns its size. ENOBUFS when `out` is too small,
// EINVAL when a string is longer than 65535 bytes.
Result<std::size_t> encode_event(std::span<std::uint8_t> out, const Event& e);
// Decodes a batch of whole records (an Rread's data). Records of a kind this decoder does not
// know are skipped by their size. EPROTO names what is malformed (a size below the fixed part or
// beyond the batch, a string running past its record).
Result<std::vector<Event>> decode_events(Bytes batch);

}  // namespace ninep::p9
