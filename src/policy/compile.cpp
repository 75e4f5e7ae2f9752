// compile: Rules to the cBPF program that runs over request records (record.h).
//
// Each rule becomes one block: its matchers in turn, each jumping to the next rule's block when
// it fails, then `ret VERDICT`. A matcher loads its field once and compares it with each of its
// values, so the program grows linearly with the rules and their values. Names and paths are
// compared 4, 2 and 1 bytes at a time after their length, so no load reads past the record of a
// request encode() accepted.
//
// Code is generated with symbolic labels (all jumps go forward) and laid out from the end: when a
// conditional jump is placed, its targets already are, and a target more than 255 instructions
// away is reached through an inserted `ja` (which has 32 bits of offset).
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "policy/rules.h"

namespace ninep::policy {

namespace {

// Opcodes (linux/filter.h).
constexpr std::uint16_t kLdW = 0x20, kLdH = 0x28, kLdB = 0x30;           // ld [k]
constexpr std::uint16_t kLdIndW = 0x40, kLdIndH = 0x48, kLdIndB = 0x50;  // ld [x + k]
constexpr std::uint16_t kLdImm = 0x00;                                   // ld #k
constexpr std::uint16_t kAddK = 0x04, kAndK = 0x54, kTax = 0x07;
constexpr std::uint16_t kJa = 0x05, kJeq = 0x15, kJge = 0x35, kJset = 0x45, kRetK = 0x06;

constexpr std::uint32_t kTlcreate = 14, kTsymlink = 16, kTmknod = 18, kTxattrwalk = 30,
                        kTxattrcreate = 32, kTmkdir = 72;

constexpr int kNext = -1;  // a jump target: the instruction that follows

class Emitter {
 public:
  int label() { return labels_++; }
  void bind(int label) { ir_.push_back({Kind::Label, {}, label, kNext}); }
  void op(std::uint16_t code, std::uint32_t k = 0) { ir_.push_back({Kind::Op, {code, 0, 0, k}}); }
  void jump(int target) {
    if (target != kNext) ir_.push_back({Kind::Goto, {kJa, 0, 0, 0}, target, kNext});
  }
  // if (A test k) goto on_true else goto on_false.
  void cond(std::uint16_t test, std::uint32_t k, int on_true, int on_false) {
    ir_.push_back({Kind::Cond, {test, 0, 0, k}, on_true, on_false});
  }

  bpf::Program finish() const {
    std::vector<bpf::RawInstruction> rev;  // the program, last instruction first
    // For each bound label, how many instructions follow its position (its instruction included).
    std::vector<std::size_t> mark(static_cast<std::size_t>(labels_), 0);
    auto at = [&](int target) { return target == kNext ? rev.size() : mark[target]; };
    // For each label, the last `ja` placed to reach it from afar: the jumps before it share it.
    std::vector<std::size_t> trampoline(static_cast<std::size_t>(labels_), 0);
    // Where a conditional jump placed next goes for `target`: the target itself, a trampoline to
    // it within reach, or a new trampoline placed now. `reach` is 254 for the true target, so
    // that it stays within 255 when the false target's trampoline goes in between.
    auto near = [&](int target, std::size_t reach) {
      const std::size_t m = at(target);
      if (rev.size() - m <= reach) return m;
      const std::size_t tr = trampoline[target];
      if (tr != 0 && rev.size() - tr <= reach) return tr;
      rev.push_back({kJa, 0, 0, static_cast<std::uint32_t>(rev.size() - m)});
      trampoline[target] = rev.size();
      return rev.size();
    };
    for (auto it = ir_.rbegin(); it != ir_.rend(); ++it) {
      switch (it->kind) {
        case Kind::Label:
          mark[it->a] = rev.size();
          break;
        case Kind::Op:
          rev.push_back(it->raw);
          break;
        case Kind::Goto: {
          const std::size_t skip = rev.size() - at(it->a);
          rev.push_back({kJa, 0, 0, static_cast<std::uint32_t>(skip)});
          break;
        }
        case Kind::Cond: {
          const std::size_t t = near(it->a, 254);
          const std::size_t f = near(it->b, 255);
          bpf::RawInstruction j = it->raw;
          j.jt = static_cast<std::uint8_t>(rev.size() - t);
          j.jf = static_cast<std::uint8_t>(rev.size() - f);
          rev.push_back(j);
          break;
        }
      }
    }
    std::reverse(rev.begin(), rev.end());
    return rev;
  }

