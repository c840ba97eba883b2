#include "sockit/fd.hpp"

#include "sys/sys.hpp"

namespace sockit {

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) sys::close(fd_);
  fd_ = fd;
}

}  // namespace sockit
