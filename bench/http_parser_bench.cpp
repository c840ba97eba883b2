// HTTP/1.1 head parsing: typical browser and curl requests and a server's response head, each
// parsed whole from one buffer as a server does with a request that arrived in one read.
// Reports bytes of head per second; the target is 1 GB/s on the Chrome request.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string_view>

#include "../tests/support/http_requests.hpp"
#include "sockit/http/parser.hpp"

namespace {

using sockit::http::ParseStatus;

using sockit::test::chrome_get;

constexpr std::string_view curl_get =
    "GET /index.html HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

constexpr std::string_view nginx_response =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    "Content-Type: text/html\r\n"
    "Content-Length: 615\r\n"
    "Last-Modified: Tue, 11 Apr 2023 01:45:34 GMT\r\n"
    "Connection: keep-alive\r\n"
    "ETag: \"6434bbbe-267\"\r\n"
    "Accept-Ranges: bytes\r\n"
    "\r\n";

template <class Parser>
void parse_head(benchmark::State& state, std::string_view head) {
  Parser parser;
  for (auto _ : state) {
    parser.reset();
    const ParseStatus status = parser.parse(head);
    benchmark::DoNotOptimize(status);
    if (status != ParseStatus::complete) {
      state.SkipWithError("the head does not parse");
      return;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(head.size()));
}

void parse_request(benchmark::State& state, std::string_view head) {
  parse_head<sockit::http::RequestParser>(state, head);
}
void parse_response(benchmark::State& state, std::string_view head) {
  parse_head<sockit::http::ResponseParser>(state, head);
}

BENCHMARK_CAPTURE(parse_request, chrome_get, chrome_get);
BENCHMARK_CAPTURE(parse_request, curl_get, curl_get);
BENCHMARK_CAPTURE(parse_response, nginx_response, nginx_response);

}  // namespace

BENCHMARK_MAIN();
