// The compiled program (in every engine) against the direct evaluator: random rule sets, and
// 100000 random records biased toward the names, paths, ids, types and flags the rules mention,
// so that rules other than the last decide a good share of them.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "policy_support.h"

namespace ninep::policy {
namespace {

using namespace testing;

const std::vector<std::string> kNames = {".ssh",  "id_rsa", "a",    "ab",  "abc", "abcd",
                                         "abcde", "x.pem",  ".git", "key", "k",   "secret.db"};
const std::vector<std::string> kPaths = {"a", "a/b", "a/b/c", ".git", "home/u", "home", "d/e"};
const std::vector<std::string> kClasses = {
    "read", "write", "open",    "create", "remove", "rename", "setattr", "getattr", "xattr",
    "lock", "walk",  "readdir", "attach", "Tlopen", "Tflush", "Tclunk",  "Tmknod"};
const std::vector<std::string> kTypes = {"reg", "dir", "lnk", "chr", "blk", "fifo", "sock"};
const std::vector<std::string> kFlags = {"rdonly", "wronly", "rdwr",      "creat",
                                         "trunc",  "append", "directory", "4096"};
const std::uint32_t kMessageTypes[] = {8,  12, 14, 16, 18, 20, 22,  24,  26,  30,  32,  40,  50,
                                       52, 54, 70, 72, 74, 76, 104, 108, 110, 116, 118, 120, 122};
const std::uint32_t kFileTypes[] = {0100000, 0040000, 0120000, 0020000, 0060000, 0010000, 0140000};
const std::uint32_t kIds[] = {0, 1000, 1001, 7};

class Random {
 public:
  explicit Random(std::uint64_t seed) : rng_(seed) {}
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool percent(unsigned p) { return below(100) < p; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  template <typename T, std::size_t N>
  const T& pick(const T (&v)[N]) {
    return v[below(N)];
  }
  std::string word() {
    std::string s;
    for (std::size_t n = 1 + below(6); n > 0; --n) s += static_cast<char>('a' + below(5));
    return s;
  }
  std::uint32_t u32() { return static_cast<std::uint32_t>(rng_()); }

 private:
  std::mt19937_64 rng_;
};

template <typename F>
std::string list(Random& rnd, F&& one) {
  std::string s = one();
  for (std::size_t n = rnd.below(3); n > 0; --n) s += "," + one();
  return s;
}

std::string random_rule(Random& rnd) {
  static const char* kActions[] = {"allow", "log", "deny ENOENT", "deny EROFS", "deny 77", "kill"};
  std::string r = kActions[rnd.below(6)];
  const std::size_t bare = r.size();
  if (rnd.percent(35))
    r += " name=" + list(rnd, [&] {
           std::string n = rnd.percent(80) ? rnd.pick(kNames) : rnd.word();
           const auto kind = rnd.below(3);
           if (kind == 1) return n.substr(0, 1 + rnd.below(n.size())) + "*";
           if (kind == 2) return "*" + n.substr(rnd.below(n.size()));
           return n;
         });
  if (rnd.percent(35)) r += " path=" + list(rnd, [&] { return rnd.pick(kPaths); });
  if (rnd.percent(20)) r += " uid=" + list(rnd, [&] { return std::to_string(rnd.pick(kIds)); });
  if (rnd.percent(15)) r += " gid=" + list(rnd, [&] { return std::to_string(rnd.pick(kIds)); });
  if (rnd.percent(10)) r += " export=" + list(rnd, [&] { return std::to_string(rnd.below(3)); });
  if (rnd.percent(20)) r += " type=" + list(rnd, [&] { return rnd.pick(kTypes); });
  if (rnd.percent(15)) r += " flags=" + list(rnd, [&] { return rnd.pick(kFlags); });
  // Classes (only the last rule may match everything).
  if (r.size() == bare || rnd.percent(50)) r += " " + list(rnd, [&] { return rnd.pick(kClasses); });
  return r;
}

struct Strings {
  std::string name, path;
};

RequestRecord random_record(Random& rnd, Strings& s) {
  RequestRecord r;
  r.type = rnd.percent(95) ? rnd.pick(kMessageTypes) : static_cast<std::uint32_t>(rnd.below(256));
  r.uid = rnd.percent(85) ? rnd.pick(kIds) : rnd.u32();
  r.gid = rnd.percent(85) ? rnd.pick(kIds) : rnd.u32();
  r.export_index = static_cast<std::uint32_t>(rnd.below(4));
  r.file_type = rnd.percent(90) ? rnd.pick(kFileTypes) : rnd.u32();
  r.mode =
      (rnd.percent(50) ? rnd.pick(kFileTypes) : 0) | static_cast<std::uint32_t>(rnd.below(07777));
  r.flags =
      static_cast<std::uint32_t>(rnd.below(4)) | (rnd.percent(50) ? (1u << rnd.below(22)) : 0);
  // Names: those the rules use, with bits added or cut, or random.
  switch (rnd.below(5)) {
    case 0:
      s.name = "";
      break;
    case 1:
      s.name = rnd.word();
      break;
    case 2:
      s.name = rnd.word() + rnd.pick(kNames);
      break;
    case 3:
      s.name = rnd.pick(kNames) + (rnd.percent(50) ? rnd.word() : "");
      break;
    default: {
      // The last component of a path the rules use (the walk into it).
      const std::string& p = rnd.pick(kPaths);
      s.name = p.substr(p.rfind('/') == std::string::npos ? 0 : p.rfind('/') + 1);
    }
  }
  switch (rnd.below(5)) {
    case 0:
      s.path = "";
      break;
    case 1:
      s.path = rnd.pick(kPaths);
      break;
    case 2:
      s.path = rnd.pick(kPaths) + "/" + rnd.pick(kNames);
      break;
    case 3:
      s.path = rnd.pick(kPaths) + (rnd.percent(50) ? "x" : "/");
      break;
    default: {
      const std::string& p = rnd.pick(kPaths);
      s.path = p.rfind('/') == std::string::npos ? "" : p.substr(0, p.rfind('/'));
    }
  }
  r.name = s.name;
  r.path = s.path;
  return r;
}

TEST(PolicyDifferential, ProgramAndEvaluatorAgreeOnRandomRulesAndRecords) {
  Random rnd(20261205);
  constexpr int kRuleSets = 1000, kRecordsPerSet = 100;
  std::size_t decided_early = 0, total_size = 0, checked = 0, screened = 0;
  bpf::testing::Disagreements disagreements;
  for (int set = 0; set < kRuleSets && !disagreements.any(); ++set) {
    std::string text;
    for (std::size_t n = 1 + rnd.below(8); n > 0; --n) text += random_rule(rnd) + "\n";
    text += rnd.percent(50) ? "allow all\n" : "deny EACCES\n";
    auto rules = parse_rules(text);
    ASSERT_TRUE(rules) << rules.error().to_string() << "\n" << text;
    const auto program = compile(*rules);
    total_size += program.size();
    std::vector<bpf::Vm> vms;
    for (bpf::Engine e : bpf::testing::available_engines()) {
      auto vm = bpf::Vm::create(program, e);
      ASSERT_TRUE(vm) << vm.error().to_string() << "\n" << text;
      vms.push_back(std::move(*vm));
    }
    std::vector<std::uint8_t> packet;
    Strings s;
    const NameScreen screen(*rules);
    for (int i = 0; i < kRecordsPerSet; ++i) {
      const RequestRecord r = random_record(rnd, s);
      // A name the screen passes over gets the verdict of any other it passes over.
      if (!screen.may_matter(s.name)) {
        for (const char* other : {"zz", "yy", "xx", "9", "_-_"}) {
          if (screen.may_matter(other)) continue;
          RequestRecord o = r;
          o.name = other;
          EXPECT_EQ(evaluate(*rules, o), evaluate(*rules, r))
              << "names '" << s.name << "' and '" << other << "', path '" << s.path << "' type "
              << r.type << "\nrules:\n"
              << text;
          ++screened;
          break;
        }
      }
      ASSERT_TRUE(encode(r, packet));
      const Match m = match(*rules, r);
      if (m.rule && *m.rule + 1 < rules->rules.size()) ++decided_early;
      for (const auto& vm : vms)
        disagreements.check(vm.engine(), vm.run(packet), m.verdict, [&] {
          return "type " + std::to_string(r.type) + " name '" + s.name + "' path '" + s.path +
                 "' uid " + std::to_string(r.uid) + " gid " + std::to_string(r.gid) + " export " +
                 std::to_string(r.export_index) + " file_type " + std::to_string(r.file_type) +
                 " mode " + std::to_string(r.mode) + " flags " + std::to_string(r.flags) +
                 "\nrules:\n" + text;
        });
      ++checked;
    }
  }
  std::printf(
      "policy differential: %zu records over %d rule sets, %zu engine(s); %zu (%.1f%%) "
      "decided by a rule other than the last; mean program %.1f instructions; %zu names "
      "screened\n",
      checked, kRuleSets, bpf::testing::available_engines().size(), decided_early,
      100.0 * static_cast<double>(decided_early) / static_cast<double>(checked),
      static_cast<double>(total_size) / kRuleSets, screened);
  EXPECT_EQ(checked, static_cast<std::size_t>(kRuleSets) * kRecordsPerSet);
  // The bias works: many records are decided by the rules under test, not the catch-all.
  EXPECT_GT(decided_early * 5, checked);
  // Names rules never mention are common enough for the screen to be tested on many.
  EXPECT_GT(screened * 10, checked);
}

}  // namespace
}  // namespace ninep::policy
