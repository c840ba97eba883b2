// The unit tests' main: GoogleTest, plus a check that fails any test that leaks (or closes
// someone else's) file descriptor.
#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <iterator>

namespace {

// The entries of /proc/self/fd; the directory's own descriptor is counted every time, so
// two counts compare exactly.
std::ptrdiff_t open_descriptors() {
  return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                       std::filesystem::directory_iterator{});
}

class DescriptorLeakCheck : public testing::EmptyTestEventListener {
 public:
  void OnTestStart(const testing::TestInfo&) override { before_ = open_descriptors(); }
  void OnTestEnd(const testing::TestInfo&) override {
    const std::ptrdiff_t after = open_descriptors();
    EXPECT_EQ(after, before_) << "open descriptors changed by " << after - before_;
  }

 private:
  std::ptrdiff_t before_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // The listener list takes ownership.
  testing::UnitTest::GetInstance()->listeners().Append(new DescriptorLeakCheck);
  return RUN_ALL_TESTS();
}
