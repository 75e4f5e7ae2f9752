// Escape attempts: nothing outside the export may be reached or touched by any sequence of
// requests — ".." chains, symlinks to / and ../.., absolute targets, loops, names with '/' or NUL,
// over-long names, and a directory renamed out of the export while a connection uses it.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "harness.h"
#include "server/forwarding_backend.h"
#include "server/localfs/host_path.h"

namespace ninep::servertest {
namespace {

using namespace std::chrono_literals;

// Runs a hook (once) right after a walk step reaches a given name: the host acting in the middle
// of a Twalk, deterministically.
class HostActsMidWalk final : public server::ForwardingBackend {
 public:
  struct Hook {
    std::string after;  // the step's name; "" = disarmed
    std::function<void()> act;
  };
  HostActsMidWalk(std::unique_ptr<server::Backend> in, std::shared_ptr<Hook> hook)
      : ForwardingBackend(std::move(in)), hook_(std::move(hook)) {}

  Result<server::NodePtr> walk(server::Node& from, std::string_view name) override {
    auto r = inner().walk(from, name);
    if (r && !hook_->after.empty() && name == hook_->after) {
      hook_->after.clear();
      hook_->act();
    }
    return r;
  }

 private:
  std::shared_ptr<Hook> hook_;
};

// Every test runs twice: with openat2 (walks look names up from the export root with
// RESOLVE_BENEATH) and as on kernels without it (from descriptors, and the end of each walk is
// checked by its path in /proc/self/fd).
class Escape : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    server::localfs::use_openat2_for_tests(GetParam());
    InProcessServer::Options o;
    o.wrap = [h = hook_](std::unique_ptr<server::Backend> in) -> std::unique_ptr<server::Backend> {
      return std::make_unique<HostActsMidWalk>(std::move(in), h);
    };
    srv_ = InProcessServer::start(std::move(o));
    outside_ = srv_->root() + "/outside";
    ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
    write_file(outside_ + "/secret", "outside the export");
    auto s = srv_->connect();
    ASSERT_TRUE(s);
    session_ = *s;
    auto r = session_->attach("0", "", ::getuid());
    ASSERT_TRUE(r);
    root_ = std::move(*r);
  }
  void TearDown() override { server::localfs::use_openat2_for_tests(true); }
  std::string in(const std::string& rel) const { return srv_->export_dir() + "/" + rel; }

  // A raw Twalk from the root: the number of qids (or -errno).
  int walk_raw(std::initializer_list<std::string_view> names, p9::Rwalk* out = nullptr) {
    auto newfid = session_->alloc_fid();
    EXPECT_TRUE(newfid);
    p9::Twalk w;
    w.fid = root_.number();
    w.newfid = *newfid;
    for (auto n : names) w.wnames[w.nwname++] = n;
    p9::Rwalk rw;
    auto r = session_->call(p9::Message(w), [&](const p9::Message& m) -> Result<void> {
      rw = std::get<p9::Rwalk>(m);
      return {};
    });
    if (!r) {
      session_->release_fid(*newfid);
      return -r.error().code;
    }
    if (rw.nwqid == w.nwname) (void)session_->call(p9::Message(p9::Tclunk{*newfid}));
    session_->release_fid(*newfid);
    if (out) *out = rw;
    return rw.nwqid;
  }

  // Moves export/d out of the export and puts `planted` (as `rel` below it) there.
  void move_d_out_and_plant(const std::string& rel) {
    ASSERT_EQ(::rename(in("d").c_str(), (outside_ + "/d").c_str()), 0);
    write_file(outside_ + "/d/" + rel, "outside");
  }

  std::shared_ptr<HostActsMidWalk::Hook> hook_ = std::make_shared<HostActsMidWalk::Hook>();
  std::unique_ptr<InProcessServer> srv_;
  std::string outside_;
  std::shared_ptr<client::Session> session_;
  client::Fid root_;
};

