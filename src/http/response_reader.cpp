#include "sockit/http/response_reader.hpp"

#include <algorithm>

namespace sockit::http {

void ReadBuffer::consume(std::size_t count) noexcept {
  begin_ += count;
  if (begin_ == end_) begin_ = end_ = 0;
}

std::span<char> ReadBuffer::space() noexcept {
  if (end_ == data_.size() && begin_ > 0) {
    std::copy(data_.begin() + static_cast<std::ptrdiff_t>(begin_),
              data_.begin() + static_cast<std::ptrdiff_t>(end_), data_.begin());
    end_ -= begin_;
    begin_ = 0;
  }
  return std::span(data_).subspan(end_);
}

ResponseReader::ResponseReader(std::string_view method, ResponseObserver* observer)
    : observer_(observer) {
  parser_.set_request_method(method);
}

ResponseReader::Step ResponseReader::advance(ReadBuffer& buffer) {
  if (stage_ == Stage::head) {
    if (const Step step = head(buffer); step != Step::done) return step;
  }
  return stage_ == Stage::done ? Step::done : body(buffer);
}

ResponseReader::Step ResponseReader::head(ReadBuffer& buffer) {
  for (;;) {
    const auto status = parser_.parse(buffer.pending());
    if (status == ParseStatus::incomplete) {
      if (!buffer.full()) return Step::more;
      error_ = ParseError::headers_too_large;
      return Step::error;
    }
    if (status == ParseStatus::error) {
      error_ = parser_.error();
      return Step::error;
    }
    const auto& response = parser_.response();
    status_ = response.status;
    keep_alive_ = response.keep_alive && response.body != BodyKind::until_close;
    kind_ = response.body;
    length_ = remaining_ = response.content_length;
    if (observer_ != nullptr)
      observer_->head(response, buffer.pending().substr(0, response.head_size));
    buffer.consume(response.head_size);
    parser_.reset();
    // An interim response (100 Continue): the real one follows for the same request.
    if (status_ >= 100 && status_ < 200 && status_ != 101) continue;
    stage_ = Stage::body;
    chunked_.reset();
    return Step::done;
  }
}

void ResponseReader::deliver(std::string_view data) {
  if (observer_ != nullptr && !data.empty()) observer_->body(data);
}

ResponseReader::Step ResponseReader::body(ReadBuffer& buffer) {
  switch (kind_) {
    case BodyKind::none:
      break;
    case BodyKind::length: {
      const auto take =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, buffer.pending().size()));
      deliver(buffer.pending().substr(0, take));
      buffer.consume(take);
      remaining_ -= take;
      if (remaining_ > 0) return Step::more;
      break;
    }
    case BodyKind::chunked:
      for (;;) {
        const auto step = chunked_.decode(buffer.pending());
        deliver(step.data);
        buffer.consume(step.consumed);
        if (step.status == ParseStatus::error) {
          error_ = chunked_.error();
          return Step::error;
        }
        if (step.status == ParseStatus::complete) break;
        if (step.consumed == 0) return Step::more;
      }
      break;
    case BodyKind::until_close:
      deliver(buffer.pending());
      buffer.consume(buffer.pending().size());
      return Step::more;
  }
  stage_ = Stage::done;
  return Step::done;
}

bool ResponseReader::finish_at_close() noexcept {
  if (stage_ != Stage::body || kind_ != BodyKind::until_close) return false;
  stage_ = Stage::done;
  return true;
}

void ResponseReader::reset() noexcept {
  stage_ = Stage::head;
  parser_.reset();
  chunked_.reset();
  error_ = ParseError::none;
}

}  // namespace sockit::http
