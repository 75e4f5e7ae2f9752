// Pieces of the server tested on their own: open-flag translation, the fid table, the lock
// registry, identity resolution.
#include <fcntl.h>
#include <sys/xattr.h>

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "p9/message.h"
#include "server/fid_table.h"
#include "server/identity.h"
#include "server/localfs/lock_registry.h"
#include "server/localfs/open_flags.h"

namespace ninep::server {
namespace {

TEST(OpenFlags, EachLinuxFlagIsTranslatedExplicitly) {
  using localfs::translate_open_flags;
  auto ro = translate_open_flags(p9::kORdonly);
  ASSERT_TRUE(ro);
  EXPECT_EQ(ro->flags & O_ACCMODE, O_RDONLY);
  EXPECT_FALSE(ro->wants_write);
  EXPECT_TRUE(ro->flags & O_CLOEXEC);
  EXPECT_TRUE(ro->flags & O_NOCTTY);
  EXPECT_EQ(translate_open_flags(p9::kOWronly)->flags & O_ACCMODE, O_WRONLY);
  EXPECT_TRUE(translate_open_flags(p9::kOWronly)->wants_write);
  EXPECT_EQ(translate_open_flags(p9::kORdwr)->flags & O_ACCMODE, O_RDWR);
  EXPECT_FALSE(translate_open_flags(p9::kONoaccess)) << "access mode 3 is refused";

  const struct {
    std::uint32_t p9;
    int host;
  } passed[] = {{p9::kOTrunc, O_TRUNC}, {p9::kOAppend, O_APPEND}, {p9::kONonblock, O_NONBLOCK},
                {p9::kODsync, O_DSYNC}, {p9::kOSync, O_SYNC},     {p9::kODirectory, O_DIRECTORY}};
  for (auto [p, h] : passed) {
    auto r = translate_open_flags(p9::kORdonly | p);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->flags & h, h) << std::oct << p;
  }
  EXPECT_TRUE(translate_open_flags(p9::kOTrunc)->wants_write) << "truncation writes";
  const struct {
    std::uint32_t p9;
    int host;
  } dropped[] = {{p9::kOCreate, O_CREAT},  {p9::kOExcl, O_EXCL},    {p9::kONofollow, O_NOFOLLOW},
                 {p9::kODirect, O_DIRECT}, {p9::kOFasync, O_ASYNC}, {p9::kONoatime, O_NOATIME}};
  for (auto [p, h] : dropped) {
    auto r = translate_open_flags(p9::kORdwr | p);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->flags & h, 0) << std::oct << p;
  }
  EXPECT_TRUE(translate_open_flags(0x40000000u | p9::kORdonly)) << "unknown bits are ignored";
  EXPECT_EQ(localfs::translate_xattr_flags(1), XATTR_CREATE);
  EXPECT_EQ(localfs::translate_xattr_flags(2), XATTR_REPLACE);
}

TEST(FidTable, BehavesLikeAMapUnderRandomUse) {
  FidTable t(1u << 20);
  std::map<std::uint32_t, Fid*> model;
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    // Small and huge fid numbers, so collisions and growth both happen.
    std::uint32_t id = rng() % 3 == 0 ? rng() : rng() % 5000;
    if (id == p9::kNoFid) continue;
    switch (rng() % 3) {
      case 0: {
        FidRef f = t.make();
        Fid* raw = f.get();
        bool ok = bool(t.insert(id, f));
        EXPECT_EQ(ok, model.count(id) == 0);
        if (ok) model[id] = raw;
        break;
      }
      case 1: {
        FidRef f = t.get(id);
        auto it = model.find(id);
        ASSERT_EQ(bool(f), it != model.end());
        if (f) {
          EXPECT_EQ(f.get(), it->second);
        }
        break;
      }
      case 2: {
        FidRef f = t.take(id);
        EXPECT_EQ(bool(f), model.erase(id) == 1);
        break;
      }
    }
  }
  EXPECT_EQ(t.size(), model.size());
  t.clear();
  EXPECT_EQ(t.size(), 0u);
}

TEST(FidTable, RefusesNofidDuplicatesAndTooMany) {
  FidTable t(2);
  FidRef a = t.make(), b = t.make(), c = t.make();
  EXPECT_EQ(t.insert(p9::kNoFid, a).error().code, EBADF);
  ASSERT_TRUE(t.insert(1, a));
  EXPECT_EQ(t.insert(1, b).error().code, EBADF);
  ASSERT_TRUE(t.insert(2, b));
  EXPECT_EQ(t.insert(3, c).error().code, EMFILE);
}

TEST(FidTable, AFidOutlivesItsEntryWhileReferenced) {
  FidTable t(10);
  FidRef f = t.make();
  f->opened = true;
  ASSERT_TRUE(t.insert(5, f));
  FidRef user = t.get(5);
  FidRef gone = t.take(5);
  gone.reset();
  f.reset();
  EXPECT_TRUE(user->opened) << "still alive while a request uses it";
  EXPECT_FALSE(t.get(5));
}

TEST(LockRegistry, FindsTheOtherOwnersOverlappingLock) {
  localfs::LockRegistry r;
  int a = 0, b = 0;
  r.granted(1, 2, &a, 0, 99, 11, "a");
  r.granted(1, 2, &b, 200, UINT64_MAX, 22, "b");
  localfs::LockRegistry::Holder h;
  ASSERT_TRUE(r.find(1, 2, &b, 50, 50, h));
  EXPECT_EQ(h.proc_id, 11u);
  EXPECT_EQ(h.client_id, "a");
  EXPECT_FALSE(r.find(1, 2, &a, 0, 99, h)) << "one's own locks are not conflicts";
  ASSERT_TRUE(r.find(1, 2, &a, 1000, 1000, h));
  EXPECT_EQ(h.proc_id, 22u);
  EXPECT_FALSE(r.find(1, 3, &b, 0, 10, h)) << "another file";
  r.released(1, 2, &a, 0, 10);
  EXPECT_FALSE(r.find(1, 2, &b, 50, 50, h));
  r.forget(1, 2, &b);
  EXPECT_FALSE(r.find(1, 2, &a, 1000, 1000, h));
}

TEST(Identity, NumericAndNamedUsers) {
  auto byid = resolve_identity("ignored", 0);
  ASSERT_TRUE(byid);
  EXPECT_EQ((*byid)->uid, 0u);
  auto numeric = resolve_identity("1234", p9::kNoUid);
  ASSERT_TRUE(numeric);
  EXPECT_EQ((*numeric)->uid, 1234u);
  auto root = resolve_identity("root", p9::kNoUid);
  ASSERT_TRUE(root);
  EXPECT_EQ((*root)->uid, 0u);
  auto nobody = resolve_identity("nobody", p9::kNoUid);
  ASSERT_TRUE(nobody) << "the Linux client's first attach";
  EXPECT_EQ((*nobody)->uid, 65534u);
  auto unknown = resolve_identity("no-such-user-here", p9::kNoUid);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ENOENT);
  auto stranger = resolve_identity("", 98765);
  ASSERT_TRUE(stranger);
  EXPECT_EQ((*stranger)->gid, 98765u) << "a uid unknown to the host: gid = uid";
  EXPECT_TRUE((*stranger)->groups.empty());
}

}  // namespace
}  // namespace ninep::server
