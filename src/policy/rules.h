// The rule language of request policies, compiled to the cBPF program that runs over each
// request's record (record.h), as libseccomp compiles rules to a seccomp filter. docs/policy.md is
// the reference; in short, one rule a line, the first that matches decides:
//
//   deny ENOENT walk,readdir name=.ssh       # hide it
//   deny EROFS write,create,remove,rename,setattr,xattr path=.git
//   allow uid=1000 write
//   deny EPERM create type=chr,blk,fifo,sock
//   allow all                                # the last rule must match every request
//
//   RULE     := ACTION [CLASSES] MATCHER*      (CLASSES and MATCHERs in any order)
//   ACTION   := allow | log | deny ERRNO | kill
//   CLASSES  := all | CLASS[,CLASS...]         (read, write, open, create, remove, rename, setattr,
//                                               getattr, xattr, lock, walk, readdir, attach, or a
//                                               message name such as Tlopen)
//   MATCHER  := name=PAT[,PAT...] | path=DIR[,DIR...] | uid=N[,N...] | gid=N[,...]
//             | export=N[,...] | type=T[,T...] | flags=F[,F...]
//
// A rule matches a request when its class list (if any) contains the request's message type and
// every matcher it has matches; within one matcher's list, any value may match.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/text.h"
#include "common/error.h"
#include "policy/record.h"

namespace ninep::policy {

// name=: a name equal to `text`, starting with it (`text*`) or ending with it (`*text`).
struct NamePattern {
  enum class Kind { Exact, Prefix, Suffix };
  Kind kind = Kind::Exact;
  std::string text;  // 1 to kMaxName bytes, no '/'
  friend bool operator==(const NamePattern&, const NamePattern&) = default;
};

struct Rule {
  std::size_t line = 0;              // 1-based line of the rule in its text
  std::uint32_t verdict = 0;         // kAllow, kLog, kErrno | errno or kKill
  std::vector<std::uint32_t> types;  // 9P message types; empty: every request
  std::vector<NamePattern> names;    // empty: no name matcher
  std::vector<std::string> paths;    // normalised: no leading or trailing '/', not ""
  std::vector<std::uint32_t> uids, gids, exports;
  std::vector<std::uint32_t> file_types;  // S_IFMT values (S_IFREG 0100000, ...)
  // flags=: bits that may be set (any), and open access modes (flags & O_ACCMODE) that may hold.
  bool has_flags = false;
  std::uint32_t flag_bits = 0;
  std::vector<std::uint32_t> access_modes;  // subset of {O_RDONLY 0, O_WRONLY 1, O_RDWR 2}

  // No classes and no matchers: the rule matches every request.
  bool matches_all() const;
  friend bool operator==(const Rule&, const Rule&) = default;
};

struct Rules {
  std::vector<Rule> rules;  // at least one; the last matches every request
};

// Parses a rule file. Errors (EINVAL) say where: "line 3, column 14: unknown errno 'ENOPE'".
// Refused besides syntax errors: a file without rules, a last rule that does not match every
// request, a rule after one that matches every request (it could never match), and rules that
// would compile to more instructions than a cBPF program may have (4096).
Result<Rules> parse_rules(std::string_view text);

// The cBPF program for `rules` (parsed by parse_rules): it returns, for an encoded record, the
// verdict of the first rule that matches. Its size grows linearly with the rules; it passes
// bpf::validate, never reads past the record of a request encode() accepted and returns the
// same verdict as evaluate() for every such record.
bpf::Program compile(const Rules& rules);

// parse_rules, then compile.
Result<bpf::Program> compile_rules(std::string_view text);

// Which rule decides a request, evaluated directly (what the program computes, for tests and
// `ninep policy test`).
struct Match {
  std::uint32_t verdict = 0;
  std::optional<std::size_t> rule;  // index into Rules::rules; empty when none applies
  std::size_t line = 0;             // that rule's line, or 0
};
// A record encode() refuses (name or path too long) is refused with EACCES by no rule, as the
// server refuses it without running the program.
Match match(const Rules& rules, const RequestRecord& record);
std::uint32_t evaluate(const Rules& rules, const RequestRecord& record);

// Whether each matcher holds for `record` (the parts match() combines).
bool class_matches(const Rule& rule, const RequestRecord& record);
bool name_matches(const NamePattern& pattern, std::string_view name);
// path=DIR: see docs/policy.md ("What path= matches").
bool path_matches(std::string_view dir, const RequestRecord& record);
// The file type type= compares: the created type for Tlcreate (S_IFREG), Tmkdir (S_IFDIR),
// Tsymlink (S_IFLNK) and Tmknod (mode & S_IFMT); file_type for every other request.
std::uint32_t effective_file_type(const RequestRecord& record);

// Which names can change a verdict. A rule looks at a name through its name= patterns and
// through path=DIR (the request naming DIR in its parent). A name that starts with no exact or
// prefix pattern's first two bytes (nor a DIR's last component's) and ends with no suffix
// pattern's last two matches none of them: every such name gets the verdict the other fields
// give. A listing judges each of its entries as a walk: the screen spares it running the program
// for the names no rule mentions.
class NameScreen {
 public:
  NameScreen() = default;  // every name may matter
  explicit NameScreen(const Rules& rules);
  bool may_matter(std::string_view name) const {
    if (all_ || name.size() < 2) return true;
    return starts_[key(name[0], name[1])] || ends_[key(name[name.size() - 2], name.back())];
  }

 private:
  static std::size_t key(char a, char b) {
    return static_cast<std::size_t>(static_cast<unsigned char>(a)) << 8 |
           static_cast<unsigned char>(b);
  }
  void starts_with(std::string_view text);
  void ends_with(std::string_view text);
  bool all_ = true;
  std::bitset<65536> starts_, ends_;  // by the first (last) two bytes
};

// Names the language knows, for messages and the docs: the 9P message type of a message name
// ("Tlopen" -> 12), and an errno's value by name ("EACCES") and name by value.
std::optional<std::uint32_t> message_type(std::string_view name);
std::string_view message_name(std::uint32_t type);  // "" for an unknown type
std::optional<int> errno_value(std::string_view name);
std::string_view errno_name(int value);  // "" when the table has none

// A rule in the language, as it would be written (normalised), e.g.
// "deny ENOENT walk,readdir name=.ssh".
std::string to_string(const Rule& rule);

}  // namespace ninep::policy
