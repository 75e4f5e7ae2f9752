// `ninep serve` under load, through the binary: 16 connections x 8 requests in flight for 10 s
// from bench/load's generator (walk, getattr, open, read with the data checked, write, create,
// readdir, remove, clunk over a tree, as several uids when root). No request may fail, and once
// the clients have disconnected the server must hold as many descriptors as before they came,
// and little more memory.
// The figures measured are printed, not asserted.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "load_driver.h"
#include "server_process.h"
#include "temp_dir.h"

#ifndef NINEP_BINARY
#error "NINEP_BINARY must name the ninep program"
#endif

namespace ninep {
namespace {

namespace load = bench::load;

TEST(Load, SixteenConnectionsEightInFlightWithoutErrorsOrLeakedDescriptors) {
  auto tmp = testing::TempDir::create("ninep-load-");
  ASSERT_TRUE(tmp) << tmp.error().to_string();
  // Searchable by the uids the clients attach as.
  ASSERT_EQ(::chmod(tmp->path().c_str(), 0755), 0);
  const std::string exp = *tmp / "export";
  ASSERT_EQ(::mkdir(exp.c_str(), 0755), 0);
  load::Options o;
  o.connections = 16;
  o.depth = 8;
  o.seconds = 10;
  o.tree.uids = load::default_uids();
  o.tree.files = 16;
  auto made = load::make_tree(exp, o.tree);
  ASSERT_TRUE(made) << made.error().to_string();

  const std::string sock = *tmp / "sock";
  auto server = testing::ServerProcess::start(
      {{NINEP_BINARY, "serve", exp, "--listen", "unix:" + sock}, sock, *tmp / "server.log"});
  ASSERT_TRUE(server) << server.error().to_string();
  o.address = "unix:" + sock;
  o.watch_pid = server->pid();

  auto rep = load::run(o);
  ASSERT_TRUE(rep) << rep.error().to_string() << "\n" << server->log();
  load::print_report(stdout, *rep);
  std::fflush(stdout);

  EXPECT_EQ(rep->total_errors(), 0u) << server->log();
  // Every kind of request of the mix was answered.
  for (int i = 0; i < load::kOps; ++i)
    EXPECT_GT(rep->ops[i].count, 0u) << load::op_name(static_cast<load::Op>(i));
  ASSERT_TRUE(rep->server);
  EXPECT_GT(rep->server->fds_before, 0);
  EXPECT_GT(rep->server->fds_peak, rep->server->fds_before) << "the connections were not seen";
  EXPECT_EQ(rep->server->fds_after, rep->server->fds_before)
      << "descriptors not back to their baseline " << rep->server->settle_s
      << " s after the clients disconnected";
#ifndef __SANITIZE_ADDRESS__  // (ASan has its own allocator, which keeps freed memory quarantined)
  // The memory the connections used is given back once the server is idle: what it still holds
  // beyond its baseline is a small part of what the load made it take (glibc keeps freed memory
  // in its arenas unless told: 20% of the growth stayed before the server trimmed).
  const auto& w = *rep->server;
  EXPECT_LT((w.anon_after_kb - w.anon_before_kb) * 8, w.rss_peak_kb - w.rss_before_kb)
      << "anonymous memory " << w.anon_before_kb << " KiB before the load, " << w.anon_after_kb
      << " KiB after; peak RSS " << w.rss_peak_kb << " KiB";
#endif
}

}  // namespace
}  // namespace ninep
