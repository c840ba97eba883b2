// libFuzzer target: arbitrary bytes into the HTTP/1.1 parsers (RequestParser, ResponseParser,
// ChunkedDecoder). The first two bytes choose a split point and the options; the rest is the
// message. Each parser reads the message whole, then in two calls cut at the split point from
// buffers that move, and must give the same answer both ways; whatever completes must lie
// inside the input (head_size within it, every view inside it). A violation aborts with the
// property it broke (libFuzzer saves the input).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/http/parser.hpp"

namespace {

using namespace sockit::http;

[[noreturn]] void violated(const char* property) {
  std::fprintf(stderr, "http_fuzz: %s\n", property);
  std::abort();
}

void check(bool holds, const char* property) {
  if (!holds) violated(property);
}

bool inside(std::string_view view, std::string_view buffer) {
  return view.empty() || (view.data() >= buffer.data() &&
                          view.data() + view.size() <= buffer.data() + buffer.size());
}

struct Options {
  std::size_t split = 0;  // where the second feeding cuts the message
  Limits limits;          // the defaults, or small ones that the fuzzer reaches
  std::string_view request_method;
};

Options options_from(std::uint8_t a, std::uint8_t b, std::size_t size) {
  Options options;
  options.split = size == 0 ? 0 : (static_cast<std::size_t>(a) << 8 | b) % (size + 1);
  if (a & 1) options.limits = {.max_request_line = 40, .max_head_bytes = 200, .max_headers = 4};
  constexpr std::string_view methods[] = {"GET", "HEAD", "CONNECT", "POST"};
  options.request_method = methods[(b >> 1) % 4];
  return options;
}

// What a head parser answered, to compare two ways of feeding it.
struct HeadOutcome {
  ParseStatus status = ParseStatus::incomplete;
  ParseError error = ParseError::none;
  std::size_t head_size = 0;
  BodyKind body = BodyKind::none;
  std::uint64_t content_length = 0;
  bool keep_alive = false;
  std::vector<std::string> fields;  // names and values, then the start line's parts

  bool operator==(const HeadOutcome&) const = default;
};

template <class Parser>
HeadOutcome outcome(const Parser& parser, ParseStatus status, const Message& message,
                    std::string_view buffer) {
  HeadOutcome out;
  out.status = status;
  out.error = parser.error();
  check(status == ParseStatus::error ? parser.error() != ParseError::none
                                     : parser.error() == ParseError::none,
        "error() agrees with the status");
  if (status != ParseStatus::complete) return out;
  check(message.head_size <= buffer.size(), "head_size within the input");
  out.head_size = message.head_size;
  out.body = message.body;
  out.content_length = message.content_length;
  out.keep_alive = message.keep_alive;
  for (const Header& h : message.headers) {
    check(inside(h.name, buffer) && inside(h.value, buffer), "header views inside the input");
    check(h.name.data() + h.name.size() <= buffer.data() + message.head_size,
          "header inside the head");
    out.fields.emplace_back(h.name);
    out.fields.emplace_back(h.value);
  }
  return out;
}

HeadOutcome request_outcome(const RequestParser& parser, ParseStatus status,
                            std::string_view buffer) {
  const Request& r = parser.request();
  HeadOutcome out = outcome(parser, status, r, buffer);
  if (status == ParseStatus::complete) {
    check(inside(r.method, buffer) && inside(r.target, buffer), "request line views inside");
    check(!r.method.empty() && !r.target.empty(), "method and target are not empty");
    out.fields.emplace_back(r.method);
    out.fields.emplace_back(r.target);
  }
  return out;
}

HeadOutcome response_outcome(const ResponseParser& parser, ParseStatus status,
                             std::string_view buffer) {
  const Response& r = parser.response();
  HeadOutcome out = outcome(parser, status, r, buffer);
  if (status == ParseStatus::complete) {
    check(inside(r.reason, buffer), "reason inside the input");
    check(r.status >= 100 && r.status <= 999, "status has three digits");
    out.fields.emplace_back(r.reason);
  }
  return out;
}

// The message whole, then cut at split, each part from a buffer of its own.
template <class Parser, class Outcome>
void check_head_parser(Parser& parser, std::string_view text, std::size_t split,
                       Outcome make_outcome) {
  const std::string whole(text);
  const HeadOutcome at_once = make_outcome(parser, parser.parse(whole), whole);
  parser.reset();
  const std::string first(text.substr(0, split));
  const ParseStatus early = parser.parse(first);
  make_outcome(parser, early, first);
  const std::string again(text);
  const HeadOutcome in_two = make_outcome(parser, parser.parse(again), again);
  check(at_once == in_two, "the same answer whole and in two parts");
}

void check_requests(std::string_view text, const Options& options) {
  RequestParser parser(options.limits);
  check_head_parser(parser, text, options.split, request_outcome);
  // Pipelined requests after the first.
  parser.reset();
  for (int i = 0; i < 4 && !text.empty(); ++i) {
    if (parser.parse(text) != ParseStatus::complete) break;
    text.remove_prefix(parser.request().head_size);
    parser.reset();
  }
}

void check_responses(std::string_view text, const Options& options) {
  ResponseParser parser(options.limits);
  parser.set_request_method(options.request_method);
  check_head_parser(parser, text, options.split, response_outcome);
}

struct BodyOutcome {
  ParseStatus status = ParseStatus::incomplete;
  ParseError error = ParseError::none;
  std::string body;
  std::vector<std::string> trailers;
  std::size_t consumed = 0;

  bool operator==(const BodyOutcome&) const = default;
};

// Runs the decoder's documented loop over input, which grows by `arrived`.
void decode_more(ChunkedDecoder& decoder, std::string& input, BodyOutcome& out) {
  for (int round = 0; round < 1 << 20; ++round) {
    const auto step = decoder.decode(input);
    check(step.consumed <= input.size(), "consumed within the input");
    check(inside(step.data, std::string_view(input).substr(0, step.consumed)),
          "data inside what was consumed");
    out.body.append(step.data);
    out.status = step.status;
    out.error = decoder.error();
    if (step.status == ParseStatus::complete) {
      check(decoder.done(), "done once complete");
      for (const Header& h : decoder.trailers()) {
        check(inside(h.name, input) && inside(h.value, input), "trailer views inside");
        out.trailers.emplace_back(h.name);
        out.trailers.emplace_back(h.value);
      }
    }
    out.consumed += step.consumed;
    input = input.substr(step.consumed);
    if (step.status != ParseStatus::incomplete || step.consumed == 0) return;
  }
  violated("the decoder makes no progress");
}

void check_chunked(std::string_view text, const Options& options) {
  BodyOutcome at_once;
  {
    ChunkedDecoder decoder(options.limits);
    std::string input(text);
    decode_more(decoder, input, at_once);
  }
  BodyOutcome in_two;
  ChunkedDecoder decoder(options.limits);
  std::string input(text.substr(0, options.split));
  decode_more(decoder, input, in_two);
  if (in_two.status == ParseStatus::incomplete) {
    input += text.substr(options.split);
    decode_more(decoder, input, in_two);
  }
  check(at_once == in_two, "the same body whole and in two parts");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  const Options options = options_from(data[0], data[1], text.size());
  check_requests(text, options);
  check_responses(text, options);
  check_chunked(text, options);
  return 0;
}
