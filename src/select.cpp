#include "sockit/select.hpp"

#include <algorithm>

#include "sockit/error.hpp"
#include "sys/sys.hpp"

namespace sockit {
namespace {

sys::Deadline deadline_after(std::optional<std::chrono::duration<double>> timeout) {
  if (!timeout) return std::nullopt;
  if (timeout->count() < 0) throw std::invalid_argument("timeout must be non-negative");
  return sys::Clock::now() + std::chrono::duration_cast<sys::Clock::duration>(*timeout);
}

void add_interest(std::vector<pollfd>& entries, int fd, short events) {
  auto it = std::find_if(entries.begin(), entries.end(),
                         [fd](const pollfd& entry) { return entry.fd == fd; });
  if (it == entries.end()) {
    entries.push_back(pollfd{fd, events, 0});
  } else {
    it->events = static_cast<short>(it->events | events);
  }
}

// The descriptors of wanted whose poll entry reports any of ready, in wanted's order.
std::vector<int> matching(const std::vector<int>& wanted, const std::vector<pollfd>& entries,
                          short ready) {
  std::vector<int> result;
  for (int fd : wanted) {
    auto it = std::find_if(entries.begin(), entries.end(),
                           [fd](const pollfd& entry) { return entry.fd == fd; });
    if (it != entries.end() && (it->revents & ready) != 0) result.push_back(fd);
  }
  return result;
}

}  // namespace

int poll(std::span<pollfd> fds, std::optional<std::chrono::duration<double>> timeout) {
  return sys::poll(fds, deadline_after(timeout)).value_or_throw("poll");
}

SelectResult select(const std::vector<int>& readers, const std::vector<int>& writers,
                    const std::vector<int>& errors,
                    std::optional<std::chrono::duration<double>> timeout) {
  std::vector<pollfd> entries;
  for (int fd : readers)
    add_interest(entries, fd, POLLIN);
  for (int fd : writers)
    add_interest(entries, fd, POLLOUT);
  for (int fd : errors)
    add_interest(entries, fd, POLLPRI);
  sockit::poll(entries, timeout);
  for (const auto& entry : entries) {
    if (entry.fd < 0 || (entry.revents & POLLNVAL) != 0) {
      throw_error(std::make_error_code(std::errc::bad_file_descriptor),
                  "select fd " + std::to_string(entry.fd));
    }
  }
  // As select(2) does, an error or hang-up counts as readable and writable: the next call
  // on the descriptor reports it.
  const short failed = POLLERR | POLLHUP;
  return SelectResult{matching(readers, entries, POLLIN | POLLRDHUP | failed),
                      matching(writers, entries, POLLOUT | failed),
                      matching(errors, entries, POLLPRI)};
}

}  // namespace sockit
