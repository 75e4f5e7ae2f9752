#include "server/identity.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <unordered_map>

namespace ninep::server {
namespace {

constexpr std::uint32_t kNoUid = 0xFFFFFFFF;

// Fills the groups of a user found in the host's database.
void load_groups(const passwd& pw, Identity& id) {
  int n = 32;
  for (int attempt = 0; attempt < 8; ++attempt) {
    id.groups.resize(static_cast<std::size_t>(n));
    int got = n;
    if (getgrouplist(pw.pw_name, pw.pw_gid, id.groups.data(), &got) >= 0) {
      id.groups.resize(static_cast<std::size_t>(got));
      return;
    }
    n = got > n ? got : n * 2;
  }
  id.groups.clear();
}

// The host's user database as it was when snapshot_user_database() ran.
struct UserDatabase {
  struct User {
    std::string name;
    uid_t uid;
    gid_t gid;
  };
  std::vector<User> users;
  std::unordered_map<std::string, std::vector<gid_t>> member_of;  // user name -> groups
};
const UserDatabase* g_snapshot = nullptr;  // set once, before any request thread starts

Result<IdentityPtr> from_snapshot(bool by_name, std::string_view name, uid_t uid) {
  const auto& users = g_snapshot->users;
  auto u = std::find_if(users.begin(), users.end(), [&](const UserDatabase::User& e) {
    return by_name ? e.name == name : e.uid == uid;
  });
  auto id = std::make_shared<Identity>();
  if (u == users.end()) {
    if (by_name && name != "nobody")
      return fail(ENOENT, "unknown user '" + std::string(name) + "'");
    id->uid = by_name ? 65534 : uid;
    id->gid = by_name ? 65534 : uid;
    return id;
  }
  id->uid = u->uid;
  id->gid = u->gid;
  id->groups.push_back(u->gid);
  if (auto m = g_snapshot->member_of.find(u->name); m != g_snapshot->member_of.end())
    for (gid_t g : m->second)
      if (g != u->gid) id->groups.push_back(g);
  return id;
}

Result<IdentityPtr> from_passwd_lookup(bool by_name, std::string_view name, uid_t uid) {
  if (g_snapshot != nullptr) return from_snapshot(by_name, name, uid);
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  std::string name_z(name);
  int rc = by_name ? getpwnam_r(name_z.c_str(), &pw, buf.data(), buf.size(), &found)
                   : getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
  auto id = std::make_shared<Identity>();
  if (rc != 0 || found == nullptr) {
    if (by_name) {
      // The Linux client's first attach says "nobody" with no numeric id; accept it even on hosts
      // that have no such user.
      if (name == "nobody") {
        id->uid = 65534;
        id->gid = 65534;
        return id;
      }
      return fail(ENOENT, "unknown user '" + name_z + "'");
    }
    id->uid = uid;
    id->gid = uid;
    return id;
  }
  id->uid = pw.pw_uid;
  id->gid = pw.pw_gid;
  load_groups(pw, *id);
  return id;
}

}  // namespace

void snapshot_user_database() {
  auto* db = new UserDatabase;  // lives as long as the process
  ::setpwent();
  while (passwd* pw = ::getpwent()) db->users.push_back({pw->pw_name, pw->pw_uid, pw->pw_gid});
  ::endpwent();
  ::setgrent();
  while (group* gr = ::getgrent())
    for (char** m = gr->gr_mem; m != nullptr && *m != nullptr; ++m)
      db->member_of[*m].push_back(gr->gr_gid);
  ::endgrent();
  g_snapshot = db;
}

namespace {

// Capabilities are per thread; the raw system calls change only the calling thread's (two calls
// do not justify a dependency on libcap).
struct CapSets {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
};

Result<void> set_effective_caps(bool all_permitted) {
  CapSets c;
  if (syscall(SYS_capget, &c.header, c.data) != 0) return fail_errno("capget");
  for (auto& d : c.data) d.effective = all_permitted ? d.permitted : 0;
  if (syscall(SYS_capset, &c.header, c.data) != 0) return fail_errno("capset");
  return {};
}

struct ThreadCreds {
  bool known = false;
  bool caps_lowered = false;  // effective set emptied (uid != 0)
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

thread_local ThreadCreds t_creds;

}  // namespace

Result<IdentityPtr> resolve_identity(std::string_view uname, std::uint32_t n_uname) {
  if (n_uname != kNoUid) return from_passwd_lookup(false, {}, static_cast<uid_t>(n_uname));
  std::uint32_t numeric = 0;
  auto [ptr, ec] = std::from_chars(uname.data(), uname.data() + uname.size(), numeric);
  if (!uname.empty() && ec == std::errc() && ptr == uname.data() + uname.size() &&
      numeric != kNoUid)
    return from_passwd_lookup(false, {}, static_cast<uid_t>(numeric));
  if (uname.empty()) return fail(EINVAL, "attach names no user");
  return from_passwd_lookup(true, uname, 0);
}

IdentityPtr squash_identity(IdentityPtr who, const IdentityMapping& map) {
  const bool squash_all = map.squash == Squash::All;
  const bool squash_root = map.squash == Squash::Root;
  if (squash_all || (squash_root && who->uid == 0)) {
    auto anon = std::make_shared<Identity>();
    anon->uid = map.anon_uid;
    anon->gid = map.anon_gid;
    return anon;
  }
  const bool root_group = who->gid == 0 || std::find(who->groups.begin(), who->groups.end(),
                                                     gid_t{0}) != who->groups.end();
  if (!squash_root || !root_group) return who;
  auto mapped = std::make_shared<Identity>(*who);
  if (mapped->gid == 0) mapped->gid = map.anon_gid;
  for (gid_t& g : mapped->groups)
    if (g == 0) g = map.anon_gid;
  return mapped;
}

bool ThreadIdentity::switching() {
  static const bool is_root = geteuid() == 0;
  return is_root;
}

Result<void> ThreadIdentity::assume(const Identity& who) {
  if (!switching()) return {};
  ThreadCreds& c = t_creds;
  if (c.known && c.uid == who.uid && c.gid == who.gid && c.groups == who.groups) return {};
  // Switching needs CAP_SETUID/CAP_SETGID back while they are lowered (a new thread inherits
  // the lowered set of the thread that started it).
  if (c.caps_lowered || !c.known) {
    if (auto r = set_effective_caps(true); !r) {
      c.known = false;
      return r;
    }
    c.caps_lowered = false;
  }
  // Groups and gid first: while fsuid is still what it was, nothing is refused. The raw system
  // call changes only this thread (glibc's setgroups() would change every thread).
  if (!c.known || c.groups != who.groups) {
    if (syscall(SYS_setgroups, who.groups.size(), who.groups.data()) != 0) {
      c.known = false;
      return fail_errno("setgroups");
    }
    c.groups = who.groups;
  }
  if (!c.known || c.gid != who.gid) {
    setfsgid(who.gid);
    if (static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) != who.gid) {
      c.known = false;
      return fail(EPERM, "setfsgid");
    }
    c.gid = who.gid;
  }
  if (!c.known || c.uid != who.uid) {
    setfsuid(who.uid);
    if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != who.uid) {
      c.known = false;
      return fail(EPERM, "setfsuid");
    }
    c.uid = who.uid;
  }
  // setfsuid() lowers only the file-system capabilities; a non-root identity must hold none
  // (CAP_SETFCAP, CAP_SYS_ADMIN for trusted.* xattrs, CAP_SYS_RESOURCE, ...).
  if (who.uid != 0) {
    if (auto r = set_effective_caps(false); !r) {
      c.known = false;
      return r;
    }
    c.caps_lowered = true;
  } else if (auto r = set_effective_caps(true); !r) {
    c.known = false;
    return r;
  }
  c.known = true;
  return {};
}

}  // namespace ninep::server
