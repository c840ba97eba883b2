#include "sockit/resolver.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <memory>

#include "sys/sys.hpp"

namespace sockit {
namespace {

using AddrInfoList = std::unique_ptr<addrinfo, decltype(&sys::freeaddrinfo)>;

std::string describe(std::string_view operation, std::string_view subject) {
  return std::string(operation) + " " + std::string(subject);
}

Result<AddrInfoList> lookup(std::string_view host, std::string_view service, Family family,
                            Type type, int protocol, int flags) noexcept {
  addrinfo hints{};
  hints.ai_family = static_cast<int>(family);
  hints.ai_socktype = static_cast<int>(type);
  hints.ai_protocol = protocol;
  hints.ai_flags = flags;
  // std::string construction may throw only on allocation failure, which noexcept turns into
  // termination, the same as any other out-of-memory in this library.
  const std::string host_text(host);
  const std::string service_text(service);
  auto list = sys::getaddrinfo(host.empty() ? nullptr : host_text.c_str(),
                               service.empty() ? nullptr : service_text.c_str(), hints);
  if (!list) return list.error();
  return AddrInfoList(*list, &sys::freeaddrinfo);
}

// Every IPv4 address of a name, in the resolver's order, without repeats.
HostEntry ipv4_entry(std::string_view name) {
  auto list = lookup(name, {}, Family::inet, Type::stream, 0, AI_CANONNAME)
                  .value_or_throw(describe("gethostbyname", name));
  HostEntry entry;
  entry.hostname = list->ai_canonname ? list->ai_canonname : std::string(name);
  for (const addrinfo* info = list.get(); info; info = info->ai_next) {
    auto address = Endpoint::from_sockaddr(info->ai_addr, info->ai_addrlen).host();
    if (std::find(entry.addresses.begin(), entry.addresses.end(), address) ==
        entry.addresses.end()) {
      entry.addresses.push_back(std::move(address));
    }
  }
  if (!std::string_view(entry.hostname).empty() && entry.hostname != name) {
    entry.aliases.emplace_back(name);
  }
  return entry;
}

}  // namespace

Result<std::vector<AddrInfo>> try_getaddrinfo(std::string_view host, std::string_view service,
                                              Family family, Type type, int protocol,
                                              int flags) noexcept {
  auto list = lookup(host, service, family, type, protocol, flags);
  if (!list) return list.error();
  std::vector<AddrInfo> result;
  for (const addrinfo* info = list->get(); info; info = info->ai_next) {
    result.push_back(AddrInfo{static_cast<Family>(info->ai_family),
                              static_cast<Type>(info->ai_socktype), info->ai_protocol,
                              info->ai_canonname ? info->ai_canonname : "",
                              Endpoint::from_sockaddr(info->ai_addr, info->ai_addrlen)});
  }
  return result;
}

std::vector<AddrInfo> getaddrinfo(std::string_view host, std::string_view service, Family family,
                                  Type type, int protocol, int flags) {
  return try_getaddrinfo(host, service, family, type, protocol, flags)
      .value_or_throw(describe("getaddrinfo", host.empty() ? service : host));
}

std::vector<AddrInfo> getaddrinfo(std::string_view host, std::uint16_t port, Family family,
                                  Type type, int protocol, int flags) {
  return getaddrinfo(host, std::to_string(port), family, type, protocol, flags | AI_NUMERICSERV);
}

Result<std::vector<Endpoint>> try_resolve(const Address& address, Family family, Type type,
                                          int flags) noexcept {
  if (address.local) {
    auto endpoint = Endpoint::from_path(address.host);
    if (!endpoint) return endpoint.error();
    return std::vector<Endpoint>{std::move(*endpoint)};
  }
  auto infos = try_getaddrinfo(address.host, std::to_string(address.port), family, type, 0,
                               flags | AI_NUMERICSERV | (address.host.empty() ? AI_PASSIVE : 0));
  if (!infos) return infos.error();
  std::vector<Endpoint> endpoints;
  endpoints.reserve(infos->size());
  for (auto& info : *infos)
    endpoints.push_back(std::move(info.address));
  return endpoints;
}

std::vector<Endpoint> resolve(const Address& address, Family family, Type type, int flags) {
  return try_resolve(address, family, type, flags)
      .value_or_throw(describe("resolve", address.to_string()));
}

std::string gethostbyname(std::string_view name) {
  return ipv4_entry(name).addresses.front();
}

HostEntry gethostbyname_ex(std::string_view name) {
  return ipv4_entry(name);
}

HostEntry gethostbyaddr(std::string_view ip_or_name) {
  const std::string operation = describe("gethostbyaddr", ip_or_name);
  auto endpoint = Endpoint::from_ip(ip_or_name, 0);
  if (!endpoint) {
    auto infos = getaddrinfo(ip_or_name, {}, Family::unspec, Type::stream);
    endpoint = infos.front().address;
  }
  std::string host;
  std::string service;
  if (auto code = sys::getnameinfo(*endpoint, host, service, NI_NAMEREQD)) {
    if (code.category() == gai_category()) throw HError(code, operation);
    throw_error(code, operation);
  }
  HostEntry entry;
  entry.hostname = host;
  entry.addresses.push_back(endpoint->host());
  return entry;
}

std::string gethostname() {
  return sys::gethostname().value_or_throw("gethostname");
}

std::string getfqdn(std::string_view name) {
  // Python's algorithm: the reverse lookup's name, or the first alias with a dot in it;
  // the name itself when the lookup fails.
  const std::string self =
      (name.empty() || name == "0.0.0.0" || name == "::") ? gethostname() : std::string(name);
  try {
    const HostEntry entry = gethostbyaddr(self);
    for (const auto& alias : entry.aliases) {
      if (alias.find('.') != std::string::npos) return alias;
    }
    return entry.hostname;
  } catch (const Error&) {
    return self;
  }
}

NameInfo getnameinfo(const Endpoint& endpoint, int flags) {
  NameInfo info;
  throw_if(sys::getnameinfo(endpoint, info.host, info.service, flags),
           describe("getnameinfo", endpoint.to_string()));
  return info;
}

Result<std::uint16_t> try_getservbyname(std::string_view name, std::string_view proto) noexcept {
  auto numeric = parse_port(name);
  if (numeric || numeric.error() != AddressErrc::bad_port) return numeric;
  const Type type = proto == "udp" ? Type::dgram : Type::stream;
  auto infos = try_getaddrinfo({}, name, Family::inet, type, 0, AI_PASSIVE);
  if (!infos) return infos.error();
  return infos->front().address.port();
}

std::uint16_t getservbyname(std::string_view name, std::string_view proto) {
  return try_getservbyname(name, proto).value_or_throw(describe("getservbyname", name));
}

std::string getservbyport(std::uint16_t port, std::string_view proto) {
  auto endpoint = Endpoint::loopback(Family::inet, port);
  const int flags = proto == "udp" ? NI_DGRAM : 0;
  auto name = getnameinfo(endpoint, flags | NI_NUMERICHOST).service;
  // getnameinfo falls back to the number; Python's getservbyport raises instead.
  if (name == std::to_string(port)) {
    throw_error({EAI_NONAME, gai_category()}, "getservbyport " + name);
  }
  return name;
}

}  // namespace sockit
