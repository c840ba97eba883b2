// The tutorial's socket methods for names: getaddrinfo, getfqdn, gethostname, gethostbyname,
// gethostbyname_ex and gethostbyaddr, each called on one name and printed.
//
//   name_lookups [HOST [PORT]]    default: localhost 80 (nothing connects; PORT only goes
//                                 into getaddrinfo's answers)
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sockit/resolver.hpp>

// What print() shows for a list of str, so that the tuples read as the Python original's.
std::string repr(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) {
    out += (out.size() > 1 ? ", '" : "'") + item + "'";
  }
  return out + "]";
}

std::ostream& operator<<(std::ostream& out, const sockit::HostEntry& entry) {
  return out << "('" << entry.hostname << "', " << repr(entry.aliases) << ", "
             << repr(entry.addresses) << ")";
}

int main(int argc, char** argv) try {
  if (argc > 3) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 80;

  std::cout << "gethostname: " << sockit::gethostname() << '\n';
  std::cout << "getfqdn: " << sockit::getfqdn() << '\n';
  std::cout << "getfqdn(host): " << sockit::getfqdn(host) << '\n';
  std::cout << "gethostbyname: " << sockit::gethostbyname(host) << '\n';
  std::cout << "gethostbyname_ex: " << sockit::gethostbyname_ex(host) << '\n';
  std::cout << "gethostbyaddr: " << sockit::gethostbyaddr(host) << '\n';
  for (const auto& info : sockit::getaddrinfo(host, port)) {
    std::cout << "getaddrinfo: " << to_string(info.family) << ' ' << to_string(info.type) << ' '
              << info.protocol << ' ' << info.address << '\n';
  }
} catch (const sockit::Error& e) {
  std::cerr << "name_lookups: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: name_lookups [HOST [PORT]]\n";
  return 1;
}
