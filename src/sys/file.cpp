#include "sys/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

#include "sys/sys.hpp"

namespace sockit::sys {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};

constexpr int kFileFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

Result<int> open_at(int directory, const char* name, int flags) noexcept {
  for (;;) {
    const int fd = ::openat(directory, name, flags);
    if (fd >= 0) return fd;
    if (errno != EINTR) return errno_code();
  }
}

}  // namespace

Result<int> open_directory(const char* path) noexcept {
  const int fd = ::open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_code();
  return fd;
}

Result<int> open_each_component(int root, const char* path) noexcept {
  if (*path == '/') return std::make_error_code(std::errc::cross_device_link);
  int directory = root;
  for (const char* at = path;;) {
    const char* end = ::strchrnul(at, '/');
    const auto size = static_cast<std::size_t>(end - at);
    const bool last = *end == '\0';
    char name[NAME_MAX + 1] = ".";  // an empty last component ("dir/"): the directory itself
    if (size > NAME_MAX) {
      if (directory != root) ::close(directory);
      return std::make_error_code(std::errc::filename_too_long);
    }
    if (size > 0) {
      std::memcpy(name, at, size);
      name[size] = '\0';
    }
    if (std::strcmp(name, "..") == 0) {
      if (directory != root) ::close(directory);
      return std::make_error_code(std::errc::cross_device_link);
    }
    Result<int> opened = directory;
    if (size > 0 || last) {
      opened = open_at(directory, name,
                       (last ? kFileFlags : O_PATH | O_DIRECTORY | O_CLOEXEC) | O_NOFOLLOW);
      if (directory != root) ::close(directory);
    }
    if (!opened || last) return opened;
    directory = *opened;
    at = end + 1;
  }
}

Result<int> open_below(int root, const char* path, bool beneath) noexcept {
  open_how how{};
  how.flags = kFileFlags;
  how.resolve = RESOLVE_NO_MAGICLINKS | (beneath ? RESOLVE_BENEATH : 0);
  for (;;) {
    const long fd = ::syscall(SYS_openat2, root, path, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == ENOSYS) {
      return beneath ? open_each_component(root, path) : open_at(root, path, kFileFlags);
    }
    // EAGAIN: a concurrent rename made the kernel give up a cached lookup; it asks for a retry.
    if (errno != EINTR && errno != EAGAIN) return errno_code();
  }
}

std::error_code fstat(int fd, struct stat& out) noexcept {
  return ::fstat(fd, &out) < 0 ? errno_code() : std::error_code{};
}

std::error_code fstatat(int directory, const char* name, struct stat& out, bool follow) noexcept {
  const int flags = follow ? 0 : AT_SYMLINK_NOFOLLOW;
  return ::fstatat(directory, name, &out, flags) < 0 ? errno_code() : std::error_code{};
}

Result<std::size_t> pread(int fd, void* data, std::size_t size, std::uint64_t offset) noexcept {
  for (;;) {
    const ssize_t n = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return errno_code();
  }
}

Result<std::size_t> sendfile(int out_fd, int in_fd, std::uint64_t& offset,
                             std::size_t count) noexcept {
  off_t position = static_cast<off_t>(offset);
  for (;;) {
    const ssize_t n = ::sendfile(out_fd, in_fd, &position, count);
    if (n >= 0) {
      offset = static_cast<std::uint64_t>(position);
      return static_cast<std::size_t>(n);
    }
    if (errno != EINTR) return errno_code();
  }
}

Result<std::vector<std::string>> list_directory(int directory) noexcept {
  // fdopendir takes the descriptor over, so it gets a fresh one that reads from the start.
  const int fd = ::openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_code();
  std::unique_ptr<DIR, DirCloser> dir(::fdopendir(fd));
  if (!dir) {
    const auto error = errno_code();
    close(fd);
    return error;
  }
  try {
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir.get())) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    if (errno != 0) return errno_code();
    return names;
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

}  // namespace sockit::sys
