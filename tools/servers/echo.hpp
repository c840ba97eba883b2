// Echo (RFC 862): a TCP stream of any size comes back as it was sent; each UDP datagram is
// sent back to its source.
#pragma once

#include "sockit/server.hpp"

namespace sockit::tools::servers {

class EchoService final : public Service {
 public:
  EchoService(EventLoop& loop, ServerLimits& limits) : Service(loop, "echo", limits) {}

 protected:
  Task<> serve(Connection& connection) override;
  std::string_view reply(std::string_view request, std::span<char> out) override;

 private:
  // The rest of a chunk the peer is slow to take; false when the connection failed.
  static Task<bool> write_rest(Connection& connection, std::string& pending);
};

}  // namespace sockit::tools::servers
