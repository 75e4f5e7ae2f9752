// Conformance: Treaddir (all entries, types, resumable cookies, rewinding, 100000 entries).
#include <fcntl.h>

#include <cstring>
#include <map>
#include <set>

#include "conformance.h"
#include "p9/dirent.h"

namespace ninep::servertest {
namespace {

struct Page {
  std::vector<client::DirEntry> entries;
};

// One Treaddir of at most `count` bytes from `offset`.
std::vector<client::DirEntry> read_page(const client::Fid& dir, std::uint64_t offset,
                                        std::size_t count) {
  std::vector<std::uint8_t> buf(count);
  auto n = dir.readdir_some(offset, buf);
  EXPECT_TRUE(n) << n.error().to_string();
  std::vector<client::DirEntry> out;
  if (!n) return out;
  p9::DirentReader rd(std::span<const std::uint8_t>(buf.data(), *n));
  for (;;) {
    auto e = rd.next();
    EXPECT_TRUE(e);
    if (!e || !*e) break;
    out.push_back({(*e)->qid, (*e)->offset, (*e)->type, std::string((*e)->name)});
  }
  return out;
}

// Every entry following cookies with small replies.
std::vector<client::DirEntry> read_all(const client::Fid& dir, std::size_t count) {
  std::vector<client::DirEntry> all;
  std::uint64_t off = 0;
  for (;;) {
    auto page = read_page(dir, off, count);
    if (page.empty()) break;
    off = page.back().offset;
    all.insert(all.end(), page.begin(), page.end());
  }
  return all;
}

TEST_P(Conformance, ReaddirListsEveryEntryWithItsType) {
  ASSERT_EQ(::mkdir(host("dir").c_str(), 0755), 0);
  write_file(host("file"), "x");
  ASSERT_EQ(::symlink("file", host("link").c_str()), 0);
  ASSERT_EQ(::mkfifo(host("fifo").c_str(), 0600), 0);
  auto d = root_.clone();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->lopen(p9::kORdonly | p9::kODirectory));
  auto all = d->readdir_all();
  ASSERT_TRUE(all) << all.error().to_string();
  std::map<std::string, client::DirEntry> by_name;
  for (auto& e : *all) EXPECT_TRUE(by_name.emplace(e.name, e).second) << "repeated " << e.name;
  EXPECT_EQ(by_name.size(), 6u);
  ASSERT_TRUE(by_name.count(".") && by_name.count(".."));
  EXPECT_EQ(by_name["dir"].type, p9::kDtDir);
  EXPECT_EQ(by_name["dir"].qid.type, p9::kQtDir);
  EXPECT_EQ(by_name["file"].type, p9::kDtReg);
  EXPECT_EQ(by_name["link"].type, p9::kDtLnk);
  EXPECT_EQ(by_name["fifo"].type, p9::kDtFifo);
  EXPECT_EQ(by_name["file"].qid.path, lstat_of(host("file")).st_ino);
}

TEST_P(Conformance, ReaddirCookiesResumeAnywhere) {
  for (int i = 0; i < 200; ++i) write_file(host("entry-" + std::to_string(i)), "");
  auto d = root_.clone();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->lopen(p9::kORdonly));
  // Small replies: a few entries each.
  auto all = read_all(*d, 128);
  ASSERT_EQ(all.size(), 202u);
  std::set<std::string> names;
  for (auto& e : all) names.insert(e.name);
  EXPECT_EQ(names.size(), 202u) << "no entry lost or repeated";
  // Resume after every 17th entry, in an arbitrary order: the rest follows exactly.
  for (std::size_t i : {150u, 3u, 99u, 0u, 201u, 17u}) {
    read_all(*d, 4096);  // leave the stream somewhere else first: resuming must seek
    std::vector<client::DirEntry> tail;
    std::uint64_t off = all[i].offset;
    for (;;) {
      auto page = read_page(*d, off, 512);
      if (page.empty()) break;
      off = page.back().offset;
      tail.insert(tail.end(), page.begin(), page.end());
    }
    ASSERT_EQ(tail.size(), all.size() - i - 1) << "resuming after entry " << i;
    for (std::size_t k = 0; k < tail.size(); ++k) EXPECT_EQ(tail[k].name, all[i + 1 + k].name);
  }
  // Offset 0 starts over.
  auto again = read_page(*d, 0, 128);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again.front().name, all.front().name);
}

TEST_P(Conformance, ReaddirOfAHundredThousandEntries) {
  constexpr int kEntries = 100000;
  ASSERT_EQ(::mkdir(host("big").c_str(), 0755), 0);
  // Hard links to a few files: names are what matters, and links are much cheaper to make.
  std::string base;
  for (int i = 0; i < kEntries; ++i) {
    std::string p = host("big/f" + std::to_string(i));
    if (i % 50000 == 0) {
      int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      ASSERT_GE(fd, 0) << p;
      ::close(fd);
      base = p;
    } else {
      ASSERT_EQ(::link(base.c_str(), p.c_str()), 0) << p << ": " << std::strerror(errno);
    }
  }
  auto d = root_.walk({"big"});
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->lopen(p9::kORdonly));
  auto all = d->readdir_all();
  ASSERT_TRUE(all) << all.error().to_string();
  std::vector<bool> seen(kEntries, false);
  std::size_t files = 0, dots = 0;
  for (auto& e : *all) {
    if (e.name == "." || e.name == "..") {
      ++dots;
      continue;
    }
    ASSERT_EQ(e.name[0], 'f');
    int i = std::stoi(e.name.substr(1));
    ASSERT_FALSE(seen[i]) << "repeated " << e.name;
    seen[i] = true;
    ++files;
  }
  EXPECT_EQ(files, static_cast<std::size_t>(kEntries)) << "entries lost";
  EXPECT_EQ(dots, 2u);
}

}  // namespace
}  // namespace ninep::servertest
