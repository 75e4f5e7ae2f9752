// Test fixture: a fresh diod exporting an empty temporary directory, a session on it and the
// attached root. Skips (saying why) when diod is not installed.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "client/session.h"
#include "diod_server.h"

namespace ninep::client {

class DiodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::DiodServer::available()) GTEST_SKIP() << "diod is not installed";
    auto d = testing::DiodServer::start();
    ASSERT_TRUE(d) << d.error().to_string();
    diod_ = std::move(*d);
    auto s = Session::connect(diod_->address(), options());
    ASSERT_TRUE(s) << s.error().to_string();
    session_ = *s;
    auto r = session_->attach("root", diod_->aname(), ::getuid());
    ASSERT_TRUE(r) << r.error().to_string() << "\ndiod log:\n" << diod_->log();
    root_ = std::move(*r);
  }

  void TearDown() override {
    root_ = Fid();
    session_.reset();
    diod_.reset();
  }

  virtual SessionOptions options() const { return {}; }

  // Path of `rel` in the exported directory on the host.
  std::string host(const std::string& rel) const { return diod_->export_dir() + "/" + rel; }

  static void write_host_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }
  static std::string read_host_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static struct stat host_lstat(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
    return st;
  }
  static bool host_exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
  }

  std::unique_ptr<testing::DiodServer> diod_;
  std::shared_ptr<Session> session_;
  Fid root_;
};

}  // namespace ninep::client
