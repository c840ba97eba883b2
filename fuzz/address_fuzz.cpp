// libFuzzer target: arbitrary bytes into Address::parse, Endpoint::parse and parse_port.
// None may crash, and whatever parses must print to text that parses back to an equal value;
// a violation aborts with the property it broke (libFuzzer saves the input).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sockit/endpoint.hpp"

namespace {

[[noreturn]] void violated(const char* property, const std::string& printed) {
  std::fprintf(stderr, "address_fuzz: %s (printed form \"%s\")\n", property, printed.c_str());
  std::abort();
}

void check_port(std::string_view text) {
  const auto port = sockit::parse_port(text);
  if (!port) return;
  const std::string printed = std::to_string(*port);
  const auto again = sockit::parse_port(printed);
  if (!again || *again != *port) violated("parse_port round trip", printed);
}

void check_address(std::string_view text) {
  const auto address = sockit::Address::parse(text);
  if (!address) return;
  const std::string printed = address->to_string();
  const auto again = sockit::Address::parse(printed);
  if (!again || !(*again == *address)) violated("Address round trip", printed);
}

void check_endpoint(std::string_view text) {
  const auto endpoint = sockit::Endpoint::parse(text);
  if (!endpoint) return;
  const std::string printed = endpoint->to_string();
  // Endpoint reads the numeric subset of what Address reads.
  if (!sockit::Address::parse(text)) violated("Endpoint accepted what Address rejects", printed);
  const auto again = sockit::Endpoint::parse(printed);
  if (!again || !(*again == *endpoint)) violated("Endpoint round trip", printed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_port(text);
  check_address(text);
  check_endpoint(text);
  return 0;
}
