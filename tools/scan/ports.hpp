// Port lists for sockit scan: the -p syntax, --top-ports, and the names of TCP services.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sockit::tools::scan {

// The TCP services table. nmap's nmap-services, when installed, also says how often each
// port is found open, which orders --top-ports; /etc/services only names ports.
class Services {
 public:
  static constexpr std::string_view kNmapServices = "/usr/share/nmap/nmap-services";
  static constexpr std::string_view kEtcServices = "/etc/services";

  // nmap's file when it can be read, else /etc/services, else an empty table.
  static Services load();
  // The text of a services file; with_frequency reads nmap's third column.
  static Services parse(std::string_view text, bool with_frequency);

  // The service's name, or "" when the table has none.
  std::string_view name(std::uint16_t port) const;
  // Every port the table gives the name (nmap-services names some services twice).
  std::vector<std::uint16_t> ports_named(std::string_view name) const;
  // The count most often open ports, most frequent first: by the table's frequencies when it
  // has them, else the built-in list (nmap's top 100), then the table's named ports, then
  // the rest in ascending order.
  std::vector<std::uint16_t> top(std::size_t count) const;

 private:
  std::unordered_map<std::uint16_t, std::string> names_;
  std::unordered_map<std::string, std::vector<std::uint16_t>> ports_;
  std::vector<std::uint16_t> by_frequency_;
};

// -p's syntax: "22,80,1000-2000", "-" (1-65535), "-1024" (1-1024), "60000-" (to 65535) and
// service names ("http,ssh"), in any mix. Returns the ports sorted and unique; anything
// malformed, port 0, a port above 65535 or a reversed range is std::invalid_argument.
std::vector<std::uint16_t> parse_ports(std::string_view text, const Services& services);

}  // namespace sockit::tools::scan
