// Errors: the Python exception each failure becomes, and the text it carries.
#include <gtest/gtest.h>
#include <netdb.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <typeindex>
#include <typeinfo>
#include <vector>

#include "sockit/socket.hpp"
#include "support.hpp"

namespace sockit::test {
namespace {

std::error_code errno_code(int value) {
  return {value, std::system_category()};
}

TEST(ErrnoName, NamesAsPythonsErrorcode) {
  EXPECT_EQ(errno_name(ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(errno_name(ECONNRESET), "ECONNRESET");
  EXPECT_EQ(errno_name(EPIPE), "EPIPE");
  EXPECT_EQ(errno_name(ETIMEDOUT), "ETIMEDOUT");
  EXPECT_EQ(errno_name(EWOULDBLOCK), "EAGAIN");  // the same value on Linux
  EXPECT_EQ(errno_name(EINPROGRESS), "EINPROGRESS");
  EXPECT_EQ(errno_name(EADDRINUSE), "EADDRINUSE");
  EXPECT_EQ(errno_name(EBADF), "EBADF");
  EXPECT_EQ(errno_name(0), "E?");
  EXPECT_EQ(errno_name(-1), "E?");
  EXPECT_EQ(errno_name(4095), "E?");
}

struct Mapping {
  std::error_code code;
  std::type_index type;
};

TEST(ThrowError, EachCodeBecomesItsPythonSubclass) {
  const std::vector<Mapping> mappings = {
      {errno_code(ECONNREFUSED), typeid(ConnectionRefusedError)},
      {errno_code(ECONNRESET), typeid(ConnectionResetError)},
      {errno_code(ECONNABORTED), typeid(ConnectionAbortedError)},
      {errno_code(EPIPE), typeid(BrokenPipeError)},
      {errno_code(ESHUTDOWN), typeid(BrokenPipeError)},
      {errno_code(ETIMEDOUT), typeid(TimeoutError)},
      {errno_code(EAGAIN), typeid(BlockingIOError)},
      {errno_code(EINPROGRESS), typeid(BlockingIOError)},
      {errno_code(EALREADY), typeid(BlockingIOError)},
      {errno_code(EBADF), typeid(Error)},
      {errno_code(EADDRINUSE), typeid(Error)},
      {{EAI_NONAME, gai_category()}, typeid(GaiError)},
      {make_error_code(AddressErrc::bad_port), typeid(AddressError)},
  };
  for (const auto& mapping : mappings) {
    SCOPED_TRACE(mapping.code.message());
    try {
      throw_error(mapping.code, "op");
    } catch (const std::system_error& error) {
      EXPECT_EQ(std::type_index(typeid(error)), mapping.type);
      EXPECT_NE(dynamic_cast<const Error*>(&error), nullptr) << "not a sockit::Error";
      EXPECT_EQ(error.code(), mapping.code);
    }
  }
}

TEST(ThrowError, ConnectionErrorsShareTheirBase) {
  EXPECT_THROW(throw_error(errno_code(ECONNREFUSED), "op"), ConnectionError);
  EXPECT_THROW(throw_error(errno_code(ECONNRESET), "op"), ConnectionError);
  EXPECT_THROW(throw_error(errno_code(EPIPE), "op"), ConnectionError);
  EXPECT_THROW(throw_error(errno_code(ETIMEDOUT), "op"), Error);
}

TEST(ThrowIf, ThrowsOnlyForAnError) {
  EXPECT_NO_THROW(throw_if({}, "op"));
  EXPECT_THROW(throw_if(errno_code(ETIMEDOUT), "op"), TimeoutError);
}

std::string message_of(std::error_code code, std::string_view operation) {
  try {
    throw_error(code, operation);
  } catch (const Error& error) {
    return error.what();
  }
}

TEST(ErrorMessage, SaysWhatOnWhatAndWhy) {
  EXPECT_EQ(message_of(errno_code(ECONNRESET), "recv 127.0.0.1:1"),
            "recv 127.0.0.1:1: Connection reset by peer (ECONNRESET)");
  EXPECT_EQ(message_of(errno_code(ETIMEDOUT), "recv 127.0.0.1:1"),
            "recv 127.0.0.1:1: timed out (ETIMEDOUT)");
  EXPECT_EQ(message_of({EAI_NONAME, gai_category()}, "getaddrinfo x"),
            std::string("getaddrinfo x: ") + ::gai_strerror(EAI_NONAME));
  EXPECT_EQ(message_of(make_error_code(AddressErrc::bad_port), "parse x:y"),
            "parse x:y: port is not a number");
}

TEST(ErrorMessage, RefusedConnectNamesTheEndpoint) {
  const Socket closed = refusing_socket();
  const std::uint16_t port = closed.getsockname().port();
  Socket client;
  client.settimeout(kIoTimeout);
  try {
    client.connect(Endpoint::loopback(Family::inet, port));
    FAIL() << "connected to a port nobody listens on";
  } catch (const ConnectionRefusedError& error) {
    EXPECT_EQ(error.code(), std::errc::connection_refused);
    EXPECT_STREQ(error.what(), ("connect 127.0.0.1:" + std::to_string(port) +
                                ": Connection refused (ECONNREFUSED)")
                                   .c_str());
  }
}

TEST(ErrorMessage, ClosedSocketIsEbadf) {
  Socket socket;
  socket.close();
  try {
    socket.getsockname();
    FAIL() << "getsockname on a closed socket";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), std::errc::bad_file_descriptor);
    EXPECT_STREQ(error.what(), "getsockname: Bad file descriptor (EBADF)");
  }
}

TEST(Result, ValueOrTheMatchingError) {
  Result<int> good(7);
  EXPECT_TRUE(good.ok());
  EXPECT_FALSE(good.error());
  EXPECT_EQ(std::move(good).value_or_throw("good"), 7);

  Result<int> bad(errno_code(ECONNRESET));
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), std::errc::connection_reset);
  EXPECT_THROW(std::move(bad).value_or_throw("bad"), ConnectionResetError);
}

TEST(Result, ValueOnAnErrorThrowsTheMatchingError) {
  Result<int> refused(errno_code(ECONNREFUSED));
  EXPECT_THROW((void)refused.value(), ConnectionRefusedError);
  EXPECT_THROW((void)*refused, ConnectionRefusedError);
  try {
    (void)refused.value();
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "Result::value: Connection refused (ECONNREFUSED)");
  }
}

TEST(Result, VoidIsTruthyOnSuccess) {
  Result<void> done;
  EXPECT_TRUE(done);
  EXPECT_FALSE(done.error());
  EXPECT_NO_THROW(done.value());

  Result<void> timed_out(errno_code(ETIMEDOUT));
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error(), std::errc::timed_out);
  EXPECT_THROW(timed_out.value(), TimeoutError);
  EXPECT_THROW(timed_out.value_or_throw("wait"), TimeoutError);
}

}  // namespace
}  // namespace sockit::test