TEST_P(Escape, DotDotChainsStayAtTheRoot) {
  ASSERT_EQ(::mkdir(in("d").c_str(), 0755), 0);
  p9::Rwalk rw;
  ASSERT_EQ(walk_raw({"..", "..", "..", "..", "..", "..", "..", "..", "..", "..", "..", "..", "..",
                      "..", "..", ".."},
                     &rw),
            16);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(rw.qids[i].path, root_.qid().path);
  EXPECT_EQ(walk_raw({"d", "..", "..", "outside"}), 3) << "'outside' is not reachable";
  EXPECT_EQ(walk_raw({"..", "outside", "secret"}), 1);
  auto f = root_.walk({"d", "..", "..", "outside", "secret"});
  EXPECT_FALSE(f);
}

TEST_P(Escape, SymlinksAreNeverFollowed) {
  ASSERT_EQ(::symlink("/", in("to_root").c_str()), 0);
  ASSERT_EQ(::symlink("../..", in("to_up").c_str()), 0);
  ASSERT_EQ(::symlink((outside_ + "/secret").c_str(), in("to_secret").c_str()), 0);
  ASSERT_EQ(::symlink("../outside", in("to_outside").c_str()), 0);
  ASSERT_EQ(::symlink("loop_b", in("loop_a").c_str()), 0);
  ASSERT_EQ(::symlink("loop_a", in("loop_b").c_str()), 0);
  for (const char* link : {"to_root", "to_up", "to_secret", "to_outside", "loop_a"}) {
    p9::Rwalk rw;
    EXPECT_EQ(walk_raw({link}, &rw), 1) << link;
    EXPECT_EQ(rw.qids[0].type, p9::kQtSymlink) << link << " is the link itself";
    EXPECT_EQ(walk_raw({link, "secret"}), 1) << link << ": nothing is reached through it";
    EXPECT_EQ(walk_raw({link, "etc"}), 1) << link;
    EXPECT_EQ(walk_raw({link, ".."}), 1) << link;
    auto f = root_.walk({link});
    ASSERT_TRUE(f) << link;
    auto o = f->lopen(p9::kORdonly);
    ASSERT_FALSE(o) << link << " was opened";
    EXPECT_EQ(o.error().code, ELOOP);
    auto g = root_.walk({link});
    ASSERT_TRUE(g);
    EXPECT_FALSE(g->lopen(p9::kORdonly | p9::kODirectory));
    auto h = root_.walk({link});
    ASSERT_TRUE(h);
    client::SetAttr sa;
    sa.valid = p9::kSetattrSize;
    EXPECT_FALSE(h->setattr(sa)) << link << ": truncate goes nowhere";
  }
  EXPECT_EQ(read_file(outside_ + "/secret"), "outside the export");
}

TEST_P(Escape, AClientsAbsoluteSymlinkLeadsNowhere) {
  ASSERT_TRUE(root_.symlink("abs", outside_ + "/secret", 0));
  ASSERT_TRUE(root_.symlink("rel", "../outside/secret", 0));
  for (const char* link : {"abs", "rel"}) {
    auto f = root_.walk({link});
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->lopen(p9::kORdonly));
    auto g = root_.walk({link});
    ASSERT_TRUE(g);
    auto st = g->getattr();
    ASSERT_TRUE(st);
    EXPECT_TRUE(S_ISLNK(st->mode)) << "getattr describes the link, not its target";
    // A hard link of the symlink is another symlink, not the target.
    ASSERT_TRUE(root_.link(*g, std::string(link) + "_hard"));
    EXPECT_TRUE(S_ISLNK(lstat_of(in(std::string(link) + "_hard")).st_mode));
  }
  EXPECT_EQ(lstat_of(outside_ + "/secret").st_nlink, 1u);
}

