#include "command.hpp"
namespace sockit::tools {
Run setup_tcp(CLI::App&) {
  return [] { return 1; };
}
}  // namespace sockit::tools
