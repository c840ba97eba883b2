// Plain descriptors beside sockets: what a tool needs to move bytes between stdin/stdout
// (pipes, terminals, files) and a socket without touching raw syscalls itself.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "sockit/error.hpp"

namespace sockit {

// One read(2); 0 is end of file.
Result<std::size_t> read_some(int fd, std::span<char> buffer) noexcept;
// Writes every byte, waiting in poll(2) when fd is non-blocking and full.
Result<void> write_all(int fd, std::string_view data) noexcept;
// Whether fd is a terminal (a progress display belongs only on one).
bool is_terminal(int fd) noexcept;
// A write to a closed pipe or socket becomes EPIPE instead of killing the process.
void ignore_sigpipe() noexcept;
// Makes sure descriptors 0, 1 and 2 are open, so that no socket or file the program opens
// later becomes its standard input, output or error by accident (a client would send its own
// output to the server). A closed one gets /dev/null opened read-only: reading it is end of
// file, and writing to it still fails (EBADF), as writing to a closed descriptor does. Call it
// first thing in main().
Result<void> open_standard_fds() noexcept;
// Raises the soft limit of open descriptors to the hard limit (servers and scanners hold
// many sockets); returns the limit now in force.
std::uint64_t raise_open_file_limit() noexcept;

}  // namespace sockit
