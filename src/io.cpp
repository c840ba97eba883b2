#include "sockit/io.hpp"

#include "sys/event.hpp"
#include "sys/sys.hpp"

namespace sockit {

Result<std::size_t> read_some(int fd, std::span<char> buffer) noexcept {
  return sys::read(fd, buffer.data(), buffer.size());
}

Result<void> write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    auto written = sys::write(fd, data.data(), data.size());
    if (written) {
      data.remove_prefix(*written);
    } else if (written.error() == std::errc::resource_unavailable_try_again) {
      if (auto code = sys::wait(fd, POLLOUT, std::nullopt)) return code;
    } else {
      return written.error();
    }
  }
  return {};
}

bool is_terminal(int fd) noexcept {
  return sys::isatty(fd);
}

void ignore_sigpipe() noexcept {
  sys::ignore_sigpipe();
}

Result<void> open_standard_fds() noexcept {
  return sys::open_closed_standard_fds();
}

std::uint64_t raise_open_file_limit() noexcept {
  return sys::raise_nofile_limit();
}

}  // namespace sockit
