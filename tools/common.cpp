#include "common.hpp"

#include <charconv>
#include <cmath>
#include <iostream>
#include <stdexcept>

namespace sockit::tools {

Address parse_target(std::string_view host, std::string_view port, std::string_view proto) {
  if (host.starts_with("unix:")) {
    if (!port.empty()) throw std::invalid_argument("a unix: target takes no port");
    auto address = Address::parse(host);
    if (!address) throw_error(address.error(), std::string(host));
    return *address;
  }
  if (port.empty()) throw std::invalid_argument("missing PORT after " + std::string(host));
  auto number = try_getservbyname(port, proto);
  if (!number) {
    if (number.error() == AddressErrc::port_out_of_range) {
      throw std::invalid_argument("port " + std::string(port) + " out of range 0-65535");
    }
    throw std::invalid_argument("unknown port or service: " + std::string(port));
  }
  // Brackets are accepted around IPv6 hosts, as users paste them from URLs.
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return Address{std::string(host), *number, false};
}

Duration parse_duration(std::string_view text) {
  double value = 0;
  const auto* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || !std::isfinite(value) || value < 0) {
    throw std::invalid_argument("not a duration: '" + std::string(text) + "'");
  }
  const std::string_view unit(rest, static_cast<std::size_t>(end - rest));
  if (unit.empty() || unit == "s") return Duration(value);
  if (unit == "ms") return Duration(value / 1000);
  if (unit == "us") return Duration(value / 1e6);
  if (unit == "m") return Duration(value * 60);
  throw std::invalid_argument("unknown unit in duration '" + std::string(text) +
                              "' (use s, ms, us or m)");
}

DurationValidator::DurationValidator() {
  name_ = "DURATION";
  desc_function_ = [] { return std::string("DURATION"); };
  func_ = [](std::string& text) {
    try {
      parse_duration(text);
      return std::string();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
  };
}

void print_error(std::string_view command, std::string_view message) {
  std::cerr << "sockit " << command << ": " << message << '\n';
}

void Log::operator()(std::string_view message) const {
  if (enabled_) print_error(command_, message);
}

}  // namespace sockit::tools
