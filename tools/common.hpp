// Helpers every subcommand shares: targets from the command line, durations, messages.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "sockit/endpoint.hpp"
#include "sockit/socket.hpp"

namespace sockit::tools {

// HOST PORT from the command line: PORT is a number or a service name looked up for proto
// ("tcp" or "udp"); a HOST of the form unix:/path (or unix:@name) needs no PORT.
Address parse_target(std::string_view host, std::string_view port, std::string_view proto);

// "2", "2.5", "2s", "250ms", "1m": a non-negative duration; std::invalid_argument otherwise.
Duration parse_duration(std::string_view text);

// A CLI11 validator that accepts what parse_duration accepts.
struct DurationValidator : CLI::Validator {
  DurationValidator();
};

// Writes "sockit <command>: message" on stderr.
void print_error(std::string_view command, std::string_view message);

// Verbose notes on stderr ("sockit tcp: connected to ...") when enabled.
class Log {
 public:
  Log(std::string_view command, const bool& enabled) : command_(command), enabled_(enabled) {}
  void operator()(std::string_view message) const;

 private:
  std::string_view command_;
  const bool& enabled_;
};

}  // namespace sockit::tools
