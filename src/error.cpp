#include "sockit/error.hpp"

#include <netdb.h>

#include <cerrno>
#include <string>

namespace sockit {
namespace {

class GaiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

class AddressCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "address"; }
  std::string message(int code) const override {
    switch (static_cast<AddressErrc>(code)) {
      case AddressErrc::empty:
        return "empty address";
      case AddressErrc::missing_port:
        return "missing port (expected host:port)";
      case AddressErrc::bad_port:
        return "port is not a number";
      case AddressErrc::port_out_of_range:
        return "port out of range 0-65535";
      case AddressErrc::bad_ipv4:
        return "not a valid IPv4 address";
      case AddressErrc::bad_ipv6:
        return "not a valid IPv6 address";
      case AddressErrc::bad_scope:
        return "unknown IPv6 scope (interface)";
      case AddressErrc::unbalanced_bracket:
        return "unbalanced '[' in IPv6 address";
      case AddressErrc::needs_brackets:
        return "IPv6 address needs brackets: [addr]:port";
      case AddressErrc::path_too_long:
        return "Unix socket path too long";
      case AddressErrc::not_numeric:
        return "not a numeric address";
      case AddressErrc::bad_prefix:
        return "bad prefix length after '/'";
      case AddressErrc::nul_in_path:
        return "NUL byte in Unix socket path";
      case AddressErrc::bad_range:
        return "bad address range (first-last of one family, last not below first)";
    }
    return "malformed address";
  }
};

// The reason part of a message: "Connection refused (ECONNREFUSED)" for errno values, the
// category's own text otherwise.
std::string reason(std::error_code code) {
  if (code.category() != std::system_category() && code.category() != std::generic_category()) {
    return code.message();
  }
  if (code == std::errc::timed_out) return "timed out (ETIMEDOUT)";
  return code.message() + " (" + std::string(errno_name(code.value())) + ")";
}

}  // namespace

Error::Error(std::error_code code, std::string_view operation)
    : std::system_error(code), message_(std::string(operation) + ": " + reason(code)) {}

const std::error_category& gai_category() noexcept {
  static const GaiCategory category;
  return category;
}

const std::error_category& address_category() noexcept {
  static const AddressCategory category;
  return category;
}

std::error_code make_error_code(AddressErrc code) noexcept {
  return {static_cast<int>(code), address_category()};
}

std::string_view errno_name(int value) noexcept {
  switch (value) {
#define SOCKIT_ERRNO(name) \
  case name:               \
    return #name;
    SOCKIT_ERRNO(EPERM)
    SOCKIT_ERRNO(ENOENT)
    SOCKIT_ERRNO(ESRCH)
    SOCKIT_ERRNO(EINTR)
    SOCKIT_ERRNO(EIO)
    SOCKIT_ERRNO(ENXIO)
    SOCKIT_ERRNO(E2BIG)
    SOCKIT_ERRNO(EBADF)
    SOCKIT_ERRNO(EAGAIN)
    SOCKIT_ERRNO(ENOMEM)
    SOCKIT_ERRNO(EACCES)
    SOCKIT_ERRNO(EFAULT)
    SOCKIT_ERRNO(EBUSY)
    SOCKIT_ERRNO(EEXIST)
    SOCKIT_ERRNO(ENODEV)
    SOCKIT_ERRNO(ENOTDIR)
    SOCKIT_ERRNO(EISDIR)
    SOCKIT_ERRNO(EINVAL)
    SOCKIT_ERRNO(ENFILE)
    SOCKIT_ERRNO(EMFILE)
    SOCKIT_ERRNO(ENOSPC)
    SOCKIT_ERRNO(EPIPE)
    SOCKIT_ERRNO(ERANGE)
    SOCKIT_ERRNO(ENAMETOOLONG)
    SOCKIT_ERRNO(ENOSYS)
    SOCKIT_ERRNO(ELOOP)
    SOCKIT_ERRNO(ENOTSOCK)
    SOCKIT_ERRNO(EDESTADDRREQ)
    SOCKIT_ERRNO(EMSGSIZE)
    SOCKIT_ERRNO(EPROTOTYPE)
    SOCKIT_ERRNO(ENOPROTOOPT)
    SOCKIT_ERRNO(EPROTONOSUPPORT)
    SOCKIT_ERRNO(ESOCKTNOSUPPORT)
    SOCKIT_ERRNO(EOPNOTSUPP)
    SOCKIT_ERRNO(EPFNOSUPPORT)
    SOCKIT_ERRNO(EAFNOSUPPORT)
    SOCKIT_ERRNO(EADDRINUSE)
    SOCKIT_ERRNO(EADDRNOTAVAIL)
    SOCKIT_ERRNO(ENETDOWN)
    SOCKIT_ERRNO(ENETUNREACH)
    SOCKIT_ERRNO(ENETRESET)
    SOCKIT_ERRNO(ECONNABORTED)
    SOCKIT_ERRNO(ECONNRESET)
    SOCKIT_ERRNO(ENOBUFS)
    SOCKIT_ERRNO(EISCONN)
    SOCKIT_ERRNO(ENOTCONN)
    SOCKIT_ERRNO(ESHUTDOWN)
    SOCKIT_ERRNO(ETIMEDOUT)
    SOCKIT_ERRNO(ECONNREFUSED)
    SOCKIT_ERRNO(EHOSTDOWN)
    SOCKIT_ERRNO(EHOSTUNREACH)
    SOCKIT_ERRNO(EALREADY)
    SOCKIT_ERRNO(EINPROGRESS)
    SOCKIT_ERRNO(ECANCELED)
    SOCKIT_ERRNO(EPROTO)
    SOCKIT_ERRNO(EBADMSG)
    SOCKIT_ERRNO(EOVERFLOW)
#undef SOCKIT_ERRNO
    default:
      return "E?";
  }
}

void throw_error(std::error_code code, std::string_view operation) {
  if (code.category() == gai_category()) throw GaiError(code, operation);
  if (code.category() == address_category()) throw AddressError(code, operation);
  if (code == std::errc::timed_out) throw TimeoutError(code, operation);
  if (code == std::errc::operation_would_block ||
      code == std::errc::resource_unavailable_try_again ||
      code == std::errc::operation_in_progress ||
      code == std::errc::connection_already_in_progress) {
    throw BlockingIOError(code, operation);
  }
  if (code == std::errc::connection_refused) throw ConnectionRefusedError(code, operation);
  if (code == std::errc::connection_reset) throw ConnectionResetError(code, operation);
  if (code == std::errc::connection_aborted) throw ConnectionAbortedError(code, operation);
  if (code == std::errc::broken_pipe ||
      code == std::error_code(ESHUTDOWN, std::system_category())) {
    throw BrokenPipeError(code, operation);
  }
  throw Error(code, operation);
}

}  // namespace sockit
