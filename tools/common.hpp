// Helpers every subcommand shares: targets from the command line, durations, messages.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "sockit/endpoint.hpp"
#include "sockit/socket.hpp"

namespace sockit::tools {

// HOST PORT from the command line: PORT is a number or a service name looked up for proto
// ("tcp" or "udp"); a HOST of the form unix:/path (or unix:@name) needs no PORT. Anything
// malformed is std::invalid_argument (a usage error).
Address parse_target(std::string_view host, std::string_view port, std::string_view proto);

// The longest duration a command takes. Deadlines are steady_clock's now plus a duration,
// which overflows past about 292 years; a year is longer than any wait a user means.
inline constexpr Duration kMaxDuration{365.0 * 24 * 3600};

// "2", "2.5", "2s", "250ms", "1m": a non-negative duration up to kMaxDuration;
// std::invalid_argument otherwise (nan, inf, negative, too long, unknown unit).
Duration parse_duration(std::string_view text);

// C-style escapes (\r \n \t \\ \0 \xHH) decoded, so that one shell argument can carry any
// bytes, a whole HTTP request included; std::invalid_argument for a malformed escape.
std::string decode_escapes(std::string_view text);

// A CLI11 validator from a function that may rewrite its text and throws
// std::invalid_argument to reject it.
template <class Check>
CLI::Validator validator(Check check, std::string name) {
  return CLI::Validator(
      [check](std::string& text) -> std::string {
        try {
          check(text);
          return "";
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
      },
      std::move(name));
}

// What parse_duration accepts.
CLI::Validator duration_validator();
// A duration above zero, for waits where zero (Python's non-blocking) makes no sense.
CLI::Validator positive_duration_validator();
// A number that is neither negative, nor nan or inf (CLI::NonNegativeNumber lets nan through).
CLI::Validator finite_non_negative();
// Rejects an empty argument ('' from the shell) rather than take it as "not given".
CLI::Validator non_empty(std::string name);
// Rewrites the option's text with its escapes decoded (use with ->transform()).
CLI::Validator escapes_decoded();

// main() of a program with one command (the bench helpers): parses the command line into app,
// then returns go(). --help exits 0, a usage error exits 2 with CLI11's message, and an
// exception from go() exits 1 after "NAME: what" on stderr.
int run_main(CLI::App& app, int argc, char** argv, const std::function<int()>& go);

// Flushes out, then throws std::system_error naming it ("write stdout: No space left on
// device") if any write to it failed: output that was lost (a full disk, a closed pipe, a
// closed descriptor) makes the command fail.
void check_written(std::ostream& out, const std::string& name);

// A file named on the command line, opened for reading; std::invalid_argument naming what it
// is for, the path and the reason ("cannot read quotes file q.txt: No such file or directory").
std::ifstream open_input(const std::string& path, std::string_view what);
// path opened for writing now, so that a bad path fails before the work whose results it
// would hold; std::invalid_argument with the reason otherwise.
std::ofstream open_output(const std::string& path);

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
