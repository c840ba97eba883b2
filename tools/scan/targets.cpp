#include "scan/targets.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "common.hpp"
#include "sockit/network.hpp"
#include "sockit/resolver.hpp"

namespace sockit::tools::scan {
namespace {

// What a spec stands for: a range of addresses, or the addresses of a name.
struct Expanded {
  std::vector<AddressRange> ranges;
  std::vector<Host> named;
};

bool looks_numeric(std::string_view spec) {
  // A name never holds ':' or '/', and a spec of digits, dots and dashes is an address or
  // a range even when it is a malformed one: the message should say so, not "unknown host".
  return spec.find_first_of(":/") != std::string_view::npos ||
         spec.find_first_not_of("0123456789.-") == std::string_view::npos;
}

std::string_view unbracketed(std::string_view spec) {
  if (spec.size() >= 2 && spec.front() == '[' && spec.back() == ']') {
    return spec.substr(1, spec.size() - 2);
  }
  return spec;
}

Expanded expand(std::string_view raw, const TargetOptions& options, const Resolver& resolver) {
  const std::string_view spec = unbracketed(raw);
  if (spec.empty()) throw std::invalid_argument("empty target");
  Expanded out;
  if (looks_numeric(spec)) {
    auto range = AddressRange::parse(spec);
    if (!range) {
      throw std::invalid_argument("bad target '" + std::string(raw) +
                                  "': " + range.error().message());
    }
    if (options.family != Family::unspec && range->family() != options.family) return out;
    out.ranges.push_back(*range);
    return out;
  }
  auto addresses = resolver(std::string(spec), options.family);
  if (!addresses || addresses->empty()) {
    const std::string why = addresses ? "no address" : addresses.error().message();
    throw std::invalid_argument("cannot resolve '" + std::string(spec) + "': " + why);
  }
  for (auto& address : *addresses) {
    address.set_port(0);
    out.named.push_back(Host{address, std::string(spec)});
    if (options.first_address) break;
  }
  return out;
}

void check_size(std::uint64_t count, std::string_view spec, const TargetOptions& options) {
  if (count > kMaxHostsUnforced && !options.force) {
    throw std::invalid_argument(
        "'" + std::string(spec) + "' holds " +
        (count == UINT64_MAX ? std::string("2^64 or more") : std::to_string(count)) +
        " hosts, more than " + std::to_string(kMaxHostsUnforced) + " (use --force to scan it)");
  }
  if (count > kMaxHostsForced) {
    throw std::invalid_argument("'" + std::string(spec) + "' holds more than " +
                                std::to_string(kMaxHostsForced) + " hosts, even with --force");
  }
}

// The address bytes of an IP endpoint, for ordering.
std::string address_key(const Endpoint& endpoint) {
  const auto* data = reinterpret_cast<const char*>(endpoint.data());
  if (endpoint.family() == Family::inet) {
    return std::string(1, '4') + std::string(data + offsetof(sockaddr_in, sin_addr), 4);
  }
  return std::string(1, '6') + std::string(data + offsetof(sockaddr_in6, sin6_addr), 16);
}

}  // namespace

Result<std::vector<Endpoint>> resolve_host(const std::string& name, Family family) {
  return try_resolve(Address(name, 0), family, Type::stream);
}

std::vector<Host> expand_targets(const std::vector<std::string>& specs,
                                 const std::vector<std::string>& excludes,
                                 const TargetOptions& options, const Resolver& resolver) {
  std::vector<AddressRange> excluded_ranges;
  std::vector<Endpoint> excluded_addresses;
  for (const auto& spec : excludes) {
    const Expanded expanded = expand(spec, TargetOptions{false, true, options.family}, resolver);
    excluded_ranges.insert(excluded_ranges.end(), expanded.ranges.begin(), expanded.ranges.end());
    for (const auto& host : expanded.named)
      excluded_addresses.push_back(host.address);
  }
  auto excluded = [&](const Endpoint& address) {
    return std::any_of(excluded_ranges.begin(), excluded_ranges.end(),
                       [&](const AddressRange& r) { return r.contains(address); }) ||
           std::find(excluded_addresses.begin(), excluded_addresses.end(), address) !=
               excluded_addresses.end();
  };

  std::vector<std::pair<std::string, Host>> keyed;
  std::uint64_t total = 0;
  for (const auto& spec : specs) {
    const Expanded expanded = expand(spec, options, resolver);
    for (const auto& range : expanded.ranges) {
      check_size(range.size(), spec, options);
      total += range.size();
      check_size(total, "the targets together", options);
      for (std::uint64_t i = 0; i < range.size(); ++i) {
        Endpoint address = range[i];
        if (!excluded(address)) keyed.emplace_back(address_key(address), Host{address, ""});
      }
    }
    for (const auto& host : expanded.named) {
      if (!excluded(host.address)) keyed.emplace_back(address_key(host.address), host);
    }
  }
  // By address; of duplicates the first given wins, so a name survives its own address.
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  keyed.erase(std::unique(keyed.begin(), keyed.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              keyed.end());
  if (keyed.empty()) {
    throw std::invalid_argument(specs.empty() ? "no targets given (name hosts, blocks or -iL FILE)"
                                              : "no targets left to scan");
  }
  std::vector<Host> hosts;
  hosts.reserve(keyed.size());
  for (auto& entry : keyed)
    hosts.push_back(std::move(entry.second));
  return hosts;
}

std::vector<std::string> read_target_file(const std::string& path) {
  std::ifstream file;
  if (path != "-") {
    file = open_input(path, "target file");
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<std::string> specs;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream words(line);
    specs.insert(specs.end(), std::istream_iterator<std::string>(words),
                 std::istream_iterator<std::string>());
  }
  return specs;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    const auto item = text.substr(start, comma - start);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

}  // namespace sockit::tools::scan
