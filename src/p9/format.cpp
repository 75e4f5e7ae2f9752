// One-line rendering of frames: "Name tag=T field=value ...", fields in wire order.
#include "p9/format.h"

#include <fmt/format.h>

#include <cstring>
#include <iterator>

#include "p9/dirent.h"
#include "p9/fields.h"

namespace ninep::p9 {
namespace {

using Out = fmt::memory_buffer;

void append(Out& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

void append_string(Out& out, std::string_view s) {
  bool plain = !s.empty();
  for (unsigned char c : s) {
    if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '[' || c == ']' || c == '{' ||
        c == '}') {
      plain = false;
      break;
    }
  }
  if (plain) return append(out, s);
  out.push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(char(c));
    } else if (c < ' ' || c >= 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else {
      out.push_back(char(c));
    }
  }
  out.push_back('"');
}

void append_qid(Out& out, const Qid& q) {
  fmt::format_to(std::back_inserter(out), "({:02x} {} {})", q.type, q.version, q.path);
}

// Named bits in order; leftover bits are shown in hex.
struct BitName {
  std::uint32_t bit;
  const char* name;
};

void append_bits(Out& out, std::uint32_t v, std::span<const BitName> names, bool have_prefix) {
  for (const auto& b : names) {
    if (!(v & b.bit)) continue;
    if (have_prefix) out.push_back('|');
    append(out, b.name);
    have_prefix = true;
    v &= ~b.bit;
  }
  if (v != 0 || !have_prefix) {
    if (have_prefix) out.push_back('|');
    fmt::format_to(std::back_inserter(out), "{:#x}", v);
  }
}

void append_open_flags(Out& out, std::uint32_t flags) {
  static constexpr const char* kAccess[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_NOACCESS"};
  static constexpr BitName kBits[] = {
      {kOCreate, "O_CREAT"},        {kOExcl, "O_EXCL"},           {kONoctty, "O_NOCTTY"},
      {kOTrunc, "O_TRUNC"},         {kOAppend, "O_APPEND"},       {kONonblock, "O_NONBLOCK"},
      {kODsync, "O_DSYNC"},         {kOFasync, "O_FASYNC"},       {kODirect, "O_DIRECT"},
      {kOLargefile, "O_LARGEFILE"}, {kODirectory, "O_DIRECTORY"}, {kONofollow, "O_NOFOLLOW"},
      {kONoatime, "O_NOATIME"},     {kOCloexec, "O_CLOEXEC"},     {kOSync, "O_SYNC"},
  };
  append(out, kAccess[flags & kOAccmode]);
  if (flags & ~kOAccmode) append_bits(out, flags & ~kOAccmode, kBits, true);
}

std::string_view dt_name(std::uint8_t t) {
  switch (t) {
    case kDtUnknown:
      return "unknown";
    case kDtFifo:
      return "fifo";
    case kDtChr:
      return "chr";
    case kDtDir:
      return "dir";
    case kDtBlk:
      return "blk";
    case kDtReg:
      return "reg";
    case kDtLnk:
      return "lnk";
    case kDtSock:
      return "sock";
    default:
      return {};
  }
}

void append_dirents(Out& out, Bytes data) {
  constexpr int kMaxShown = 16;
  DirentReader r(data);
  append(out, " entries=[");
  for (int i = 0;; ++i) {
    auto d = r.next();
    if (!d) {
      fmt::format_to(std::back_inserter(out), "{}<malformed: {}>", i ? " " : "", d.error().message);
      break;
    }
    if (!*d) break;
    if (i == kMaxShown) {
      int more = 1;
      while (true) {
        auto e = r.next();
        if (!e || !*e) break;
        ++more;
      }
      fmt::format_to(std::back_inserter(out), " +{} more", more);
      break;
    }
    const Dirent& e = **d;
    append(out, i ? " {" : "{");
    append_string(out, e.name);
    out.push_back(' ');
    append_qid(out, e.qid);
    fmt::format_to(std::back_inserter(out), " off={} ", e.offset);
    if (auto n = dt_name(e.type); !n.empty())
      append(out, n);
    else
      fmt::format_to(std::back_inserter(out), "dt{}", e.type);
    out.push_back('}');
  }
  out.push_back(']');
}

// Renders each field as " name=value", choosing a readable form by message type and field name.
class Formatter {
 public:
  Formatter(Out& out, Type type) : out_(out), type_(type) {}

  void u8(const char* name, std::uint8_t v) {
    key(name);
    bool is_lock_type =
        (type_ == Type::Tlock || type_ == Type::Tgetlock || type_ == Type::Rgetlock) &&
        is(name, "type");
    static constexpr const char* kLockTypes[] = {"RDLCK", "WRLCK", "UNLCK"};
    static constexpr const char* kLockStatus[] = {"SUCCESS", "BLOCKED", "ERROR", "GRACE"};
    if (is_lock_type && v < 3)
      append(out_, kLockTypes[v]);
    else if (type_ == Type::Rlock && v < 4)
      append(out_, kLockStatus[v]);
    else
      fmt::format_to(it(), "{}", v);
  }
  void u16(const char* name, std::uint16_t v) {
    key(name);
    fmt::format_to(it(), "{}", v);
  }
  void u32(const char* name, std::uint32_t v) {
    key(name);
    if (is(name, "flags") && (type_ == Type::Tlopen || type_ == Type::Tlcreate)) {
      append_open_flags(out_, v);
    } else if (is(name, "flags") && type_ == Type::Tlock) {
      static constexpr BitName kBits[] = {{kLockFlagBlock, "BLOCK"}, {kLockFlagReclaim, "RECLAIM"}};
      append_bits(out_, v, kBits, false);
    } else if (is(name, "flags") && type_ == Type::Tunlinkat) {
      static constexpr BitName kBits[] = {{kAtRemovedir, "AT_REMOVEDIR"}};
      append_bits(out_, v, kBits, false);
    } else if (is(name, "mode")) {
      fmt::format_to(it(), "{:#o}", v);
    } else if (is(name, "valid") || is(name, "flags") ||
               (is(name, "type") && type_ == Type::Rstatfs)) {
      fmt::format_to(it(), "{:#x}", v);
    } else if (is(name, "ecode")) {
      const char* sym = strerrorname_np(int(v));
      const char* text = strerrordesc_np(int(v));
      fmt::format_to(it(), "{} ({}: {})", v, sym ? sym : "?", text ? text : "unknown error");
    } else if (v == kNoFid && (is(name, "afid") || is(name, "fid") || is(name, "newfid"))) {
      append(out_, "NOFID");
    } else if (v == kNoUid && is(name, "n_uname")) {
      append(out_, "NONUNAME");
    } else {
      fmt::format_to(it(), "{}", v);
    }
  }
  void u64(const char* name, std::uint64_t v) {
    key(name);
    if (is(name, "request_mask") || is(name, "valid") || is(name, "fsid"))
      fmt::format_to(it(), "{:#x}", v);
    else
      fmt::format_to(it(), "{}", v);
  }
  void qid(const char* name, const Qid& q) {
    key(name);
    append_qid(out_, q);
  }
  void str(const char* name, std::string_view s) {
    key(name);
    append_string(out_, s);
  }
  void data(const char*, Bytes d) {
    fmt::format_to(it(), " count={}", d.size());
    if (type_ == Type::Rreaddir) return append_dirents(out_, d);
    constexpr std::size_t kPreview = 16;
    if (d.empty()) return;
    append(out_, " data=");
    for (std::size_t i = 0; i < d.size() && i < kPreview; ++i) fmt::format_to(it(), "{:02x}", d[i]);
    if (d.size() > kPreview) append(out_, "...");
  }
  void wnames(std::uint16_t n, const std::array<std::string_view, kMaxWalkElems>& names) {
    append(out_, " wnames=[");
    for (std::size_t i = 0; i < n && i < kMaxWalkElems; ++i) {
      if (i) out_.push_back(' ');
      append_string(out_, names[i]);
    }
    out_.push_back(']');
    if (n > kMaxWalkElems) fmt::format_to(it(), " nwname={}(invalid)", n);
  }
  void qids(std::uint16_t n, const std::array<Qid, kMaxWalkElems>& qs) {
    append(out_, " qids=[");
    for (std::size_t i = 0; i < n && i < kMaxWalkElems; ++i) {
      if (i) out_.push_back(' ');
      append_qid(out_, qs[i]);
    }
    out_.push_back(']');
    if (n > kMaxWalkElems) fmt::format_to(it(), " nwqid={}(invalid)", n);
  }

 private:
  static bool is(const char* a, const char* b) { return std::strcmp(a, b) == 0; }
  std::back_insert_iterator<Out> it() { return std::back_inserter(out_); }
  void key(const char* name) {
    out_.push_back(' ');
    append(out_, name);
    out_.push_back('=');
  }

  Out& out_;
  Type type_;
};

}  // namespace

std::string to_string(const Fcall& f) {
  Out out;
  Type type = type_of(f.msg);
  append(out, type_name(type));
  if (f.tag == kNoTag)
    append(out, " tag=NOTAG");
  else
    fmt::format_to(std::back_inserter(out), " tag={}", f.tag);
  Formatter fm(out, type);
  std::visit([&](const auto& m) { wire::fields(fm, m); }, f.msg);
  return fmt::to_string(out);
}

std::string to_string(const Qid& q) {
  Out out;
  append_qid(out, q);
  return fmt::to_string(out);
}

}  // namespace ninep::p9
