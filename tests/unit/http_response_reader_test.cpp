// Response framing over a receive buffer (http/response_reader.hpp): lengths, chunked,
// interim and HEAD replies, bodies until close, and what an observer is handed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "sockit/http/response_reader.hpp"

namespace {

using sockit::http::ReadBuffer;
using sockit::http::ResponseReader;

// Feeds text to a reader in pieces of size step, as reads would deliver it; returns the
// steps' outcome for each response read.
std::vector<ResponseReader::Step> read_all(ResponseReader& reader, const std::string& text,
                                           std::size_t step) {
  ReadBuffer buffer(1024);
  std::vector<ResponseReader::Step> outcomes;
  std::size_t fed = 0;
  for (;;) {
    const auto result = reader.advance(buffer);
    if (result == ResponseReader::Step::more) {
      if (fed == text.size()) break;
      auto space = buffer.space();
      const auto n = std::min({step, space.size(), text.size() - fed});
      std::memcpy(space.data(), text.data() + fed, n);
      buffer.commit(n);
      fed += n;
      continue;
    }
    outcomes.push_back(result);
    if (result == ResponseReader::Step::error) break;
    reader.reset();
  }
  return outcomes;
}

TEST(ResponseReader, ReadsLengthChunkedAndInterimResponses) {
  const std::string replies =
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  for (const std::size_t step : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
    ResponseReader reader("GET");
    const auto outcomes = read_all(reader, replies, step);
    ASSERT_EQ(outcomes.size(), 3u) << step;
    for (const auto outcome : outcomes)
      EXPECT_EQ(outcome, ResponseReader::Step::done);
    EXPECT_EQ(reader.status(), 404);
  }
}

TEST(ResponseReader, GarbageIsAnError) {
  ResponseReader reader("GET");
  const auto outcomes = read_all(reader, "SSH-2.0-OpenSSH\r\n\r\n", 1000);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0], ResponseReader::Step::error);
  EXPECT_EQ(reader.error(), sockit::http::ParseError::bad_status_line);
}

TEST(ResponseReader, BadChunkIsAnError) {
  ResponseReader reader("GET");
  const auto outcomes =
      read_all(reader, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1000);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0], ResponseReader::Step::error);
}

// A buffer holding text, as one read would leave it.
ReadBuffer holding(std::string_view text) {
  ReadBuffer buffer(256);
  auto space = buffer.space();
  std::memcpy(space.data(), text.data(), text.size());
  buffer.commit(text.size());
  return buffer;
}

TEST(ResponseReader, BodyUntilCloseEndsAtClose) {
  ResponseReader reader("GET");
  auto buffer = holding("HTTP/1.0 200 OK\r\n\r\nsome body");
  EXPECT_EQ(reader.advance(buffer), ResponseReader::Step::more);
  EXPECT_TRUE(reader.finish_at_close());
  EXPECT_FALSE(reader.keep_alive());
}

TEST(ResponseReader, HeadRepliesHaveNoBody) {
  ResponseReader reader("HEAD");
  const auto outcomes =
      read_all(reader, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 5);
  EXPECT_EQ(outcomes.size(), 2u);
}

// Collects what the reader hands on.
class Recorder final : public sockit::http::ResponseObserver {
 public:
  void head(const sockit::http::Response& response, std::string_view raw) override {
    statuses.push_back(response.status);
    heads += raw;
  }
  void body(std::string_view data) override { bodies += data; }

  std::vector<int> statuses;
  std::string heads;
  std::string bodies;
};

TEST(ResponseReader, ObserverGetsEveryHeadAndTheBodyBytes) {
  const std::string replies =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
      "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  for (const std::size_t step : {std::size_t{1}, std::size_t{9}, std::size_t{1000}}) {
    Recorder recorder;
    ResponseReader reader("GET", &recorder);
    EXPECT_EQ(read_all(reader, replies, step).size(), 2u);
    EXPECT_EQ(recorder.statuses, (std::vector<int>{100, 200, 201})) << step;
    EXPECT_EQ(recorder.bodies, "helloabcde") << step;
    EXPECT_EQ(recorder.heads,
              "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
              "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n");
  }
}

TEST(ResponseReader, HeadLargerThanTheBufferIsAnError) {
  ResponseReader reader("GET");
  const std::string reply = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
  const auto outcomes = read_all(reader, reply, 100);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0], ResponseReader::Step::error);
  EXPECT_EQ(reader.error(), sockit::http::ParseError::headers_too_large);
}

TEST(ResponseReader, LeftoverBytesStayInTheBuffer) {
  ResponseReader reader("GET");
  auto buffer = holding("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200");
  EXPECT_EQ(reader.advance(buffer), ResponseReader::Step::done);
  EXPECT_EQ(buffer.pending(), "HTTP/1.1 200");
}

}  // namespace
