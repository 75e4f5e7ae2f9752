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

}  // namespace ninep::server
