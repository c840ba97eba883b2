// The tutorial's socket options: SO_REUSEADDR, SO_KEEPALIVE, TCP_NODELAY and the send and
// receive buffer sizes, each set on a TCP socket and read back.
//
//   socket_options [BUFSIZE]    default: 65536
#include <iostream>
#include <stdexcept>
#include <string>

#include <sockit/socket.hpp>

// Prints the option's value before and after setting it, as getsockopt() reports them.
template <class Option>
void set_and_show(sockit::Socket& sock, const std::string& name, Option option) {
  const auto before = sock.get<Option>().value;
  sock.set(option);
  std::cout << name << ": " << before << " -> " << sock.get<Option>().value << '\n';
}

int main(int argc, char** argv) try {
  if (argc > 2) throw std::invalid_argument("too many arguments");
  const int bufsize = argc > 1 ? std::stoi(argv[1]) : 65536;

  sockit::Socket sock(sockit::Family::inet, sockit::Type::stream);

  set_and_show(sock, "SO_REUSEADDR", sockit::opt::reuse_address{true});
  set_and_show(sock, "SO_KEEPALIVE", sockit::opt::keep_alive{true});
  set_and_show(sock, "TCP_NODELAY", sockit::opt::no_delay{true});
  // Linux reports twice the size asked for: the other half is its bookkeeping (socket(7)).
  set_and_show(sock, "SO_SNDBUF", sockit::opt::send_buffer{bufsize});
  set_and_show(sock, "SO_RCVBUF", sockit::opt::receive_buffer{bufsize});
} catch (const sockit::Error& e) {
  std::cerr << "socket_options: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: socket_options [BUFSIZE]\n";
  return 1;
}
