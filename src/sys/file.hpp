// The file-system calls the static file server makes: opening below a root directory without
// escaping it, fstat, pread, sendfile and directory listings. Errors come back as error codes.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sockit/error.hpp"

namespace sockit::sys {

// Opens a directory to serve from (O_PATH: it is only ever a base for open_below).
Result<int> open_directory(const char* path) noexcept;

// Opens path relative to the directory root for reading. With beneath, resolution may not
// leave root by "..", an absolute path or a symlink pointing outside it (the kernel checks
// every step: openat2 with RESOLVE_BENEATH); an escape fails with EXDEV.
Result<int> open_below(int root, const char* path, bool beneath) noexcept;
// open_below's way where openat2 is missing (kernels before 5.6, valgrind): each component is
// opened in turn from root without following symlinks, and ".." or an absolute path fails
// with EXDEV. Stricter than RESOLVE_BENEATH, which follows links that stay below root.
Result<int> open_each_component(int root, const char* path) noexcept;

std::error_code fstat(int fd, struct stat& out) noexcept;
// stat of a name inside an open directory; a symlink itself unless follow.
std::error_code fstatat(int directory, const char* name, struct stat& out, bool follow) noexcept;

Result<std::size_t> pread(int fd, void* data, std::size_t size, std::uint64_t offset) noexcept;

// Sends up to count bytes of in_fd from offset, advancing offset by what was sent.
Result<std::size_t> sendfile(int out_fd, int in_fd, std::uint64_t& offset,
                             std::size_t count) noexcept;

// The names in an open directory, "." and ".." left out, in no particular order.
Result<std::vector<std::string>> list_directory(int directory) noexcept;

}  // namespace sockit::sys