 private:
  enum class Kind { Label, Op, Goto, Cond };
  struct Item {
    Kind kind;
    bpf::RawInstruction raw;
    int a = kNext;  // Label: the label; Goto: the target; Cond: the true target
    int b = kNext;  // Cond: the false target
  };
  std::vector<Item> ir_;
  int labels_ = 0;
};

class RuleCompiler {
 public:
  explicit RuleCompiler(Emitter& e) : e_(e) {}

  void rule(const Rule& r) {
    const int fail = e_.label();
    if (!r.types.empty()) {
      e_.op(kLdW, offsets::kType);
      any_equal(r.types, fail);
    }
    if (!r.uids.empty()) field_in(offsets::kUid, r.uids, fail);
    if (!r.gids.empty()) field_in(offsets::kGid, r.gids, fail);
    if (!r.exports.empty()) field_in(offsets::kExport, r.exports, fail);
    if (!r.file_types.empty()) file_type(r.file_types, fail);
    if (r.has_flags) flags(r, fail);
    if (!r.names.empty()) names(r.names, fail);
    if (!r.paths.empty()) paths(r.paths, fail);
    e_.op(kRetK, r.verdict);
    e_.bind(fail);
  }

 private:
  // A is one of `values`, or goto fail.
  void any_equal(const std::vector<std::uint32_t>& values, int fail) {
    const int ok = e_.label();
    for (std::size_t i = 0; i + 1 < values.size(); ++i) e_.cond(kJeq, values[i], ok, kNext);
    e_.cond(kJeq, values.back(), kNext, fail);
    e_.bind(ok);
  }

  void field_in(std::uint32_t offset, const std::vector<std::uint32_t>& values, int fail) {
    e_.op(kLdW, offset);
    any_equal(values, fail);
  }

  // The created type for the creating requests, file_type otherwise (effective_file_type).
  void file_type(const std::vector<std::uint32_t>& types, int fail) {
    const int mknod = e_.label(), reg = e_.label(), dir = e_.label(), lnk = e_.label(),
              compare = e_.label();
    e_.op(kLdW, offsets::kType);
    e_.cond(kJeq, kTmknod, mknod, kNext);
    e_.cond(kJeq, kTlcreate, reg, kNext);
    e_.cond(kJeq, kTmkdir, dir, kNext);
    e_.cond(kJeq, kTsymlink, lnk, kNext);
    e_.op(kLdW, offsets::kFileType);
    e_.jump(compare);
    e_.bind(mknod);
    e_.op(kLdW, offsets::kMode);
    e_.op(kAndK, 0170000);
    e_.jump(compare);
    e_.bind(reg);
    e_.op(kLdImm, 0100000);
    e_.jump(compare);
    e_.bind(dir);
    e_.op(kLdImm, 0040000);
    e_.jump(compare);
    e_.bind(lnk);
    e_.op(kLdImm, 0120000);
    e_.bind(compare);
    any_equal(types, fail);
  }

  void flags(const Rule& r, int fail) {
    e_.op(kLdW, offsets::kFlags);
    if (r.access_modes.empty()) {
      e_.cond(kJset, r.flag_bits, kNext, fail);
      return;
    }
    const int ok = e_.label();
    if (r.flag_bits != 0) e_.cond(kJset, r.flag_bits, ok, kNext);
    e_.op(kAndK, 3);
    any_equal(r.access_modes, fail);
    e_.bind(ok);
  }

  // The bytes of `text` at offset `base` (from X when `indirect`), or goto fail. The caller has
  // checked that they lie inside the record.
  void bytes_equal(std::uint32_t base, std::string_view text, bool indirect, int fail) {
    std::size_t i = 0;
    auto byte = [&](std::size_t j) { return static_cast<std::uint8_t>(text[j]); };
    while (i < text.size()) {
      const std::size_t left = text.size() - i;
      std::uint32_t word = 0;
      std::uint16_t code = 0;
      std::size_t n = 0;
      if (left >= 4) {
        word = std::uint32_t{byte(i)} << 24 | std::uint32_t{byte(i + 1)} << 16 |
               std::uint32_t{byte(i + 2)} << 8 | byte(i + 3);
        code = indirect ? kLdIndW : kLdW;
        n = 4;
      } else if (left >= 2) {
        word = std::uint32_t{byte(i)} << 8 | byte(i + 1);
        code = indirect ? kLdIndH : kLdH;
        n = 2;
      } else {
        word = byte(i);
        code = indirect ? kLdIndB : kLdB;
        n = 1;
      }
      e_.op(code, base + static_cast<std::uint32_t>(i));
      e_.cond(kJeq, word, kNext, fail);
      i += n;
    }
  }

