// sockit: one program, one subcommand per tool. The table below is the whole list.
#include <CLI/CLI.hpp>

#include <iostream>
#include <stdexcept>

#include "command.hpp"
#include "common.hpp"
#include "sockit/error.hpp"
#include "sockit/io.hpp"
#include "sockit/version.hpp"

namespace {

using sockit::tools::Command;

constexpr Command kCommands[] = {
    {"serve", "Run echo, daytime and qotd over TCP and UDP, and a web server, on every core",
     sockit::tools::setup_serve},
    {"http", "Fetch URLs over HTTP/1.1 and HTTPS, curl-like", sockit::tools::setup_http},
    {"resolve", "Look up the addresses of names and the names of addresses",
     sockit::tools::setup_resolve},
    {"tcp", "Connect to or listen on a TCP (or Unix) stream, netcat done right",
     sockit::tools::setup_tcp},
    {"udp", "Send and receive UDP datagrams; listen, print and echo", sockit::tools::setup_udp},
    {"scan", "Scan hosts for open TCP ports, nmap -sT done fast", sockit::tools::setup_scan},
    {"bench", "Load-test HTTP(S) servers (and TCP/UDP echo servers), ab and wrk in one",
     sockit::tools::setup_bench},
};

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  // Before anything opens a socket or a file, which would otherwise take a closed standard
  // descriptor's number and get the tool's output or log written into it.
  if (const auto opened = sockit::open_standard_fds(); !opened) {
    std::cerr << "sockit: standard descriptors: " << opened.error().message() << '\n';
    return kExitFailure;
  }
  sockit::ignore_sigpipe();
  CLI::App app{"sockit: the socket toolkit", "sockit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sockit " SOCKIT_VERSION);
  sockit::tools::Run run;
  for (const auto& command : kCommands) {
    auto* sub = app.add_subcommand(std::string(command.name), std::string(command.summary));
    auto command_run = command.setup(*sub);
    sub->callback([&run, command_run] { run = command_run; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, naming the subcommand when there is one; --help shows the rest.
    const auto parsed = app.get_subcommands();
    std::cerr << "sockit" << (parsed.empty() ? "" : " " + parsed.front()->get_name()) << ": "
              << e.what() << " (see --help)\n";
    return kExitUsage;
  }
  const std::string name = app.get_subcommands().front()->get_name();
  try {
    const int status = run();
    sockit::tools::check_written(std::cout, "stdout");
    return status;
  } catch (const std::invalid_argument& e) {
    std::cerr << "sockit " << name << ": " << e.what() << '\n';
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "sockit " << name << ": " << e.what() << '\n';
    return kExitFailure;
  }
}
