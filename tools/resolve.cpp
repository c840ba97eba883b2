// sockit resolve: every address of a name, the name of an address, or this host's names.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "command.hpp"
#include "common.hpp"
#include "sockit/resolver.hpp"

namespace sockit::tools {
namespace {

struct ResolveOptions {
  std::vector<std::string> queries;
  bool ipv4_only = false;
  bool ipv6_only = false;
  bool self = false;
  bool json = false;
};

struct Answer {
  std::string query;
  std::string canonical;  // for names
  std::string reverse;    // for addresses: the name a reverse lookup gives
  std::vector<Endpoint> addresses;
};

std::string_view family_label(Family family) {
  return family == Family::inet6 ? "IPv6" : "IPv4";
}

Answer lookup_name(const std::string& name, Family family) {
  Answer answer{name, {}, {}, {}};
  for (auto& info : getaddrinfo(name, {}, family, Type::stream, 0, AI_CANONNAME)) {
    if (answer.canonical.empty()) answer.canonical = info.canonname;
    if (std::find(answer.addresses.begin(), answer.addresses.end(), info.address) ==
        answer.addresses.end()) {
      answer.addresses.push_back(info.address);
    }
  }
  return answer;
}

// An address of the other family than -4 or -6 asked for is an error, not an answer.
Answer lookup_address(const std::string& ip, const Endpoint& endpoint, Family family) {
  if (family != Family::unspec && endpoint.family() != family) {
    throw std::runtime_error(ip + " is an " + std::string(family_label(endpoint.family())) +
                             " address, and only " + std::string(family_label(family)) +
                             " was asked for");
  }
  return Answer{ip, {}, gethostbyaddr(ip).hostname, {endpoint}};
}

nlohmann::json to_json(const Answer& answer) {
  nlohmann::json addresses = nlohmann::json::array();
  for (const auto& address : answer.addresses) {
    addresses.push_back({{"family", family_label(address.family())}, {"address", address.host()}});
  }
  nlohmann::json out = {{"query", answer.query}, {"addresses", addresses}};
  if (!answer.canonical.empty()) out["canonical"] = answer.canonical;
  if (!answer.reverse.empty()) out["name"] = answer.reverse;
  return out;
}

void print_text(const Answer& answer) {
  std::cout << answer.query;
  if (!answer.reverse.empty()) std::cout << " -> " << answer.reverse;
  if (!answer.canonical.empty() && answer.canonical != answer.query) {
    std::cout << " (canonical name " << answer.canonical << ")";
  }
  std::cout << '\n';
  if (!answer.reverse.empty()) return;
  for (const auto& address : answer.addresses) {
    std::cout << "  " << family_label(address.family()) << "  " << address.host() << '\n';
  }
}

int print_self(bool json) {
  const auto hostname = gethostname();
  const auto fqdn = getfqdn();
  if (json) {
    std::cout << nlohmann::json{{"hostname", hostname}, {"fqdn", fqdn}}.dump() << '\n';
  } else {
    std::cout << "hostname  " << hostname << "\nfqdn      " << fqdn << '\n';
  }
  return 0;
}

int run(const ResolveOptions& options) {
  if (options.self) return print_self(options.json);
  if (options.queries.empty()) throw std::invalid_argument("give a NAME or ADDRESS, or --self");
  const Family family = options.ipv4_only   ? Family::inet
                        : options.ipv6_only ? Family::inet6
                                            : Family::unspec;
  int status = 0;
  for (const auto& query : options.queries) {
    try {
      auto numeric = Endpoint::from_ip(query, 0);
      const Answer answer =
          numeric ? lookup_address(query, *numeric, family) : lookup_name(query, family);
      if (options.json) {
        std::cout << to_json(answer).dump() << '\n';
      } else {
        print_text(answer);
      }
    } catch (const std::runtime_error& e) {
      print_error("resolve", e.what());
      status = 1;
    }
  }
  return status;
}

}  // namespace

Run setup_resolve(CLI::App& app) {
  auto options = std::make_shared<ResolveOptions>();
  app.add_option("query", options->queries, "Host names or numeric addresses")
      ->check(non_empty("NAME"));
  auto* v4 = app.add_flag("-4", options->ipv4_only, "IPv4 addresses only");
  app.add_flag("-6", options->ipv6_only, "IPv6 addresses only")->excludes(v4);
  app.add_flag("--self", options->self, "Print this host's name and fully qualified name");
  app.add_flag("--json", options->json, "One JSON object per query (JSON Lines)");
  app.footer(
      "Examples:\n  sockit resolve localhost\n  sockit resolve -4 --json localhost\n"
      "  sockit resolve 127.0.0.1\n  sockit resolve --self");
  return [options] { return run(*options); };
}

}  // namespace sockit::tools
