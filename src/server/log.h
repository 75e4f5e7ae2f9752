// Log lines of a Server: to ServerConfig::log_sink, or one write(2) per line to stderr.
#pragma once

#include <fmt/core.h>

#include <string_view>

#include "server/config.h"

namespace ninep::server {

class Log {
 public:
  explicit Log(const ServerConfig& cfg) : cfg_(cfg) {}

  bool enabled(LogLevel level) const { return level <= cfg_.log_level; }

  template <typename... Args>
  void log(LogLevel level, fmt::format_string<Args...> f, Args&&... args) const {
    if (!enabled(level)) return;
    emit(level, fmt::format(f, std::forward<Args>(args)...));
  }
  // Trace lines are printed whatever the level when tracing is on.
  void trace_line(std::string_view line) const { emit(LogLevel::Debug, line); }

 private:
  void emit(LogLevel level, std::string_view line) const;
  const ServerConfig& cfg_;
};

// EMFILE or ENFILE when the process cannot open one more descriptor right now (its own limit or
// the system's), 0 when it can: tells a host that ran out of descriptors from a client that hit
// its fid limit, both of which a request sees as EMFILE/ENFILE.
int descriptors_exhausted();

}  // namespace ninep::server
