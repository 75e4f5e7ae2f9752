// Faults: the server dying mid-stream, refusing the export.
#include <sys/stat.h>

#include <atomic>
#include <future>
#include <thread>

#include "diod_fixture.h"

namespace ninep::client {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_F(DiodTest, KilledServerFailsEveryWaitingCallWithinOneSecond) {
  write_host_file(host("big"), std::string(4 << 20, 'x'));
  ASSERT_EQ(::mkfifo(host("fifo").c_str(), 0644), 0);
  // One request certainly pending inside the server: opening a FIFO with no writer.
  auto fifo = root_.walk({"fifo"});
  ASSERT_TRUE(fifo);
  std::atomic<bool> go{true};
  constexpr int kThreads = 8;
  std::vector<Clock::time_point> failed_at(kThreads + 1);
  std::vector<Error> errors(kThreads + 1);
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    auto r = session_->call(p9::Tlopen{fifo->number(), p9::kORdonly});
    failed_at[kThreads] = Clock::now();
    if (!r) errors[kThreads] = r.error();
  });
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto f = root_.walk({"big"});
      if (!f || !f->lopen(p9::kORdonly)) return;
      std::vector<std::uint8_t> buf(4 << 20);
      for (;;) {
        // Alternate large pipelined reads and small requests until the connection dies.
        auto n = f->read(0, buf);
        if (!n) {
          failed_at[t] = Clock::now();
          errors[t] = n.error();
          return;
        }
        auto a = f->getattr();
        if (!a) {
          failed_at[t] = Clock::now();
          errors[t] = a.error();
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(session_->connected());
  auto killed = Clock::now();
  diod_->kill();
  for (auto& th : threads) th.join();
  for (int t = 0; t <= kThreads; ++t) {
    EXPECT_NE(errors[t].code, 0) << "thread " << t << " saw no error";
    EXPECT_TRUE(errors[t].code == ECONNRESET || errors[t].code == EPIPE)
        << "thread " << t << ": " << errors[t].to_string();
    EXPECT_LT(failed_at[t] - killed, 1s) << "thread " << t << " took too long";
  }
  EXPECT_FALSE(session_->connected());
  auto start = Clock::now();
  auto later = root_.getattr();
  ASSERT_FALSE(later);
  EXPECT_TRUE(later.error().code == ECONNRESET || later.error().code == EPIPE);
  EXPECT_LT(Clock::now() - start, 100ms);
  auto walk = root_.walk({"big"});
  ASSERT_FALSE(walk);
  fifo = Fid();
  EXPECT_EQ(session_->stats().tags_in_use, 0u);
}

TEST_F(DiodTest, ConnectingToAStoppedServerFails) {
  std::string addr = diod_->address();
  diod_->kill();
  auto s = Session::connect(addr);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ECONNREFUSED);
  EXPECT_NE(s.error().message.find(addr), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace ninep::client
