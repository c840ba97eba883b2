// libFuzzer target: arbitrary bytes as the first flight a TLS server receives (a ClientHello,
// alerts, records of any type, garbage, plain HTTP). The bytes go into one end of a socket pair
// whose writing side is then shut down, and a server TlsEngine on the other end runs the
// handshake (and reads, should one ever complete) until it fails, finishes or wants bytes
// that will never come. It must never crash, leak or hang, and must end in a state its
// contract names: a failure says why, and a session that is not failed is not over.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "sockit/socket.hpp"
#include "sockit/tls.hpp"

namespace {

using Step = sockit::TlsEngine::Step;

// Above what a socket pair's buffer takes without a reader (the engine reads only after the
// writer is done); libFuzzer's inputs stay far below it unless told otherwise.
constexpr std::size_t kMaxInput = 64 * 1024;
// More steps than any first flight can take: each consumes a record or ends the session.
constexpr int kMaxSteps = 4096;

[[noreturn]] void violated(const char* property) {
  std::fprintf(stderr, "tls_server_fuzz: %s\n", property);
  std::abort();
}

void check(bool holds, const char* property) {
  if (!holds) violated(property);
}

// One context for every run: making a key and certificate per input would be all the fuzzer
// measures.
const sockit::TlsContext& server_context() {
  static const sockit::TlsContext context(sockit::TlsServerOptions{});
  return context;
}

// Whether the engine may be called again after step.
bool goes_on(const Step& step) {
  switch (step.status) {
    case Step::failed:
      check(static_cast<bool>(step.error), "a failure says why");
      return false;
    case Step::closed:
      return false;
    case Step::want_write:
      violated("the server wants to write to a peer with room to spare");
    case Step::want_read:
      return false;  // the client has said all it will
    case Step::done:
      return true;
  }
  violated("an unknown step");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return 0;
  auto [client, server] = sockit::Socket::socketpair();
  client.sendall({reinterpret_cast<const char*>(data), size});
  client.shutdown(sockit::Shut::wr);
  server.setblocking(false);
  sockit::TlsEngine engine = server_context().engine(server.fileno());
  int steps = 0;
  Step step = engine.handshake();
  while (goes_on(step) && !engine.handshake_done() && ++steps < kMaxSteps)
    step = engine.handshake();
  if (step.status == Step::done) {
    char buffer[4096];
    do {
      step = engine.read(buffer);
      check(step.status != Step::done || step.bytes > 0, "a read of nothing reports no bytes");
    } while (goes_on(step) && ++steps < kMaxSteps);
  }
  check(steps < kMaxSteps, "the session ends within its input");
  return 0;
}
