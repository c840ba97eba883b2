// Errors of the blocking layer: Python's OSError family as std::system_error subclasses.
//
// Every error says what failed, on what, and why:
//   connect 127.0.0.1:9: Connection refused (ECONNREFUSED)
// Calls that fail for routine reasons also have a noexcept form that returns a Result, truthy
// on success (only connect_ex returns a bare std::error_code, as Python's returns errno).
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace sockit {

// OSError: the base of every error the library throws.
class Error : public std::system_error {
 public:
  Error(std::error_code code, std::string_view operation);
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// socket.timeout / TimeoutError: a deadline passed before the operation completed.
class TimeoutError : public Error {
  using Error::Error;
};
// BlockingIOError: a non-blocking socket would have to wait (EAGAIN, EINPROGRESS).
class BlockingIOError : public Error {
  using Error::Error;
};
// ConnectionError and its subclasses, as in Python.
class ConnectionError : public Error {
  using Error::Error;
};
class ConnectionRefusedError : public ConnectionError {
  using ConnectionError::ConnectionError;
};
class ConnectionResetError : public ConnectionError {
  using ConnectionError::ConnectionError;
};
class ConnectionAbortedError : public ConnectionError {
  using ConnectionError::ConnectionError;
};
class BrokenPipeError : public ConnectionError {
  using ConnectionError::ConnectionError;
};
// socket.gaierror: name resolution failed; the code is in gai_category() and its message
// is the resolver's own text (gai_strerror).
class GaiError : public Error {
  using Error::Error;
};
// socket.herror: reverse lookup failed.
class HError : public Error {
  using Error::Error;
};
// A malformed address or port (Python raises ValueError/OSError for these).
class AddressError : public Error {
  using Error::Error;
};

// The category of getaddrinfo()/getnameinfo() return codes (EAI_*).
const std::error_category& gai_category() noexcept;
// The category of address parse failures; codes are AddressErrc values.
const std::error_category& address_category() noexcept;

enum class AddressErrc {
  empty = 1,
  missing_port,
  bad_port,
  port_out_of_range,
  bad_ipv4,
  bad_ipv6,
  bad_scope,
  unbalanced_bracket,
  needs_brackets,
  path_too_long,
  not_numeric,
  bad_prefix,
  nul_in_path,
  bad_range,
};
std::error_code make_error_code(AddressErrc code) noexcept;

// The symbolic name of an errno value, as Python's errno.errorcode: "ECONNREFUSED".
// Unknown values give "E?".
std::string_view errno_name(int value) noexcept;

// EAGAIN/EWOULDBLOCK: a non-blocking operation that would have to wait ("not now").
inline bool would_block(std::error_code code) noexcept {
  return code == std::errc::operation_would_block ||
         code == std::errc::resource_unavailable_try_again;
}

// Throws the Error subclass that matches the code, with "operation: reason" as its text.
[[noreturn]] void throw_error(std::error_code code, std::string_view operation);

// Throws when code is set; the usual tail of a throwing wrapper over a noexcept form.
inline void throw_if(std::error_code code, std::string_view operation) {
  if (code) throw_error(code, operation);
}

// A value or the error that prevented it: the return of noexcept forms, shaped like
// std::expected. Truthy on success, everywhere: `if (auto n = s.try_recv_into(buf))`.
// value() on an error throws the Error subclass that matches it, as the throwing forms do.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}   // NOLINT(google-explicit-constructor)
  Result(std::error_code code) : state_(code) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  std::error_code error() const noexcept { return ok() ? std::error_code{} : std::get<1>(state_); }
  T& value() & {
    check();
    return *std::get_if<0>(&state_);
  }
  const T& value() const& {
    check();
    return *std::get_if<0>(&state_);
  }
  T&& value() && {
    check();
    return std::move(*std::get_if<0>(&state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or the matching Error thrown with operation as its context.
  T value_or_throw(std::string_view operation) && {
    if (!ok()) throw_error(error(), operation);
    return std::move(*std::get_if<0>(&state_));
  }

 private:
  void check() const {
    if (!ok()) throw_error(error(), "Result::value");
  }

  std::variant<T, std::error_code> state_;
};

// Success or the error that prevented it, for calls that produce no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() noexcept = default;
  Result(std::error_code code) noexcept : error_(code) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return ok(); }
  std::error_code error() const noexcept { return error_; }
  // Throws the matching Error on failure, as value() does for a Result with a value.
  void value() const {
    if (error_) throw_error(error_, "Result::value");
  }
  void value_or_throw(std::string_view operation) const {
    if (error_) throw_error(error_, operation);
  }

 private:
  std::error_code error_;
};

}  // namespace sockit

template <>
struct std::is_error_code_enum<sockit::AddressErrc> : std::true_type {};
