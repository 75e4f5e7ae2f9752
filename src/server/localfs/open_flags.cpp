#include "server/localfs/open_flags.h"

#include <fcntl.h>
#include <sys/xattr.h>

#include "p9/message.h"

namespace ninep::server::localfs {

Result<HostOpen> translate_open_flags(std::uint32_t f) {
  HostOpen out;
  switch (f & p9::kOAccmode) {
    case p9::kORdonly:
      out.flags = O_RDONLY;
      break;
    case p9::kOWronly:
      out.flags = O_WRONLY;
      out.wants_write = true;
      break;
    case p9::kORdwr:
      out.flags = O_RDWR;
      out.wants_write = true;
      break;
    default:
      return fail(EINVAL, "open access mode 3");
  }
  if (f & p9::kOTrunc) {
    out.flags |= O_TRUNC;
    out.wants_write = true;
  }
  if (f & p9::kOAppend) out.flags |= O_APPEND;
  if (f & p9::kONonblock) out.flags |= O_NONBLOCK;
  if (f & p9::kODsync) out.flags |= O_DSYNC;
  if (f & p9::kOSync) out.flags |= O_SYNC;
  if (f & p9::kODirectory) out.flags |= O_DIRECTORY;
  out.flags |= O_CLOEXEC | O_NOCTTY;
#ifdef O_LARGEFILE
  out.flags |= O_LARGEFILE;
#endif
  return out;
}

int translate_xattr_flags(std::uint32_t f) {
  int out = 0;
  if (f & 1) out |= XATTR_CREATE;
  if (f & 2) out |= XATTR_REPLACE;
  return out;
}

}  // namespace ninep::server::localfs
