// Targets for sockit scan: what a user writes (addresses, names, CIDR blocks, ranges, files of
// them, exclusions) expanded into the list of hosts to scan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/endpoint.hpp"
#include "sockit/error.hpp"

namespace sockit::tools::scan {

struct Host {
  Endpoint address;  // port 0
  std::string name;  // the name it was found under, or "" for an address
};

struct TargetOptions {
  bool first_address = false;  // a name gives only its first address
  bool force = false;          // allow blocks and ranges over kMaxHostsUnforced hosts
  Family family = Family::unspec;
};

// Blocks and ranges larger than this need --force; the limit with it is kMaxHostsForced.
inline constexpr std::uint64_t kMaxHostsUnforced = 65536;
inline constexpr std::uint64_t kMaxHostsForced = std::uint64_t{1} << 20;

// Name resolution as the expansion uses it: every address of name (getaddrinfo's order).
using Resolver = std::function<Result<std::vector<Endpoint>>(const std::string& name, Family)>;
// The system resolver.
Result<std::vector<Endpoint>> resolve_host(const std::string& name, Family family);

// The hosts that specs name, minus those excludes name, without duplicates, sorted by
// family and address. A spec is an IPv4 or IPv6 address ("[v6]" too), a host name, a CIDR
// block or a range ("10.0.0.1-50", "10.0.0.1-10.0.0.9"). A malformed spec, a name that does
// not resolve, a block over the limit, or nothing left to scan is std::invalid_argument.
std::vector<Host> expand_targets(const std::vector<std::string>& specs,
                                 const std::vector<std::string>& excludes,
                                 const TargetOptions& options,
                                 const Resolver& resolver = resolve_host);

// The specs of a target file (-iL; "-" is stdin): separated by white space or commas, with
// '#' starting a comment. An unreadable file is std::invalid_argument.
std::vector<std::string> read_target_file(const std::string& path);

// --exclude's value: specs separated by commas.
std::vector<std::string> split_list(std::string_view text);

}  // namespace sockit::tools::scan
