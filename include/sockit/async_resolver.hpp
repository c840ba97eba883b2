// Name resolution that never blocks a loop:
//
//   auto endpoints = co_await with_timeout(5s, resolve(loop, Address("example.org", 443)));
//
// gives what the blocking try_resolve (resolver.hpp) gives: every endpoint, in the resolver's
// order, or a GaiError-category error (gai_category()); it never throws. Numeric hosts, the
// empty host and Unix addresses are answered at once, without a thread. Names under the
// reserved .invalid domain (RFC 6761) fail at once with EAI_NONAME, without a query. Other
// names are looked up with getaddrinfo on to_thread's worker threads (to_thread.hpp), so a
// timeout, with_cancel or a TaskGroup's cancel ends the await at once, and the lookup's late
// answer is dropped without touching the awaiting frame.
//
// Why getaddrinfo on threads rather than c-ares: getaddrinfo goes through nsswitch, so the
// async answer is the one the blocking layer, `sockit resolve` and every other program on the
// machine get (files, dns, and also myhostname, mdns, systemd-resolved, container and LDAP
// modules, which c-ares does not read); it adds no dependency; and its cancellation is the
// generic one of to_thread. What it costs: a lookup cannot be aborted once running (its
// thread finishes it and drops the answer), and at most four lookups run at once per process.
#pragma once

#include <vector>

#include "sockit/endpoint.hpp"
#include "sockit/error.hpp"
#include "sockit/to_thread.hpp"

namespace sockit {

using Resolution = ToThread<Result<std::vector<Endpoint>>>;

// The async try_resolve: same parameters, same answer. flags are AI_* values.
Resolution resolve(EventLoop& loop, Address address, Family family = Family::unspec,
                   Type type = Type::stream, int flags = 0);

}  // namespace sockit
