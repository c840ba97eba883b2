// Blocking round trip over loopback: sockit::Socket (sendall + recv_into) against the raw
// send(2)/recv(2) it wraps, on the same kind of connected blocking sockets with the same
// in-process echo peer. The one place outside src/sys/ that calls the raw socket syscalls:
// measuring them is its point.
#include <benchmark/benchmark.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "sockit/socket.hpp"

namespace {

using sockit::Socket;

constexpr std::size_t message_sizes[] = {1, 64, 1024, 16 * 1024};
// Long enough for a stable median on a noisy machine, short enough for the suite to take
// well under a minute with five repetitions.
constexpr double min_seconds = 0.25;
// The echo peer gives up after this long without a request, so it ends even if the
// benchmark thread stops talking to it.
constexpr timeval peer_idle_limit{10, 0};

enum class Transport { tcp, unix_pair };

std::pair<Socket, Socket> connect_tcp() {
  Socket server = sockit::create_server({"127.0.0.1", 0});
  Socket ours = sockit::create_connection({"127.0.0.1", server.getsockname().port()});
  Socket theirs = server.accept().conn;
  ours.set(sockit::opt::no_delay{true});
  theirs.set(sockit::opt::no_delay{true});
  return {std::move(ours), std::move(theirs)};
}

// A connected pair of blocking stream sockets: the first for the benchmark, the second for
// the echo peer.
std::pair<Socket, Socket> connect(Transport transport) {
  if (transport == Transport::tcp) return connect_tcp();
  return Socket::socketpair(sockit::Family::local, sockit::Type::stream);
}

bool raw_send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent < 0) return false;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

// Sends back whatever arrives until the other side closes, an error, or the idle limit.
void echo(int fd) {
  std::vector<char> buffer(message_sizes[std::size(message_sizes) - 1]);
  for (;;) {
    const ssize_t received = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (received <= 0 || !raw_send_all(fd, buffer.data(), static_cast<std::size_t>(received))) {
      break;
    }
  }
  ::shutdown(fd, SHUT_RDWR);
}

// The benchmark's end of a connection whose far end is an echo thread; closing our write
// side on destruction ends the thread, which is joined.
class EchoConnection {
 public:
  explicit EchoConnection(std::pair<Socket, Socket> pair)
      : ours_(std::move(pair.first)), theirs_(std::move(pair.second)) {
    theirs_.setsockopt(SOL_SOCKET, SO_RCVTIMEO, &peer_idle_limit, sizeof peer_idle_limit);
    peer_ = std::thread(echo, theirs_.fileno());
  }
  EchoConnection(const EchoConnection&) = delete;
  EchoConnection& operator=(const EchoConnection&) = delete;
  ~EchoConnection() {
    static_cast<void>(ours_.try_shutdown(sockit::Shut::wr));
    peer_.join();
  }

  Socket& socket() noexcept { return ours_; }

 private:
  Socket ours_;
  Socket theirs_;
  std::thread peer_;
};

void sockit_round_trip(Socket& socket, std::string_view message, std::span<char> reply) {
  socket.sendall(message);
  for (std::size_t got = 0; got < reply.size();) {
    const std::size_t received = socket.recv_into(reply.subspan(got));
    if (received == 0) throw std::runtime_error("echo peer closed the connection");
    got += received;
  }
}

void raw_round_trip(Socket& socket, std::string_view message, std::span<char> reply) {
  const int fd = socket.fileno();
  if (!raw_send_all(fd, message.data(), message.size())) throw std::runtime_error("send failed");
  for (std::size_t got = 0; got < reply.size();) {
    const ssize_t received = ::recv(fd, reply.data() + got, reply.size() - got, 0);
    if (received <= 0) throw std::runtime_error("recv failed or echo peer closed");
    got += static_cast<std::size_t>(received);
  }
}

using RoundTrip = void (*)(Socket&, std::string_view, std::span<char>);

// A message whose bytes differ from their neighbours, so a reordered echo cannot match.
std::string pattern(std::size_t size) {
  std::string message(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    message[i] = static_cast<char>('a' + i % 26);
  return message;
}

void measure(benchmark::State& state, Transport transport, RoundTrip round_trip) {
  const std::string message = pattern(static_cast<std::size_t>(state.range(0)));
  std::string reply(message.size(), '\0');
  EchoConnection connection(connect(transport));
  try {
    for ([[maybe_unused]] auto _ : state)
      round_trip(connection.socket(), message, reply);
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
    return;
  }
  if (reply != message) {
    state.SkipWithError("the echo differs from the message");
    return;
  }
  state.SetBytesProcessed(state.iterations() * 2 * state.range(0));
}

void register_round_trips() {
  const std::pair<const char*, Transport> transports[] = {{"tcp", Transport::tcp},
                                                          {"unix", Transport::unix_pair}};
  const std::pair<const char*, RoundTrip> variants[] = {{"sockit", sockit_round_trip},
                                                        {"raw", raw_round_trip}};
  for (const auto& [transport_name, transport] : transports) {
    for (const auto& [variant_name, round_trip] : variants) {
      const std::string name = std::string("roundtrip/") + transport_name + "/" + variant_name;
      auto* benchmark = benchmark::RegisterBenchmark(name.c_str(), measure, transport, round_trip);
      for (const std::size_t size : message_sizes) {
        benchmark->Arg(static_cast<std::int64_t>(size));
      }
      benchmark->UseRealTime()->MinTime(min_seconds);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_round_trips();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
