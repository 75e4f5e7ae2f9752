#include "server/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace ninep::server {

void Log::emit(LogLevel level, std::string_view line) const {
  if (cfg_.log_sink) {
    cfg_.log_sink(level, line);
    return;
  }
  // One write per line so lines from different threads never interleave.
  std::string out;
  out.reserve(line.size() + 16);
  out += "ninep serve: ";
  out += line;
  out += '\n';
  const char* p = out.data();
  std::size_t left = out.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

int descriptors_exhausted() {
  // The cheapest descriptor there is: "/" exists in every mount namespace, sandbox included.
  const int fd = ::open("/", O_PATH | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return 0;
  }
  return errno == EMFILE || errno == ENFILE ? errno : 0;
}

}  // namespace ninep::server
