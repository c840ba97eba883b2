// open_each_component, open_below's way on kernels without openat2: the same answers as
// RESOLVE_BENEATH for paths that stay below the root, and a refusal for every way out.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support.hpp"
#include "sys/file.hpp"

namespace sockit::test {
namespace {

class OpenEachComponent : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "root" / "sub");
    std::ofstream(dir_ / "root" / "sub" / "file.txt") << "below";
    std::ofstream(dir_ / "outside.txt") << "outside";
    std::filesystem::create_symlink(dir_ / "outside.txt", dir_ / "root" / "link.txt");
    std::filesystem::create_directory_symlink(dir_ / "root" / "sub", dir_ / "root" / "sublink");
    root_ = ::open((dir_ / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(root_, 0);
  }
  void TearDown() override {
    ::close(root_);
    std::filesystem::remove_all(dir_);
  }

  std::string read(const char* path) {
    auto fd = sys::open_each_component(root_, path);
    if (!fd) return "error: " + fd.error().message();
    char buffer[64];
    const auto n = ::read(*fd, buffer, sizeof buffer);
    ::close(*fd);
    return n < 0 ? "error: read" : std::string(buffer, static_cast<std::size_t>(n));
  }
  std::error_code error_of(const char* path) {
    auto fd = sys::open_each_component(root_, path);
    if (fd) ::close(*fd);
    return fd ? std::error_code() : fd.error();
  }

  std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / ("sockit-open-" + fresh_abstract_name());
  int root_ = -1;
};

TEST_F(OpenEachComponent, OpensFilesBelowTheRoot) {
  EXPECT_EQ(read("sub/file.txt"), "below");
  EXPECT_EQ(read("sub//file.txt"), "below");
  EXPECT_EQ(read("./sub/file.txt"), "below");
}

TEST_F(OpenEachComponent, OpensADirectoryNamedWithATrailingSlash) {
  auto fd = sys::open_each_component(root_, "sub/");
  ASSERT_TRUE(fd.ok());
  struct stat st {};
  EXPECT_EQ(::fstat(*fd, &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ::close(*fd);
}

TEST_F(OpenEachComponent, RefusesEveryWayOut) {
  EXPECT_EQ(error_of("../outside.txt"), std::errc::cross_device_link);
  EXPECT_EQ(error_of("sub/../../outside.txt"), std::errc::cross_device_link);
  EXPECT_EQ(error_of("/etc/passwd"), std::errc::cross_device_link);
  // Symlinks are not followed at all: as the last component (ELOOP) or before it, where the
  // link itself is not a directory.
  EXPECT_EQ(error_of("link.txt"), std::errc::too_many_symbolic_link_levels);
  EXPECT_EQ(error_of("sublink/file.txt"), std::errc::not_a_directory);
  EXPECT_EQ(error_of("sub/missing.txt"), std::errc::no_such_file_or_directory);
}

TEST_F(OpenEachComponent, LeavesNoDescriptorBehind) {
  const auto before = std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                    std::filesystem::directory_iterator{});
  for (const char* path : {"sub/file.txt", "sub/../../x", "sublink/file.txt", "sub/nothing"})
    static_cast<void>(error_of(path));
  const auto after = std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                   std::filesystem::directory_iterator{});
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace sockit::test
