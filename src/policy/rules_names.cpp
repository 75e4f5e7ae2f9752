// The names the rule language knows: 9P message names and errno names.
#include <cerrno>
#include <string_view>

#include "policy/rules.h"

namespace ninep::policy {

namespace {

struct MessageName {
  std::string_view name;
  std::uint32_t type;
};

// The 9P2000.L requests (values of p9::Type; tests/policy checks they agree), and the legacy
// 9P2000 requests a 9P2000.L server refuses anyway.
constexpr MessageName kMessages[] = {
    {"Tstatfs", 8},   {"Tlopen", 12},     {"Tlcreate", 14},     {"Tsymlink", 16},
    {"Tmknod", 18},   {"Trename", 20},    {"Treadlink", 22},    {"Tgetattr", 24},
    {"Tsetattr", 26}, {"Txattrwalk", 30}, {"Txattrcreate", 32}, {"Treaddir", 40},
    {"Tfsync", 50},   {"Tlock", 52},      {"Tgetlock", 54},     {"Tlink", 70},
    {"Tmkdir", 72},   {"Trenameat", 74},  {"Tunlinkat", 76},    {"Tversion", 100},
    {"Tauth", 102},   {"Tattach", 104},   {"Tflush", 108},      {"Twalk", 110},
    {"Topen", 112},   {"Tcreate", 114},   {"Tread", 116},       {"Twrite", 118},
    {"Tclunk", 120},  {"Tremove", 122},   {"Tstat", 124},       {"Twstat", 126},
};

struct ErrnoName {
  std::string_view name;
  int value;
};

constexpr ErrnoName kErrnos[] = {
    {"EPERM", EPERM},         {"ENOENT", ENOENT},       {"EIO", EIO},
    {"ENXIO", ENXIO},         {"E2BIG", E2BIG},         {"EBADF", EBADF},
    {"EAGAIN", EAGAIN},       {"ENOMEM", ENOMEM},       {"EACCES", EACCES},
    {"EBUSY", EBUSY},         {"EEXIST", EEXIST},       {"EXDEV", EXDEV},
    {"ENODEV", ENODEV},       {"ENOTDIR", ENOTDIR},     {"EISDIR", EISDIR},
    {"EINVAL", EINVAL},       {"ENFILE", ENFILE},       {"EMFILE", EMFILE},
    {"ETXTBSY", ETXTBSY},     {"EFBIG", EFBIG},         {"ENOSPC", ENOSPC},
    {"ESPIPE", ESPIPE},       {"EROFS", EROFS},         {"EMLINK", EMLINK},
    {"ERANGE", ERANGE},       {"EDEADLK", EDEADLK},     {"ENAMETOOLONG", ENAMETOOLONG},
    {"ENOLCK", ENOLCK},       {"ENOSYS", ENOSYS},       {"ENOTEMPTY", ENOTEMPTY},
    {"ELOOP", ELOOP},         {"ENODATA", ENODATA},     {"EOPNOTSUPP", EOPNOTSUPP},
    {"ENOTSUP", ENOTSUP},     {"ESTALE", ESTALE},       {"EDQUOT", EDQUOT},
    {"ECANCELED", ECANCELED}, {"EOVERFLOW", EOVERFLOW},
};

}  // namespace

std::optional<std::uint32_t> message_type(std::string_view name) {
  for (const auto& m : kMessages)
    if (m.name == name) return m.type;
  return std::nullopt;
}

std::string_view message_name(std::uint32_t type) {
  for (const auto& m : kMessages)
    if (m.type == type) return m.name;
  return {};
}

std::optional<int> errno_value(std::string_view name) {
  for (const auto& e : kErrnos)
    if (e.name == name) return e.value;
  return std::nullopt;
}

std::string_view errno_name(int value) {
  for (const auto& e : kErrnos)
    if (e.value == value) return e.name;  // the first name: EOPNOTSUPP before ENOTSUP
  return {};
}

}  // namespace ninep::policy
