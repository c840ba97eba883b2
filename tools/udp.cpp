#include "command.hpp"
namespace sockit::tools {
Run setup_udp(CLI::App&) {
  return [] { return 1; };
}
}  // namespace sockit::tools
