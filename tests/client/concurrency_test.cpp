// Many threads on one session: every reply reaches the right caller, nothing leaks.
#include <sys/xattr.h>

#include <atomic>
#include <thread>

#include "diod_fixture.h"
#include "p9/dirent.h"

namespace ninep::client {
namespace {

constexpr int kThreads = 8;
constexpr int kOpsPerThread = 1000;
constexpr std::size_t kFileSize = 64 * 1024;

std::string thread_content(int t) {
  std::string s(kFileSize, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + (i * 7 + t * 13) % 26);
  return s;
}

TEST_F(DiodTest, EightThreadsThousandMixedRequestsEach) {
  std::vector<ino_t> inos(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    std::string name = "t" + std::to_string(t);
    write_host_file(host(name), thread_content(t));
    inos[t] = host_lstat(host(name)).st_ino;
    std::string val = "thread-" + std::to_string(t);
    ASSERT_EQ(::setxattr(host(name).c_str(), "user.t", val.data(), val.size(), 0), 0);
    ASSERT_EQ(::mkdir(host("d" + std::to_string(t)).c_str(), 0755), 0);
    for (int k = 0; k <= t; ++k)
      write_host_file(host("d" + std::to_string(t) + "/e" + std::to_string(k)), "");
    write_host_file(host("w" + std::to_string(t)), "");
  }
  session_->wait_idle();
  const auto before = session_->stats();

  std::atomic<int> failures{0};
  std::vector<std::string> errors(kThreads);
  auto worker = [&](int t) {
    auto fail_with = [&](const std::string& what) {
      if (failures.fetch_add(1) == 0 || errors[t].empty()) errors[t] = what;
    };
    const std::string name = "t" + std::to_string(t);
    const std::string content = thread_content(t);
    auto file = root_.walk({name});
    auto dir = root_.walk({"d" + std::to_string(t)});
    auto out = root_.walk({"w" + std::to_string(t)});
    if (!file || !dir || !out || !file->lopen(p9::kORdonly) ||
        !dir->lopen(p9::kORdonly | p9::kODirectory) || !out->lopen(p9::kOWronly)) {
      fail_with("setup");
      return;
    }
    std::vector<std::uint8_t> buf(4096);
    for (int j = 0; j < kOpsPerThread; ++j) {
      switch (j % 6) {
        case 0: {  // walk + getattr + clunk (async)
          auto f = root_.walk({name});
          if (!f) return fail_with("walk: " + f.error().to_string());
          auto a = f->getattr();
          if (!a || a->size != kFileSize || a->qid.path != inos[t])
            return fail_with("getattr mismatch");
          break;
        }
        case 1: {  // read at an offset that identifies the thread's data
          std::uint64_t off = (j * 97) % (kFileSize - buf.size());
          auto n = file->read_some(off, buf);
          if (!n || *n != buf.size() ||
              std::memcmp(buf.data(), content.data() + off, buf.size()) != 0)
            return fail_with("read mismatch at " + std::to_string(off));
          break;
        }
        case 2: {             // write a record that names thread and op
          char rec[16] = {};  // 14 characters and NULs: all 16 bytes are written
          std::snprintf(rec, sizeof rec, "%02d:%011d", t, j);
          auto n = out->write(static_cast<std::uint64_t>(j / 6) * 16,
                              std::span(reinterpret_cast<const std::uint8_t*>(rec), 16));
          if (!n || *n != 16) return fail_with("write");
          break;
        }
        case 3: {  // readdir: the thread's directory has t+1 entries (plus . and ..)
          auto n = dir->readdir_some(0, buf);
          if (!n) return fail_with("readdir: " + n.error().to_string());
          p9::DirentReader rd(std::span<const std::uint8_t>(buf.data(), *n));
          int count = 0;
          for (;;) {
            auto e = rd.next();
            if (!e) return fail_with("readdir parse");
            if (!*e) break;
            ++count;
          }
          if (count != t + 1 + 2) return fail_with("readdir count " + std::to_string(count));
          break;
        }
        case 4: {  // xattr: two walks, a read and a clunk
          auto v = file->xattr_get("user.t");
          if (!v || std::string(v->begin(), v->end()) != "thread-" + std::to_string(t))
            return fail_with("xattr mismatch");
          break;
        }
        case 5: {
          auto s = root_.statfs();
          if (!s || s->bsize == 0) return fail_with("statfs");
          break;
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_TRUE(errors[t].empty()) << "thread " << t << ": " << errors[t];
  EXPECT_EQ(failures.load(), 0);

  session_->wait_idle();
  const auto after = session_->stats();
  EXPECT_EQ(after.tags_in_use, 0u);
  EXPECT_EQ(after.fids_in_use, before.fids_in_use) << "fid leak";
  EXPECT_GE(after.requests - before.requests, std::uint64_t(kThreads * kOpsPerThread));
  EXPECT_EQ(after.flushes, 0u);
  EXPECT_TRUE(session_->connected());
  // Every write landed where its thread put it.
  for (int t = 0; t < kThreads; ++t) {
    std::string w = read_host_file(host("w" + std::to_string(t)));
    int writes = 0;
    for (int j = 2; j < kOpsPerThread; j += 6) {
      char rec[32] = {};
      std::snprintf(rec, sizeof rec, "%02d:%011d", t, j);
      ASSERT_GE(w.size(), static_cast<std::size_t>(j / 6 + 1) * 16);
      EXPECT_EQ(w.substr(static_cast<std::size_t>(j / 6) * 16, 16), std::string(rec, 16));
      ++writes;
    }
    EXPECT_GT(writes, 100);
  }
}

}  // namespace
}  // namespace ninep::client
