#include "p9/events.h"

#include <cstring>
#include <string_view>

#include "p9/codec.h"

namespace ninep::p9 {
namespace {

constexpr std::size_t kMaxString = 0xFFFF;

std::uint8_t* put_qid(std::uint8_t* p, const Qid& q) {
  p[0] = q.type;
  store_le32(p + 1, q.version);
  store_le64(p + 5, q.path);
  return p + kQidSize;
}

std::uint8_t* put_str(std::uint8_t* p, const std::string& s) {
  store_le16(p, static_cast<std::uint16_t>(s.size()));
  if (!s.empty()) std::memcpy(p + 2, s.data(), s.size());
  return p + 2 + s.size();
}

// Reads fields of one record, never past `end`.
struct Reader {
  const std::uint8_t* p;
  const std::uint8_t* end;
  bool ok = true;

  Qid qid() {
    Qid q;
    if (end - p < static_cast<std::ptrdiff_t>(kQidSize)) {
      ok = false;
      return q;
    }
    q.type = p[0];
    q.version = load_le32(p + 1);
    q.path = load_le64(p + 5);
    p += kQidSize;
    return q;
  }
  std::string str() {
    if (end - p < 2) {
      ok = false;
      return {};
    }
    const std::size_t n = load_le16(p);
    if (static_cast<std::size_t>(end - p - 2) < n) {
      ok = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(p + 2), n);
    p += 2 + n;
    return s;
  }
};

bool known(std::uint8_t kind) {
  return kind >= static_cast<std::uint8_t>(EventKind::Create) &&
         kind <= static_cast<std::uint8_t>(EventKind::Unwatched);
}

}  // namespace

const char* event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::Create:
      return "CREATE";
    case EventKind::Remove:
      return "REMOVE";
    case EventKind::Rename:
      return "RENAME";
    case EventKind::Attrib:
      return "ATTRIB";
    case EventKind::Modify:
      return "MODIFY";
    case EventKind::Overflow:
      return "OVERFLOW";
    case EventKind::Unwatched:
      return "UNWATCHED";
  }
  return "UNKNOWN";
}

std::size_t event_size(const Event& e) {
  return kEventFixedSize + e.path.size() + e.name.size() + e.to_path.size() + e.to_name.size();
}

Result<std::size_t> encode_event(std::span<std::uint8_t> out, const Event& e) {
  for (const std::string* s : {&e.path, &e.name, &e.to_path, &e.to_name})
    if (s->size() > kMaxString) return fail(EINVAL, "event string longer than 65535 bytes");
  const std::size_t size = event_size(e);
  if (size > out.size()) return fail(ENOBUFS, "event record does not fit");
  std::uint8_t* p = out.data();
  store_le32(p, static_cast<std::uint32_t>(size));
  p[4] = static_cast<std::uint8_t>(e.kind);
  p[5] = e.flags;
  p = put_qid(p + 6, e.dir_qid);
  p = put_qid(p, e.qid);
  p = put_str(p, e.path);
  p = put_str(p, e.name);
  p = put_qid(p, e.to_dir_qid);
  p = put_str(p, e.to_path);
  put_str(p, e.to_name);
  return size;
}

Result<std::vector<Event>> decode_events(Bytes batch) {
  std::vector<Event> out;
  std::size_t at = 0;
  while (at < batch.size()) {
    if (batch.size() - at < 6) return fail(EPROTO, "event record: truncated header");
    const std::uint32_t size = load_le32(batch.data() + at);
    if (size < 6) return fail(EPROTO, "event record: size below its header");
    if (size > batch.size() - at) return fail(EPROTO, "event record: size beyond the batch");
    const std::uint8_t kind = batch[at + 4];
    if (known(kind)) {
      if (size < kEventFixedSize) return fail(EPROTO, "event record: size below its fixed part");
      Reader r{batch.data() + at + 6, batch.data() + at + size};
      Event e;
      e.kind = static_cast<EventKind>(kind);
      e.flags = batch[at + 5];
      e.dir_qid = r.qid();
      e.qid = r.qid();
      e.path = r.str();
      e.name = r.str();
      e.to_dir_qid = r.qid();
      e.to_path = r.str();
      e.to_name = r.str();
      if (!r.ok) return fail(EPROTO, "event record: a field runs past the record's size");
      if (r.p != r.end) return fail(EPROTO, "event record: bytes left after its last field");
      out.push_back(std::move(e));
    }
    at += size;
  }
  return out;
}

}  // namespace ninep::p9
