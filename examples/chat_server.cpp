// The tutorial's chat server: a thread per client, each message broadcast to every other
// client.
//
//   chat_server [HOST [PORT [CLIENTS]]]    default: localhost 8000, serving clients forever;
//   after CLIENTS clients it stops accepting, and it exits when the last of them has left.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <syncstream>
#include <thread>
#include <utility>
#include <vector>

#include <sockit/socket.hpp>

// Each socket belongs to its client's thread; the list only names the clients to send to.
std::mutex client_socks_mutex;
std::vector<sockit::Socket*> client_socks;

// The tutorial's bug: a client that left stayed in client_socks, so the next broadcast sent
// to its closed socket, and that error killed the sending client's thread. Here a client
// leaves the list the moment it is found gone: when its recv ends (clean close or error),
// and when a send to it fails, which then ends no one's thread.
void broadcast(std::string_view data, const sockit::Socket* sender) {
  const std::lock_guard lock(client_socks_mutex);
  std::erase_if(client_socks, [&](sockit::Socket* sock) {
    return sock != sender && !sock->try_sendall(data);  // true (erase) when the send failed
  });
}

// Called with client_socks_mutex held, so that the count is the one this event left.
void announce(const sockit::Endpoint& client_address, std::string_view event) {
  std::osyncstream(std::cout) << event << client_address << " (" << client_socks.size()
                              << " connected)" << std::endl;
}

void handle_client(sockit::Socket client_sock, sockit::Endpoint client_address) {
  {
    const std::lock_guard lock(client_socks_mutex);
    client_socks.push_back(&client_sock);
    announce(client_address, "New client connected: ");
  }
  try {
    std::string data;
    while (!(data = client_sock.recv(1024)).empty()) {
      broadcast(data, &client_sock);
    }
  } catch (const sockit::Error& e) {
    std::osyncstream(std::cerr) << "chat_server: " << e.what() << std::endl;
  }
  const std::lock_guard lock(client_socks_mutex);
  std::erase(client_socks, &client_sock);
  announce(client_address, "Client disconnected: ");
}

int main(int argc, char** argv) try {
  if (argc > 4) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8000;
  const long clients = argc > 3 ? std::stol(argv[3]) : -1;  // -1: forever

  sockit::Socket sock(sockit::Family::inet, sockit::Type::stream);
  sock.bind({host, port});
  sock.listen(1);
  // The address bound rather than the one asked for, so that port 0 shows the port chosen.
  std::cout << "Server is listening on " << sock.getsockname() << std::endl;

  std::vector<std::jthread> threads;
  for (long served = 0; clients < 0 || served < clients; ++served) {
    auto [client_sock, client_address] = sock.accept();
    std::jthread thread(handle_client, std::move(client_sock), client_address);
    // Serving forever, nothing would join a finished thread, which holds its stack till joined.
    if (clients < 0) {
      thread.detach();
    } else {
      threads.push_back(std::move(thread));
    }
  }
  sock.close();
} catch (const sockit::Error& e) {
  std::cerr << "chat_server: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: chat_server [HOST [PORT [CLIENTS]]]\n";
  return 1;
}
