// Daytime (RFC 867): the current time as text. TCP writes it and closes; UDP answers each
// datagram with it.
#pragma once

#include <chrono>
#include <string>

#include "sockit/server.hpp"

namespace sockit::tools::servers {

enum class DaytimeFormat {
  human,  // "Sunday, November 22, 2026 14:20:00-UTC", RFC 867's suggested form
  nist,   // "61001 26-11-22 14:20:00 00 0 0   0.0 UTC(NIST) *", as NIST's servers send
};

// The daytime text for a moment, with its line ending.
std::string format_daytime(std::chrono::system_clock::time_point when, DaytimeFormat format);

class DaytimeService final : public Service {
 public:
  DaytimeService(EventLoop& loop, ServerLimits& limits, DaytimeFormat format)
      : Service(loop, "daytime", limits), format_(format) {}

 protected:
  Task<> serve(Connection& connection) override;
  std::string_view reply(std::string_view request, std::span<char> out) override;

 private:
  DaytimeFormat format_;
};

}  // namespace sockit::tools::servers
