#include "common.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <system_error>

#include "sockit/io.hpp"

namespace sockit::tools {

Address parse_target(std::string_view host, std::string_view port, std::string_view proto) {
  if (host.starts_with("unix:")) {
    if (!port.empty()) throw std::invalid_argument("a unix: target takes no port");
    auto address = Address::parse(host);
    if (!address) throw std::invalid_argument(std::string(host) + ": " + address.error().message());
    return *address;
  }
  if (host.empty()) {
    throw std::invalid_argument("HOST is empty (to listen on every address use 0.0.0.0 or ::)");
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
  // A colon belongs only in an IPv6 literal: saying so names the real mistake (a pasted
  // host:port) where the resolver would only say it knows no such name.
  if (host.find(':') != std::string_view::npos) {
    if (auto ip = Endpoint::from_ip(host, *number); !ip) {
      throw std::invalid_argument("bad HOST '" + std::string(host) + "': " + ip.error().message());
    }
  }
  return Address{std::string(host), *number, false};
}

namespace {

// Seconds per unit of a duration's suffix; std::invalid_argument for an unknown unit.
double unit_seconds(std::string_view unit, std::string_view text) {
  if (unit.empty() || unit == "s") return 1;
  if (unit == "ms") return 1e-3;
  if (unit == "us") return 1e-6;
  if (unit == "m") return 60;
  throw std::invalid_argument("unknown unit in duration '" + std::string(text) +
                              "' (use s, ms, us or m)");
}

}  // namespace

Duration parse_duration(std::string_view text) {
  double value = 0;
  const auto* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || !std::isfinite(value) || value < 0) {
    throw std::invalid_argument("not a duration: '" + std::string(text) + "'");
  }
  const Duration duration(value * unit_seconds({rest, static_cast<std::size_t>(end - rest)}, text));
  if (duration > kMaxDuration) {
    throw std::invalid_argument(fmt::format("duration '{}' is above the limit of {:.0f}s (a year)",
                                            text, kMaxDuration.count()));
  }
  return duration;
}

namespace {

char hex_byte(std::string_view digits) {
  unsigned value = 0;
  const auto* end = digits.data() + digits.size();
  auto [rest, ec] = std::from_chars(digits.data(), end, value, 16);
  if (digits.size() != 2 || ec != std::errc{} || rest != end) {
    throw std::invalid_argument("\\x needs two hex digits");
  }
  return static_cast<char>(value);
}

char simple_escape(char letter) {
  switch (letter) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case '\\':
      return '\\';
    case '0':
      return '\0';
    default:
      throw std::invalid_argument(std::string("unknown escape \\") + letter +
                                  " (use \\n \\r \\t \\\\ \\0 \\xHH)");
  }
}

}  // namespace

std::string decode_escapes(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
    } else if (i + 1 == text.size()) {
      throw std::invalid_argument("ends with a lone backslash");
    } else if (text[++i] == 'x') {
      out += hex_byte(text.substr(i + 1, 2));
      i += 2;
    } else {
      out += simple_escape(text[i]);
    }
  }
  return out;
}

CLI::Validator duration_validator() {
  return validator([](std::string& text) { parse_duration(text); }, "DURATION");
}

CLI::Validator positive_duration_validator() {
  return validator(
      [](std::string& text) {
        if (parse_duration(text).count() <= 0) throw std::invalid_argument("must be more than 0");
      },
      "DURATION");
}

CLI::Validator finite_non_negative() {
  return validator(
      [](const std::string& text) {
        double value = 0;
        const auto* end = text.data() + text.size();
        const auto [rest, ec] = std::from_chars(text.data(), end, value);
        if (ec != std::errc{} || rest != end || !std::isfinite(value) || value < 0) {
          throw std::invalid_argument("not a finite number of 0 or more: '" + text + "'");
        }
      },
      "NUMBER");
}

CLI::Validator non_empty(std::string name) {
  return validator(
      [](const std::string& text) {
        if (text.empty()) throw std::invalid_argument("empty");
      },
      std::move(name));
}

CLI::Validator escapes_decoded() {
  return validator([](std::string& text) { text = decode_escapes(text); }, "TEXT");
}

int run_main(CLI::App& app, int argc, char** argv, const std::function<int()>& go) {
  constexpr int kExitUsage = 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  try {
    return go();
  } catch (const std::exception& e) {
    std::cerr << app.get_name() << ": " << e.what() << '\n';
    return 1;
  }
}

void check_written(std::ostream& out, const std::string& name) {
  out.flush();
  if (out) return;
  // The stream keeps no reason; the failed write(2) left it in errno, as nothing has run
  // since (every caller checks right after writing).
  throw std::system_error(errno != 0 ? errno : EIO, std::system_category(), "write " + name);
}

namespace {

// Why the file stream just failed to open: the open(2) under it left errno.
std::string open_failure(std::string_view action, const std::string& path) {
  return fmt::format("cannot {} {}: {}", action, path, std::strerror(errno != 0 ? errno : EIO));
}

}  // namespace

std::ifstream open_input(const std::string& path, std::string_view what) {
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::invalid_argument(open_failure(fmt::format("read {}", what), path));
  return file;
}

std::ofstream open_output(const std::string& path) {
  errno = 0;
  std::ofstream file(path, std::ios::binary);
  if (!file) throw std::invalid_argument(open_failure("write", path));
  return file;
}

void print_error(std::string_view command, std::string_view message) {
  std::string line = "sockit ";
  line.append(command).append(": ").append(message).push_back('\n');
  // One write per line: lines from several threads (serve's loops) never interleave.
  static_cast<void>(write_all(2, line));  // stderr itself failing leaves nowhere to say so
}

void Log::operator()(std::string_view message) const {
  if (enabled_) print_error(command_, message);
}

}  // namespace sockit::tools
