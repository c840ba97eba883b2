// Quote of the Day (RFC 865): one quote, at most 512 characters. TCP writes it and closes;
// UDP answers each datagram (an empty one too) with it.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/server.hpp"

namespace sockit::tools::servers {

// The quotes a QOTD service picks from; immutable once loaded, shared by every loop.
class QuoteBook {
 public:
  static constexpr std::size_t kMaxQuote = 512;
  // A quotes file is read whole at start: 4 MiB holds thousands of quotes.
  static constexpr std::size_t kMaxFile = std::size_t{4} << 20;

  // The built-in quotes.
  QuoteBook();
  // Quotes from text in fortune(6) form (quotes separated by lines holding only "%"), or one
  // per line when the text has no such separator. Throws std::invalid_argument for a quote
  // over 512 characters or a file with none.
  static QuoteBook parse(std::string_view text);
  static QuoteBook load(const std::string& path);

  std::size_t size() const noexcept { return quotes_.size(); }
  const std::string& operator[](std::size_t index) const { return quotes_[index]; }

 private:
  explicit QuoteBook(std::vector<std::string> quotes) : quotes_(std::move(quotes)) {}
  std::vector<std::string> quotes_;
};

class QotdService final : public Service {
 public:
  QotdService(EventLoop& loop, ServerLimits& limits, std::shared_ptr<const QuoteBook> quotes);

 protected:
  Task<> serve(Connection& connection) override;
  std::string_view reply(std::string_view request, std::span<char> out) override;

 private:
  const std::string& pick();

  std::shared_ptr<const QuoteBook> quotes_;
  std::minstd_rand random_;
};

}  // namespace sockit::tools::servers