  void name(const NamePattern& p, int fail) {
    const auto n = static_cast<std::uint32_t>(p.text.size());
    e_.op(kLdW, offsets::kNameLen);
    switch (p.kind) {
      case NamePattern::Kind::Exact:
        e_.cond(kJeq, n, kNext, fail);
        bytes_equal(offsets::kName, p.text, false, fail);
        break;
      case NamePattern::Kind::Prefix:
        e_.cond(kJge, n, kNext, fail);
        bytes_equal(offsets::kName, p.text, false, fail);
        break;
      case NamePattern::Kind::Suffix:
        // X = 64 + name_len - n, the suffix's offset (name_len >= n, so no wrap-around).
        e_.cond(kJge, n, kNext, fail);
        e_.op(kAddK, offsets::kName - n);  // modulo 2^32: adds 64 - n
        e_.op(kTax);
        bytes_equal(0, p.text, true, fail);
        break;
    }
  }

  // Tries each alternative; the first that passes goes on to `ok`.
  template <typename T, typename Emit>
  void any_of(const std::vector<T>& alternatives, int fail, Emit&& emit) {
    const int ok = e_.label();
    for (std::size_t i = 0; i < alternatives.size(); ++i) {
      const bool last = i + 1 == alternatives.size();
      const int next = last ? fail : e_.label();
      emit(alternatives[i], ok, next);
      if (!last) {
        e_.jump(ok);
        e_.bind(next);
      }
    }
    e_.bind(ok);
  }

  void names(const std::vector<NamePattern>& patterns, int fail) {
    any_of(patterns, fail, [&](const NamePattern& p, int, int next) { name(p, next); });
  }

  // path_matches(): path is DIR or below it, or (not an xattr request) path is DIR's parent and
  // name is DIR's last component.
  void path(const std::string& dir, int ok, int fail) {
    const auto n = static_cast<std::uint32_t>(dir.size());
    const int named = e_.label();
    e_.op(kLdW, offsets::kPathLen);
    e_.cond(kJge, n, kNext, named);
    bytes_equal(offsets::kPath, dir, false, named);
    e_.op(kLdW, offsets::kPathLen);
    e_.cond(kJeq, n, ok, kNext);
    e_.op(kLdB, offsets::kPath + n);  // path_len > n: inside the record
    e_.cond(kJeq, '/', ok, named);

    e_.bind(named);
    const auto slash = dir.rfind('/');
    const std::string_view parent =
        slash == std::string::npos ? std::string_view() : std::string_view(dir).substr(0, slash);
    const std::string_view base = slash == std::string::npos
                                      ? std::string_view(dir)
                                      : std::string_view(dir).substr(slash + 1);
    e_.op(kLdW, offsets::kType);
    e_.cond(kJeq, kTxattrwalk, fail, kNext);
    e_.cond(kJeq, kTxattrcreate, fail, kNext);
    e_.op(kLdW, offsets::kPathLen);
    e_.cond(kJeq, static_cast<std::uint32_t>(parent.size()), kNext, fail);
    bytes_equal(offsets::kPath, parent, false, fail);
    e_.op(kLdW, offsets::kNameLen);
    e_.cond(kJeq, static_cast<std::uint32_t>(base.size()), kNext, fail);
    bytes_equal(offsets::kName, base, false, fail);
  }

  void paths(const std::vector<std::string>& dirs, int fail) {
    any_of(dirs, fail, [&](const std::string& d, int ok, int next) { path(d, ok, next); });
  }

  Emitter& e_;
};

}  // namespace

bpf::Program compile(const Rules& rules) {
  Emitter e;
  RuleCompiler c(e);
  for (const Rule& r : rules.rules) c.rule(r);
  // parse_rules ends every policy with a rule that matches all; Rules built otherwise refuse.
  if (rules.rules.empty() || !rules.rules.back().matches_all()) e.op(kRetK, kErrno | EACCES);
  return e.finish();
}

}  // namespace ninep::policy
