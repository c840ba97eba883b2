#include "scan/ports.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace sockit::tools::scan {
namespace {

constexpr unsigned kMaxPort = 65535;

// nmap's 100 most frequently open TCP ports (nmap-services, 7.93), for machines without nmap.
constexpr std::array<std::uint16_t, 100> kBuiltinTop = {
    80,    23,    443,   21,   22,   25,   3389, 110,  445,   139,  143,  53,   135,   3306, 8080,
    1723,  111,   995,   993,  5900, 1025, 587,  8888, 199,   1720, 465,  548,  113,   81,   6001,
    10000, 514,   5060,  179,  1026, 2000, 8443, 8000, 32768, 554,  26,   1433, 49152, 2001, 515,
    8008,  49154, 1027,  5666, 646,  5000, 5631, 631,  49153, 8081, 2049, 88,   79,    5800, 106,
    2121,  1110,  49155, 6000, 513,  990,  5357, 427,  49156, 543,  544,  5101, 144,   7,    389,
    8009,  3128,  444,   9999, 5009, 7070, 5190, 3000, 5432,  1900, 3986, 13,   1029,  9,    5051,
    6646,  49157, 1028,  873,  1755, 2717, 4899, 9100, 119,   37};

std::string read_file(std::string_view path) {
  std::ifstream in{std::string(path)};
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A decimal number in [1, 65535]; what names it in a message is text.
std::uint16_t port_number(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range ||
      (ec == std::errc{} && rest == end && value > kMaxPort)) {
    throw std::invalid_argument("port " + std::string(text) + " out of range 1-65535 in -p '" +
                                std::string(whole) + "'");
  }
  if (ec != std::errc{} || rest != end) {
    throw std::invalid_argument("bad port '" + std::string(text) + "' in -p '" +
                                std::string(whole) + "'");
  }
  if (value == 0) {
    throw std::invalid_argument("port 0 cannot be scanned (ports run from 1 to 65535)");
  }
  return static_cast<std::uint16_t>(value);
}

// One element of a -p list, appended to out.
void add_element(std::string_view item, std::string_view whole, const Services& services,
                 std::vector<std::uint16_t>& out) {
  if (item.empty()) throw std::invalid_argument("empty element in -p '" + std::string(whole) + "'");
  if (item.find_first_not_of("0123456789-") != std::string_view::npos) {
    const auto named = services.ports_named(item);
    if (named.empty()) {
      throw std::invalid_argument("unknown port or service '" + std::string(item) + "' in -p");
    }
    out.insert(out.end(), named.begin(), named.end());
    return;
  }
  const auto dash = item.find('-');
  if (dash == std::string_view::npos) {
    out.push_back(port_number(item, whole));
    return;
  }
  const auto low_text = item.substr(0, dash);
  const auto high_text = item.substr(dash + 1);
  const unsigned low = low_text.empty() ? 1 : port_number(low_text, whole);
  const unsigned high = high_text.empty() ? kMaxPort : port_number(high_text, whole);
  if (low > high) {
    throw std::invalid_argument("reversed port range " + std::string(item) +
                                " (write the lower port first)");
  }
  for (unsigned port = low; port <= high; ++port)
    out.push_back(static_cast<std::uint16_t>(port));
}

}  // namespace

Services Services::load() {
  if (auto text = read_file(kNmapServices); !text.empty()) return parse(text, true);
  return parse(read_file(kEtcServices), false);
}

Services Services::parse(std::string_view text, bool with_frequency) {
  Services services;
  std::vector<std::pair<double, std::uint16_t>> frequencies;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream fields(line);
    std::string name;
    std::string port_proto;
    double frequency = 0;
    if (!(fields >> name >> port_proto)) continue;
    const auto slash = port_proto.find('/');
    if (slash == std::string::npos || port_proto.substr(slash + 1) != "tcp") continue;
    unsigned port = 0;
    const auto digits = std::string_view(port_proto).substr(0, slash);
    auto [rest, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || rest != digits.data() + digits.size() || port == 0 ||
        port > kMaxPort) {
      continue;
    }
    const auto number = static_cast<std::uint16_t>(port);
    services.names_.try_emplace(number, name);
    services.ports_[name].push_back(number);
    if (with_frequency && fields >> frequency) frequencies.emplace_back(frequency, number);
  }
  // Most frequent first; equal frequencies in port order, so the list is stable.
  std::sort(frequencies.begin(), frequencies.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (const auto& entry : frequencies)
    services.by_frequency_.push_back(entry.second);
  return services;
}

std::string_view Services::name(std::uint16_t port) const {
  const auto found = names_.find(port);
  return found == names_.end() ? std::string_view() : std::string_view(found->second);
}

std::vector<std::uint16_t> Services::ports_named(std::string_view name) const {
  const auto found = ports_.find(std::string(name));
  return found == ports_.end() ? std::vector<std::uint16_t>() : found->second;
}

std::vector<std::uint16_t> Services::top(std::size_t count) const {
  std::vector<std::uint16_t> order;
  if (!by_frequency_.empty()) {
    order = by_frequency_;
  } else {
    order.assign(kBuiltinTop.begin(), kBuiltinTop.end());
    std::vector<std::uint16_t> named;
    for (const auto& entry : names_)
      named.push_back(entry.first);
    std::sort(named.begin(), named.end());
    order.insert(order.end(), named.begin(), named.end());
  }
  std::vector<bool> seen(kMaxPort + 1);
  std::vector<std::uint16_t> top;
  auto take = [&](std::uint16_t port) {
    if (top.size() < count && !seen[port]) {
      seen[port] = true;
      top.push_back(port);
    }
  };
  for (const auto port : order)
    take(port);
  for (unsigned port = 1; port <= kMaxPort && top.size() < count; ++port) {
    take(static_cast<std::uint16_t>(port));
  }
  return top;
}

std::vector<std::uint16_t> parse_ports(std::string_view text, const Services& services) {
  if (text.empty()) throw std::invalid_argument("empty port list");
  std::vector<std::uint16_t> ports;
  if (text == "-") {
    ports.reserve(kMaxPort);
    for (unsigned port = 1; port <= kMaxPort; ++port)
      ports.push_back(static_cast<std::uint16_t>(port));
    return ports;
  }
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    add_element(text.substr(start, comma - start), text, services, ports);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  return ports;
}

}  // namespace sockit::tools::scan
