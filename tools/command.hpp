// One subcommand of the sockit program. main.cpp lists every one of them in a single table.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string_view>

namespace sockit::tools {

// What a subcommand's setup returns: the function main runs after a successful parse. It
// returns the exit code: 0 success, 1 the operation failed (2, usage, is main's).
using Run = std::function<int()>;

struct Command {
  std::string_view name;
  std::string_view summary;
  // Declares the subcommand's arguments and options on app.
  Run (*setup)(CLI::App& app);
};

Run setup_bench(CLI::App& app);
Run setup_http(CLI::App& app);
Run setup_resolve(CLI::App& app);
Run setup_scan(CLI::App& app);
Run setup_serve(CLI::App& app);
Run setup_tcp(CLI::App& app);
Run setup_udp(CLI::App& app);

}  // namespace sockit::tools
