#include "servers/daytime.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace sockit::tools::servers {
namespace {

// Days from the Modified Julian Date epoch (1858-11-17) to the Unix epoch.
constexpr long kMjdOfUnixEpoch = 40587;
constexpr long kSecondsPerDay = 86400;

}  // namespace

std::string format_daytime(std::chrono::system_clock::time_point when, DaytimeFormat format) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];
  if (format == DaytimeFormat::nist) {
    const long mjd = static_cast<long>(seconds) / kSecondsPerDay + kMjdOfUnixEpoch;
    const auto size = std::strftime(text, sizeof text, "%y-%m-%d %H:%M:%S", &utc);
    return "\n" + std::to_string(mjd) + " " + std::string(text, size) +
           " 00 0 0   0.0 UTC(NIST) * \n";
  }
  const auto size = std::strftime(text, sizeof text, "%A, %B %d, %Y %H:%M:%S-UTC", &utc);
  return std::string(text, size) + "\r\n";
}

Task<> DaytimeService::serve(Connection& connection) {
  const std::string text = format_daytime(std::chrono::system_clock::now(), format_);
  // The connection closes after the line whether or not it went out.
  static_cast<void>(co_await connection.write_all(text));
}

std::string_view DaytimeService::reply(std::string_view /*request*/, std::span<char> out) {
  const std::string text = format_daytime(std::chrono::system_clock::now(), format_);
  const std::size_t size = std::min(text.size(), out.size());
  std::copy_n(text.data(), size, out.data());
  return {out.data(), size};
}

}  // namespace sockit::tools::servers
