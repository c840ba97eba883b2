// select(): Python's select.select over poll(2), so descriptors above FD_SETSIZE work.
#pragma once

#include <poll.h>

#include <chrono>
#include <optional>
#include <span>
#include <vector>

namespace sockit {

struct SelectResult {
  std::vector<int> readable;
  std::vector<int> writable;
  std::vector<int> exceptional;  // urgent data or an error condition
};

// Waits until a descriptor of readers is readable, one of writers is writable or one of
// errors has an exceptional condition, or until timeout passes (std::nullopt: no limit).
// A closed or invalid descriptor is an Error (EBADF), as in Python.
SelectResult select(const std::vector<int>& readers, const std::vector<int>& writers,
                    const std::vector<int>& errors,
                    std::optional<std::chrono::duration<double>> timeout = std::nullopt);

// poll(2) with a retry on EINTR that keeps the original deadline; returns how many entries
// have revents set (0 when the timeout passed).
int poll(std::span<pollfd> fds, std::optional<std::chrono::duration<double>> timeout);

}  // namespace sockit