TEST_P(Escape, NamesWithSlashNulOrDotsAreRefused) {
  ASSERT_EQ(::mkdir(in("d").c_str(), 0755), 0);
  const std::string nul("a\0b", 3);
  for (std::string_view bad :
       {std::string_view("../outside"), std::string_view("d/../.."), std::string_view("/etc"),
        std::string_view(nul), std::string_view("")}) {
    EXPECT_EQ(walk_raw({bad}), -EINVAL) << "walk '" << bad << "'";
    EXPECT_FALSE(root_.mkdir(bad, 0755, 0)) << bad;
    EXPECT_FALSE(root_.symlink(bad, "x", 0)) << bad;
    EXPECT_FALSE(root_.mknod(bad, p9::kSIfreg | 0644, 0, 0, 0)) << bad;
    auto c = root_.clone();
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->lcreate(bad, p9::kORdwr, 0644, 0)) << bad;
    EXPECT_FALSE(root_.unlinkat(bad)) << bad;
    write_file(in("victim"), "v");
    EXPECT_FALSE(root_.renameat("victim", root_, bad)) << bad;
    auto v = root_.walk({"victim"});
    ASSERT_TRUE(v);
    EXPECT_FALSE(root_.link(*v, bad)) << bad;
  }
  for (std::string_view dots : {".", ".."}) {
    EXPECT_FALSE(root_.mkdir(dots, 0755, 0));
    EXPECT_FALSE(root_.unlinkat(dots, p9::kAtRemovedir));
    EXPECT_FALSE(root_.renameat("victim", root_, dots));
  }
  EXPECT_TRUE(exists(in("d")));
  EXPECT_TRUE(exists(in("victim")));
  EXPECT_EQ(read_file(outside_ + "/secret"), "outside the export");
  EXPECT_FALSE(exists(srv_->root() + "/x"));
}

TEST_P(Escape, OverlongNamesAreRefused) {
  const std::string longest(255, 'n'), too_long(256, 'n'), huge(5000, 'n');
  EXPECT_TRUE(root_.mkdir(longest, 0755, 0));
  for (const std::string* bad : {&too_long, &huge}) {
    auto m = root_.mkdir(*bad, 0755, 0);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, ENAMETOOLONG);
    EXPECT_EQ(walk_raw({*bad}), -ENAMETOOLONG);
  }
}

TEST_P(Escape, ADirectoryMovedOutOfTheExportLeadsNowhere) {
  ASSERT_EQ(::mkdir(in("d").c_str(), 0755), 0);
  auto held = root_.walk({"d"});
  ASSERT_TRUE(held);
  auto parent_of_export = lstat_of(srv_->root()).st_ino;
  std::atomic<bool> stop{false};
  std::atomic<int> moves{0};
  // The host moves d out and back; while it is out, it holds a file the client must never see.
  std::thread mover([&] {
    const std::string inside = in("d"), out = outside_ + "/d";
    while (!stop) {
      if (::rename(inside.c_str(), out.c_str()) != 0) break;
      write_file(out + "/planted", "outside");
      std::this_thread::sleep_for(200us);
      ::unlink((out + "/planted").c_str());
      if (::rename(out.c_str(), inside.c_str()) != 0) break;
      ++moves;
      std::this_thread::sleep_for(200us);
    }
  });
  int created = 0;
  auto deadline = std::chrono::steady_clock::now() + 1500ms;
  int i = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    ++i;
    EXPECT_FALSE(held->walk({"planted"})) << "walked into the moved directory's new content";
    EXPECT_FALSE(root_.walk({"d", "planted"}));
    auto up = held->walk({".."});
    if (up) {
      EXPECT_EQ(up->qid().path, root_.qid().path) << "'..' of d is the root, or nothing";
      EXPECT_NE(up->qid().path, parent_of_export);
    }
    auto c = held->clone();
    ASSERT_TRUE(c);
    if (c->lcreate("client-" + std::to_string(i), p9::kORdwr, 0644, 0)) ++created;
    auto l = held->clone();
    ASSERT_TRUE(l);
    if (l->lopen(p9::kORdonly)) {
      auto entries = l->readdir_all();
      if (entries) {
        for (auto& e : *entries) EXPECT_NE(e.name, "planted") << "listed the moved directory";
      }
    }
  }
  stop = true;
  mover.join();
  EXPECT_GT(moves.load(), 10);
  if (exists(outside_ + "/d")) {
    ASSERT_EQ(::rename((outside_ + "/d").c_str(), in("d").c_str()), 0);
  }
  // Nothing the client created stayed outside: everything is inside d now, and outside holds only
  // what the host put there.
  int inside_files = 0;
  for (int k = 1; k <= i; ++k)
    if (exists(in("d/client-" + std::to_string(k)))) ++inside_files;
  EXPECT_EQ(inside_files, created);
  EXPECT_FALSE(exists(outside_ + "/d"));
  EXPECT_EQ(read_file(outside_ + "/secret"), "outside the export");
}

