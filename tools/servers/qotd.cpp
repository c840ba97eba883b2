#include "servers/qotd.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common.hpp"

namespace sockit::tools::servers {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Quote text travels with CRLF line ends and a final CRLF, as RFC 865's examples do.
std::string as_wire_text(std::string_view quote) {
  std::string wire;
  for (char c : quote) {
    if (c == '\r') continue;
    if (c == '\n') wire += '\r';
    wire += c;
  }
  return wire + "\r\n";
}

std::vector<std::string> split_quotes(std::string_view text) {
  std::vector<std::string> quotes;
  const bool fortune = text.find("\n%\n") != std::string_view::npos || text.starts_with("%\n");
  std::string current;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (fortune && line != "%") {
      current += line + "\n";
      continue;
    }
    if (!fortune) current = line;
    if (!trim(current).empty()) quotes.emplace_back(trim(current));
    current.clear();
  }
  if (fortune && !trim(current).empty()) quotes.emplace_back(trim(current));
  return quotes;
}

}  // namespace

QuoteBook::QuoteBook()
    : quotes_{
          as_wire_text("\"When a stupid man is doing something he is ashamed of, he always "
                       "declares\nthat it is his duty.\" George Bernard Shaw (1856-1950)"),
          as_wire_text("\"The best way to predict the future is to invent it.\" Alan Kay"),
          as_wire_text("\"Be conservative in what you do, be liberal in what you accept from "
                       "others.\"\nJon Postel, RFC 793"),
          as_wire_text("\"Simplicity is prerequisite for reliability.\" Edsger W. Dijkstra"),
          as_wire_text("\"There are only two hard things in Computer Science: cache "
                       "invalidation\nand naming things.\" Phil Karlton"),
          as_wire_text("\"We reject kings, presidents and voting. We believe in rough "
                       "consensus\nand running code.\" David D. Clark (1992)"),
          as_wire_text("\"Premature optimization is the root of all evil.\" Donald Knuth"),
          as_wire_text("\"The network is reliable.\" The first fallacy of distributed "
                       "computing"),
      } {}

QuoteBook QuoteBook::parse(std::string_view text) {
  std::vector<std::string> quotes;
  for (const auto& quote : split_quotes(text)) {
    std::string wire = as_wire_text(quote);
    if (wire.size() > kMaxQuote) {
      throw std::invalid_argument("quote over " + std::to_string(kMaxQuote) +
                                  " characters (RFC 865): \"" + quote.substr(0, 40) + "...\"");
    }
    quotes.push_back(std::move(wire));
  }
  if (quotes.empty()) throw std::invalid_argument("no quotes found");
  return QuoteBook(std::move(quotes));
}

QuoteBook QuoteBook::load(const std::string& path) {
  std::ifstream file = tools::open_input(path, "quotes file");
  // One byte more than allowed tells a file at the limit from one over it (or /dev/zero).
  std::string text(kMaxFile + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(file.gcount()));
  if (text.size() > kMaxFile) {
    throw std::invalid_argument("quotes file " + path + " is over " +
                                std::to_string(kMaxFile >> 20) + " MiB");
  }
  try {
    return parse(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

QotdService::QotdService(EventLoop& loop, ServerLimits& limits,
                         std::shared_ptr<const QuoteBook> quotes)
    : Service(loop, "qotd", limits), quotes_(std::move(quotes)), random_(std::random_device{}()) {}

const std::string& QotdService::pick() {
  std::uniform_int_distribution<std::size_t> index(0, quotes_->size() - 1);
  return (*quotes_)[index(random_)];
}

Task<> QotdService::serve(Connection& connection) {
  // The connection closes after the quote whether or not it went out.
  static_cast<void>(co_await connection.write_all(pick()));
}

std::string_view QotdService::reply(std::string_view /*request*/, std::span<char> /*out*/) {
  return pick();
}

}  // namespace sockit::tools::servers
