// The tutorial's get_ip: the IPv4 address of a name.
//
//   get_ip [NAME]    default: localhost (the tutorial asks for google.com, which leaves the
//                    machine)
#include <iostream>
#include <stdexcept>
#include <string>

#include <sockit/resolver.hpp>

int main(int argc, char** argv) try {
  if (argc > 2) throw std::invalid_argument("too many arguments");
  const std::string name = argc > 1 ? argv[1] : "localhost";

  const std::string ip = sockit::gethostbyname(name);
  std::cout << ip << '\n';
} catch (const sockit::Error& e) {
  std::cerr << "get_ip: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: get_ip [NAME]\n";
  return 1;
}
