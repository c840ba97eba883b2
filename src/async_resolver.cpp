#include "sockit/async_resolver.hpp"

#include <netdb.h>
#include <strings.h>

#include <string_view>

#include "sockit/resolver.hpp"

namespace sockit {
namespace {

std::error_code no_such_name() noexcept {
  return {EAI_NONAME, gai_category()};
}

// RFC 6761 6.4: "invalid" and every name below it never exist.
bool reserved_invalid(std::string_view host) noexcept {
  if (host.ends_with('.')) host.remove_suffix(1);
  constexpr std::string_view kTld = "invalid";
  if (host.size() < kTld.size()) return false;
  const std::string_view tail = host.substr(host.size() - kTld.size());
  const bool label = host.size() == kTld.size() || host[host.size() - kTld.size() - 1] == '.';
  return label && strncasecmp(tail.data(), kTld.data(), kTld.size()) == 0;
}

}  // namespace

Resolution resolve(EventLoop& loop, Address address, Family family, Type type, int flags) {
  if (address.local || address.host.empty()) {
    return {loop, try_resolve(address, family, type, flags)};
  }
  if (reserved_invalid(address.host)) return {loop, Result<std::vector<Endpoint>>(no_such_name())};
  auto numeric = try_resolve(address, family, type, flags | AI_NUMERICHOST);
  if (numeric || numeric.error() != no_such_name()) return {loop, std::move(numeric)};
  return {loop, std::function<Result<std::vector<Endpoint>>()>(
                    [address = std::move(address), family, type, flags] {
                      return try_resolve(address, family, type, flags);
                    })};
}

}  // namespace sockit