// The same, deterministically: the host moves d out between two steps of one Twalk. Each step
// after the first is looked up from the export root (openat2 RESOLVE_BENEATH), so the walk
// cannot go on inside the moved directory; a step taken from d's descriptor would find
// `planted`, and nothing after the walk looks at where its result is.
TEST_P(Escape, ADirectoryMovedOutInTheMiddleOfAWalkLeadsNowhere) {
  ASSERT_EQ(::mkdir(in("d").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(in("d/sub").c_str(), 0755), 0);
  hook_->after = "d";
  hook_->act = [&] { move_d_out_and_plant("planted"); };
  p9::Rwalk rw;
  EXPECT_LT(walk_raw({"d", "planted"}, &rw), 2) << "walked into the moved directory";
  EXPECT_TRUE(hook_->after.empty()) << "the host did not act";
  ASSERT_EQ(::rename((outside_ + "/d").c_str(), in("d").c_str()), 0);

  // From a fid's directory: its first step is checked by its path, the next from the root.
  auto held = root_.walk({"d"});
  ASSERT_TRUE(held);
  hook_->after = "sub";
  hook_->act = [&] { move_d_out_and_plant("sub/planted"); };
  EXPECT_FALSE(held->walk({"sub", "planted"})) << "walked into the moved directory";
  EXPECT_TRUE(hook_->after.empty()) << "the host did not act";
  ASSERT_EQ(::rename((outside_ + "/d").c_str(), in("d").c_str()), 0);

  // "..", in the middle of a walk, is the parent found from the root too.
  hook_->after = "sub";
  hook_->act = [&] { ASSERT_EQ(::rename(in("d").c_str(), (outside_ + "/d").c_str()), 0); };
  auto up = root_.walk({"d", "sub", "..", "..", "outside"});
  EXPECT_FALSE(up) << "reached the parent of the export";
  EXPECT_TRUE(hook_->after.empty()) << "the host did not act";
  EXPECT_EQ(read_file(outside_ + "/secret"), "outside the export");
}

// A fid's directory moved out of the export (no race): nothing below or above it is reached
// through the fid, and a walk from it ends nowhere.
TEST_P(Escape, AFidWhoseDirectoryWasMovedOutLeadsNowhere) {
  ASSERT_EQ(::mkdir(in("d").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(in("d/sub").c_str(), 0755), 0);
  auto held = root_.walk({"d"});
  ASSERT_TRUE(held);
  auto sub = root_.walk({"d", "sub"});
  ASSERT_TRUE(sub);
  move_d_out_and_plant("planted");
  write_file(outside_ + "/d/sub/planted", "outside");
  EXPECT_FALSE(held->walk({"planted"}));
  EXPECT_FALSE(held->walk({"sub", "planted"}));
  EXPECT_FALSE(held->walk({"sub"}));
  EXPECT_FALSE(held->walk({"."}));
  EXPECT_FALSE(sub->walk({"planted"}));
  EXPECT_FALSE(sub->walk({"..", "planted"}));
  auto up = held->walk({".."});
  EXPECT_FALSE(up) << "'..' of a directory outside the export";
  EXPECT_FALSE(sub->walk({"..", ".."}));
  EXPECT_FALSE(sub->walk({"..", "..", "secret"}));
}

INSTANTIATE_TEST_SUITE_P(Lookups, Escape, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "openat2" : "per_component";
                         });

}  // namespace
}  // namespace ninep::servertest
