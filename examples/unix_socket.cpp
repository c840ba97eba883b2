// The tutorials' echo pair over a Unix domain socket (AF_UNIX: a path instead of host and
// port). The server's socket lives in a fresh temporary directory, removed when it ends.
//
//   unix_socket server [CLIENTS]    default: one client; prints the socket's path
//   unix_socket client PATH         sends "hello there", prints the answer
#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <sockit/socket.hpp>

using namespace std::chrono_literals;

// Python's tempfile.TemporaryDirectory: made private to us, removed with what it holds.
struct TemporaryDirectory {
  std::filesystem::path path;

  TemporaryDirectory() {
    std::string name = std::filesystem::temp_directory_path() / "unix_socket.XXXXXX";
    if (!mkdtemp(name.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path = name;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

void server(long clients) {
  const TemporaryDirectory directory;
  const sockit::Address path{directory.path / "echo.sock", 0, true};

  sockit::Socket s(sockit::Family::local, sockit::Type::stream);
  s.bind(path);
  s.listen();
  std::cout << "listening on " << path.host << std::endl;

  for (long served = 0; served < clients; ++served) {
    auto [con, addr] = s.accept();
    while (true) {
      const std::string data = con.recv(1024);
      if (data.empty()) break;
      con.sendall(data);
    }
  }
}

void client(const std::string& path) {
  sockit::Socket s(sockit::Family::local, sockit::Type::stream);
  // Not in the tutorials: a server that never answers must not keep us waiting forever.
  s.settimeout(5s);
  s.connect(sockit::Address{path, 0, true});
  s.sendall("hello there");
  std::cout << s.recv(4096) << '\n';
}

int main(int argc, char** argv) try {
  const std::string_view role = argc > 1 ? argv[1] : "";
  if (role == "server" && argc <= 3) {
    server(argc > 2 ? std::stol(argv[2]) : 1);
  } else if (role == "client" && argc == 3) {
    client(argv[2]);
  } else {
    throw std::invalid_argument("unknown role or wrong number of arguments");
  }
} catch (const std::system_error& e) {
  std::cerr << "unix_socket: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: unix_socket server [CLIENTS] | unix_socket client PATH\n";
  return 1;
}
