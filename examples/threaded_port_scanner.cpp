// The tutorial's threaded port scanner: worker threads take ports from a shared queue.
//
//   threaded_port_scanner [HOST [FIRST LAST [THREADS]]]
//   default: 127.0.0.1, ports 1 to 500, 30 threads; e.g. threaded_port_scanner 192.0.2.10 1 500
#include <atomic>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <syncstream>
#include <thread>
#include <vector>

#include <sockit/socket.hpp>

std::string target = "127.0.0.1";
// The tutorial fills its queue.Queue with every port before a worker starts, so taking from
// the queue is taking the next port: an atomic counter does the same without a lock.
std::atomic<unsigned> next_port{1};
unsigned last_port = 500;
std::atomic<unsigned> open_count{0};

bool portscan(std::uint16_t port) {
  auto s = sockit::Socket::try_create(sockit::Family::inet, sockit::Type::stream);
  return s && !s->connect_ex({target, port});
}

// The tutorial's workers wait forever on the emptied queue and the program never ends;
// these stop when the ports run out.
void worker() {
  for (unsigned port = next_port++; port <= last_port; port = next_port++) {
    // One osyncstream per line: the tutorial's prints tear each other apart mid-line.
    if (portscan(static_cast<std::uint16_t>(port))) {
      std::osyncstream(std::cout) << "Port " << port << " is open!\n";
      ++open_count;
    } else {
      std::osyncstream(std::cout) << "Port " << port << " is closed.\n";
    }
  }
}

int main(int argc, char** argv) try {
  if (argc == 3 || argc > 5) throw std::invalid_argument("wrong number of arguments");
  if (argc > 1) target = argv[1];
  if (argc > 3) next_port = sockit::parse_port(argv[2]).value_or_throw("first port");
  if (argc > 3) last_port = sockit::parse_port(argv[3]).value_or_throw("last port");
  const unsigned long thread_count = argc > 4 ? std::stoul(argv[4]) : 30;

  {
    std::vector<std::jthread> threads;
    for (unsigned long x = 0; x < thread_count; ++x) {
      threads.emplace_back(worker);
    }
  }  // every worker joined
  // The tutorial's summary counts every port scanned; this one counts the open ones.
  std::cout << "Open ports: " << open_count << '\n';
} catch (const sockit::Error& e) {
  std::cerr << "threaded_port_scanner: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: threaded_port_scanner [HOST [FIRST LAST [THREADS]]]\n";
  return 1;
}
