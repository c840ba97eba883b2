// Name resolution with Python's names: getaddrinfo, gethostbyname(_ex), gethostbyaddr,
// gethostname, getfqdn, getnameinfo, getservbyname. Failures are GaiError (or HError for
// reverse lookups) whose text is the resolver's own (gai_strerror).
#pragma once

#include <netdb.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/endpoint.hpp"
#include "sockit/error.hpp"

namespace sockit {

// One entry of getaddrinfo's answer: Python's (family, type, proto, canonname, sockaddr).
struct AddrInfo {
  Family family = Family::unspec;
  Type type = Type::any;
  int protocol = 0;
  std::string canonname;  // set on the first entry when AI_CANONNAME was asked
  Endpoint address;
};

// gethostbyname_ex/gethostbyaddr's (hostname, aliaslist, ipaddrlist).
struct HostEntry {
  std::string hostname;
  std::vector<std::string> aliases;
  std::vector<std::string> addresses;
};

// getnameinfo's (host, port) pair, as text.
struct NameInfo {
  std::string host;
  std::string service;
};

// host may be empty (with AI_PASSIVE: the wildcard address); service is a port number or a
// service name, or empty. flags are AI_* values from <netdb.h>.
std::vector<AddrInfo> getaddrinfo(std::string_view host, std::string_view service,
                                  Family family = Family::unspec, Type type = Type::any,
                                  int protocol = 0, int flags = 0);
std::vector<AddrInfo> getaddrinfo(std::string_view host, std::uint16_t port,
                                  Family family = Family::unspec, Type type = Type::any,
                                  int protocol = 0, int flags = 0);
Result<std::vector<AddrInfo>> try_getaddrinfo(std::string_view host, std::string_view service,
                                              Family family = Family::unspec, Type type = Type::any,
                                              int protocol = 0, int flags = 0) noexcept;

// Every endpoint an Address stands for, in the resolver's order; a Unix address is itself.
Result<std::vector<Endpoint>> try_resolve(const Address& address, Family family = Family::unspec,
                                          Type type = Type::stream, int flags = 0) noexcept;
std::vector<Endpoint> resolve(const Address& address, Family family = Family::unspec,
                              Type type = Type::stream, int flags = 0);

// The first IPv4 address of a name, as text (IPv4 only, as in Python).
std::string gethostbyname(std::string_view name);
// The canonical name, aliases and every IPv4 address of a name.
HostEntry gethostbyname_ex(std::string_view name);
// The name of an address (or of the first address of a name), its aliases and addresses.
HostEntry gethostbyaddr(std::string_view ip_or_name);
std::string gethostname();
// The fully qualified name of name, or of this host when name is empty or "0.0.0.0".
std::string getfqdn(std::string_view name = {});
// flags are NI_* values from <netdb.h>.
NameInfo getnameinfo(const Endpoint& endpoint, int flags = 0);
// The port of a service name in /etc/services ("http" -> 80); proto "tcp", "udp" or empty.
std::uint16_t getservbyname(std::string_view name, std::string_view proto = {});
Result<std::uint16_t> try_getservbyname(std::string_view name,
                                        std::string_view proto = {}) noexcept;
// The name of a port in /etc/services (80 -> "http").
std::string getservbyport(std::uint16_t port, std::string_view proto = {});

}  // namespace sockit
