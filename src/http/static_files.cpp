#include "sockit/http/static_files.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "http/text.hpp"
#include "sys/file.hpp"

namespace sockit::http {
namespace {

constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// The common web types, for hosts without /etc/mime.types (and the ones it lacks).
constexpr std::pair<std::string_view, std::string_view> kBuiltinTypes[] = {
    {"html", "text/html"},        {"htm", "text/html"},         {"css", "text/css"},
    {"js", "text/javascript"},    {"mjs", "text/javascript"},   {"json", "application/json"},
    {"txt", "text/plain"},        {"md", "text/markdown"},      {"csv", "text/csv"},
    {"xml", "application/xml"},   {"svg", "image/svg+xml"},     {"png", "image/png"},
    {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},       {"gif", "image/gif"},
    {"webp", "image/webp"},       {"avif", "image/avif"},       {"ico", "image/vnd.microsoft.icon"},
    {"pdf", "application/pdf"},   {"zip", "application/zip"},   {"gz", "application/gzip"},
    {"tar", "application/x-tar"}, {"wasm", "application/wasm"}, {"mp4", "video/mp4"},
    {"webm", "video/webm"},       {"mp3", "audio/mpeg"},        {"ogg", "audio/ogg"},
    {"woff", "font/woff"},        {"woff2", "font/woff2"},      {"ttf", "font/ttf"},
    {"otf", "font/otf"},
};

constexpr std::string_view kOctetStream = "application/octet-stream";
// Directory listings and error pages.
constexpr std::string_view kHtmlType = "text/html; charset=utf-8";
// What follows a path in a cache key: a file's .gz sibling, or a directory's listing.
constexpr std::string_view kGzipVariant = "\n+gzip";
constexpr std::string_view kListingVariant = "\n+listing";

using text::for_each_element;
using text::hex_value;
using text::lower;
using text::lowered;

template <class Number>
bool parse_number(std::string_view text, Number& out) noexcept {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

// A Range's last position or suffix length: digits only, a number beyond 2^64 saturating
// (it can only reach past the end of any file).
bool parse_position(std::string_view text, std::uint64_t& out) noexcept {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  if (!parse_number(text, out)) out = std::numeric_limits<std::uint64_t>::max();
  return true;
}

int month_index(std::string_view name) noexcept {
  for (std::size_t i = 0; i < std::size(kMonths); ++i) {
    if (kMonths[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// "06 Nov 1994 08:49:37" style fields, whatever separated them, into a UTC time.
std::optional<std::time_t> make_time(int day, int month, int year, std::string_view clock) {
  int hour = 0, minute = 0, second = 0;
  if (clock.size() != 8 || clock[2] != ':' || clock[5] != ':' ||
      !parse_number(clock.substr(0, 2), hour) || !parse_number(clock.substr(3, 2), minute) ||
      !parse_number(clock.substr(6, 2), second) || month < 0 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t time = timegm(&tm);
  // timegm carries a day past the month's end into the next month: such a date is invalid.
  std::tm check{};
  if (gmtime_r(&time, &check) == nullptr || check.tm_mday != day) return std::nullopt;
  return time;
}

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> words;
  while (!text.empty()) {
    const auto start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    const auto end = text.find(' ');
    words.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end);
  }
  return words;
}

bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// An entity tag without its weakness prefix, for the weak comparison.
std::string_view opaque_tag(std::string_view tag) noexcept {
  if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') tag.remove_prefix(2);
  return tag;
}

std::string make_etag(const struct stat& st) {
  char text[64];
  const int n = std::snprintf(
      text, sizeof text, "\"%llx.%lx-%llx\"", static_cast<unsigned long long>(st.st_mtim.tv_sec),
      static_cast<unsigned long>(st.st_mtim.tv_nsec), static_cast<unsigned long long>(st.st_size));
  return {text, static_cast<std::size_t>(n)};
}

void add_header(std::string& head, std::string_view name, std::string_view value) {
  head.append(name).append(": ").append(value).append("\r\n");
}

void add_header(std::string& head, std::string_view name, std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  add_header(head, name, std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

bool is_get_or_head(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD";
}

bool is_known_method(std::string_view method) noexcept {
  constexpr std::string_view kKnown[] = {"POST",    "PUT",   "DELETE", "CONNECT",
                                         "OPTIONS", "TRACE", "PATCH"};
  return std::find(std::begin(kKnown), std::end(kKnown), method) != std::end(kKnown);
}

// The status a failed open below the root answers.
int open_failure_status(std::error_code error) noexcept {
  switch (error.value()) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return 404;
    case EACCES:
    case EPERM:
    case EXDEV:  // a symlink leading outside the root
    case ELOOP:
      return 403;
    default:
      return 500;
  }
}

bool if_range_allows(std::string_view if_range, std::string_view etag, std::time_t mtime) {
  if (if_range.empty()) return true;
  // A strong comparison: a weak tag never matches.
  if (if_range.front() == '"' || if_range.starts_with("W/")) return if_range == etag;
  const auto date = parse_http_date(if_range);
  return date && *date == mtime;
}

}  // namespace

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string format_http_date(std::time_t when) {
  std::tm utc{};
  gmtime_r(&when, &utc);
  char text[32];
  const int n = std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                              kDays[utc.tm_wday].data(), utc.tm_mday, kMonths[utc.tm_mon].data(),
                              utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return {text, static_cast<std::size_t>(n)};
}

std::optional<std::time_t> parse_http_date(std::string_view text) noexcept {
  try {
    const auto words = split_spaces(trim_ows(text));
    int day = 0, year = 0;
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (words.size() == 6 && words[0].size() == 4 && words[0].back() == ',' && words[5] == "GMT" &&
        parse_number(words[1], day) && parse_number(words[3], year)) {
      return make_time(day, month_index(words[2]), year, words[4]);
    }
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    if (words.size() == 4 && words[0].back() == ',' && words[3] == "GMT" && words[1].size() == 9 &&
        words[1][2] == '-' && words[1][6] == '-' && parse_number(words[1].substr(0, 2), day) &&
        parse_number(words[1].substr(7, 2), year)) {
      // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
      year += year < 70 ? 2000 : 1900;
      return make_time(day, month_index(words[1].substr(3, 3)), year, words[2]);
    }
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (words.size() == 5 && parse_number(words[2], day) && parse_number(words[4], year)) {
      return make_time(day, month_index(words[1]), year, words[3]);
    }
  } catch (const std::bad_alloc&) {
  }
  return std::nullopt;
}

std::string_view describe(TargetError error) noexcept {
  switch (error) {
    case TargetError::not_a_path:
      return "the request target is not a path";
    case TargetError::bad_encoding:
      return "malformed percent-encoding in the path";
    case TargetError::nul:
      return "a NUL byte in the path";
    case TargetError::encoded_slash:
      return "an encoded slash (%2F) in the path";
    case TargetError::above_root:
      return "the path leads above the root";
  }
  return "bad path";
}

std::variant<std::string, TargetError> normalize_target(std::string_view target) {
  if (target.starts_with("http://") || target.starts_with("https://")) {
    const auto authority = target.find("//") + 2;
    const auto slash = target.find('/', authority);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (target.empty() || target.front() != '/') return TargetError::not_a_path;
  target = target.substr(0, target.find_first_of("?#"));

  std::string decoded;
  decoded.reserve(target.size());
  for (std::size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size()) return TargetError::bad_encoding;
      const int high = hex_value(target[i + 1]);
      const int low = hex_value(target[i + 2]);
      if (high < 0 || low < 0) return TargetError::bad_encoding;
      c = static_cast<char>(high * 16 + low);
      if (c == '/') return TargetError::encoded_slash;
      i += 2;
    }
    if (c == '\0') return TargetError::nul;
    decoded.push_back(c);
  }

  std::vector<std::string_view> segments;
  std::string_view rest = decoded;
  const bool directory = rest.ends_with('/');
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    if (segment == "..") {
      if (segments.empty()) return TargetError::above_root;
      segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string path;
  for (const auto segment : segments)
    path.append("/").append(segment);
  const bool dot_ending = decoded.ends_with("/.") || decoded.ends_with("/..");
  if (path.empty() || directory || dot_ending) path.push_back('/');
  return path;
}

std::string percent_encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte) || c == '/') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

RangeStatus parse_range(std::string_view header, std::uint64_t size, ByteRange& range) noexcept {
  header = trim_ows(header);
  if (!header.starts_with("bytes=")) return RangeStatus::ignored;
  const auto spec = trim_ows(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return RangeStatus::ignored;
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeStatus::ignored;
  const auto first_text = trim_ows(spec.substr(0, dash));
  const auto last_text = trim_ows(spec.substr(dash + 1));
  std::uint64_t first = 0, last = 0;
  if (first_text.empty()) {
    // "-N": the last N bytes.
    if (!parse_position(last_text, last)) return RangeStatus::ignored;
    if (last == 0 || size == 0) return RangeStatus::unsatisfiable;
    range = {size - std::min(last, size), size - 1};
    return RangeStatus::satisfiable;
  }
  if (!parse_number(first_text, first)) return RangeStatus::ignored;
  if (last_text.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!parse_position(last_text, last) || last < first) {
    return RangeStatus::ignored;
  }
  if (first >= size) return RangeStatus::unsatisfiable;
  // An end past the file, however large, means its end (RFC 9110 14.1.2).
  range = {first, std::min(last, size - 1)};
  return RangeStatus::satisfiable;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept {
  if (trim_ows(if_none_match) == "*") return true;
  bool found = false;
  for_each_element(if_none_match, [&](std::string_view tag) {
    found = found || opaque_tag(tag) == opaque_tag(etag);
    return true;
  });
  return found;
}

bool accepts_encoding(std::string_view accept_encoding, std::string_view coding) noexcept {
  // Most requests of load tools and API clients send none: no walk of an empty list.
  if (accept_encoding.empty()) return false;
  bool accepted = false;
  for_each_element(accept_encoding, [&](std::string_view item) {
    const auto semicolon = item.find(';');
    const auto name = trim_ows(item.substr(0, semicolon));
    if (!iequals(name, coding) && name != "*") return true;
    if (semicolon == std::string_view::npos) {
      accepted = true;
      return true;
    }
    auto parameter = trim_ows(item.substr(semicolon + 1));
    if (parameter.size() < 2 || lower(parameter[0]) != 'q' || parameter[1] != '=') {
      accepted = true;
      return true;
    }
    parameter.remove_prefix(2);
    // q=0, q=0.0, q=0.000: refused; anything else accepts.
    accepted = parameter.find_first_not_of("0.") != std::string_view::npos;
    return true;
  });
  return accepted;
}

MimeTypes::MimeTypes() {
  for (const auto& [extension, type] : kBuiltinTypes)
    types_.emplace(extension, type);
}

void MimeTypes::load(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line.front() == '#') continue;
    std::istringstream words(line);
    std::string type, extension;
    words >> type;
    while (words >> extension)
      types_[lowered(extension)] = type;
  }
}

std::string_view MimeTypes::lookup(std::string_view filename) const {
  const auto slash = filename.rfind('/');
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  const auto dot = filename.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return kOctetStream;
  const auto it = types_.find(lowered(filename.substr(dot + 1)));
  return it == types_.end() ? kOctetStream : std::string_view(it->second);
}

void Reply::clear() noexcept {
  status = 0;
  data.clear();
  file.reset();
  offset = 0;
  length = 0;
  body_size = 0;
  close = false;
}

StaticFiles::StaticFiles(StaticFilesOptions options) : options_(std::move(options)) {
  mime_.load(options_.mime_types);
  if (options_.root.empty()) return;
  auto root = sys::open_directory(options_.root.c_str());
  if (!root) throw_error(root.error(), "open root " + options_.root);
  root_.reset(*root);
}

void StaticFiles::start_head(int status, Reply& reply) const {
  reply.status = status;
  reply.data.append("HTTP/1.1 ");
  char digits[4];
  std::to_chars(digits, digits + 3, status);
  reply.data.append(digits, 3).append(" ").append(reason_phrase(status)).append("\r\n");
  add_header(reply.data, "Server", options_.server);
  const std::time_t now = std::time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    date_ = format_http_date(now);
  }
  add_header(reply.data, "Date", date_);
}

void StaticFiles::finish(const Request* request, Reply& reply, std::string_view body) const {
  if (request == nullptr || !request->keep_alive) reply.close = true;
  if (reply.close) {
    add_header(reply.data, "Connection", "close");
  } else if (request->version_minor == 0) {
    add_header(reply.data, "Connection", "keep-alive");
  }
  reply.data.append("\r\n");
  if (request != nullptr && request->method == "HEAD") return;
  reply.data.append(body);
  reply.body_size = body.size();
}

void StaticFiles::error(const Request* request, int status, std::string_view detail, Reply& reply,
                        const ExtraHeaders& extra) const {
  const std::string title = std::to_string(status) + " " + std::string(reason_phrase(status));
  const std::string body = "<!DOCTYPE html>\n<html><head><title>" + title +
                           "</title></head>\n<body><h1>" + title + "</h1>\n<p>" +
                           html_escape(detail) + "</p></body></html>\n";
  start_head(status, reply);
  add_header(reply.data, "Content-Type", kHtmlType);
  add_header(reply.data, "Content-Length", body.size());
  if (status == 405) add_header(reply.data, "Allow", "GET, HEAD");
  for (const auto& [name, value] : extra)
    add_header(reply.data, name, value);
  finish(request, reply, body);
}

void StaticFiles::respond_error(int status, std::string_view detail, Reply& reply,
                                const ExtraHeaders& extra) const {
  reply.clear();
  error(nullptr, status, detail, reply, extra);
}

void StaticFiles::respond_page(const Request& request, std::string_view html, Reply& reply,
                               const ExtraHeaders& extra) const {
  reply.clear();
  start_head(200, reply);
  add_header(reply.data, "Content-Type", kHtmlType);
  add_header(reply.data, "Content-Length", html.size());
  for (const auto& [name, value] : extra)
    add_header(reply.data, name, value);
  finish(&request, reply, html);
}

void StaticFiles::respond(const Request& request, Reply& reply) const {
  reply.clear();
  if (!is_get_or_head(request.method)) {
    const bool known = is_known_method(request.method);
    error(&request, known ? 405 : 501,
          "this server serves files: " + std::string(request.method) +
              (known ? " is not allowed here" : " is not a method it implements"),
          reply);
    return;
  }
  auto path = normalize_target(request.target);
  if (const auto* failure = std::get_if<TargetError>(&path)) {
    reply.close = true;
    error(&request, 400, describe(*failure), reply);
    return;
  }
  const auto& file_path = std::get<std::string>(path);
  if (!root_) {
    if (file_path == "/" || file_path == "/index.html") {
      respond_page(request, page_, reply);
    } else {
      error(&request, 404, "no such page here: this server has no --root", reply);
    }
    return;
  }
  respond_file(request, file_path, reply);
}

void StaticFiles::respond_file(const Request& request, const std::string& path,
                               Reply& reply) const {
  const bool gzip = accepts_encoding(request.header("Accept-Encoding"), "gzip");
  if (const CachedFile* cached = cached_file(path, gzip)) {
    send(request, *cached, cached->content, Fd(), reply);
    return;
  }
  const std::string relative = path == "/" ? std::string(".") : path.substr(1);
  Fd file;
  struct stat st {};
  if (const int status = open_file(relative, file, st)) {
    error(&request, status, "cannot serve " + path, reply);
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    if (!path.ends_with('/')) {
      redirect_to_directory(request, path, reply);
      return;
    }
    Fd index;
    struct stat index_st {};
    const std::string index_relative = path == "/" ? "index.html" : relative + "index.html";
    if (open_file(index_relative, index, index_st) == 0 && S_ISREG(index_st.st_mode)) {
      send_file(request, path, index_relative, gzip, std::move(index), index_st, reply);
    } else if (options_.list_directories) {
      list_directory(request, path, file, reply);
    } else {
      error(&request, 403, "directory listing is off", reply);
    }
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    error(&request, 403, path + " is not a regular file", reply);
    return;
  }
  send_file(request, path, relative, gzip, std::move(file), st, reply);
}

int StaticFiles::open_file(const std::string& relative, Fd& file, struct stat& st) const {
  auto opened = sys::open_below(root_.get(), relative.c_str(), !options_.follow_symlinks);
  if (!opened) return open_failure_status(opened.error());
  file.reset(*opened);
  return sys::fstat(file.get(), st) ? 500 : 0;
}

void StaticFiles::redirect_to_directory(const Request& request, const std::string& path,
                                        Reply& reply) const {
  // Relative links in the directory's page resolve against it only with the final slash.
  const auto query = request.target.find('?');
  std::string location = percent_encode_path(path) + "/";
  if (query != std::string_view::npos) location.append(request.target.substr(query));
  start_head(301, reply);
  add_header(reply.data, "Location", location);
  add_header(reply.data, "Content-Length", std::uint64_t{0});
  finish(&request, reply);
}

void StaticFiles::send_file(const Request& request, const std::string& path,
                            const std::string& relative, bool gzip, Fd file,
                            const struct stat& original, Reply& reply) const {
  struct stat st = original;
  Representation file_rep;
  file_rep.gzipped = gzip && use_gzip_sibling(relative, file, st);
  file_rep.media_type = mime_.lookup(relative);
  file_rep.size = static_cast<std::uint64_t>(st.st_size);
  file_rep.mtime = st.st_mtim.tv_sec;
  file_rep.etag = make_etag(st);
  if (options_.cache_valid.count() > 0 && file_rep.size <= options_.inline_limit) {
    if (const CachedFile* cached = cache_file(path, gzip, std::move(file_rep), file)) {
      send(request, *cached, cached->content, Fd(), reply);
    } else {
      error(&request, 500, "reading the file failed", reply);
    }
    return;
  }
  send(request, file_rep, {}, std::move(file), reply);
}

void StaticFiles::send(const Request& request, const Representation& file_rep,
                       std::string_view content, Fd file, Reply& reply) const {
  int status = 200;
  const auto if_none_match = request.header("If-None-Match");
  if (!if_none_match.empty()) {
    if (etag_matches(if_none_match, file_rep.etag)) status = 304;
  } else if (const auto since = parse_http_date(request.header("If-Modified-Since"))) {
    // A date in the future is wrong, not a validator (nginx ignores it too).
    if (file_rep.mtime <= *since && *since <= std::time(nullptr)) status = 304;
  }
  ByteRange range;
  RangeStatus ranged = RangeStatus::ignored;
  if (status == 200 && if_range_allows(request.header("If-Range"), file_rep.etag, file_rep.mtime)) {
    ranged = parse_range(request.header("Range"), file_rep.size, range);
  }
  if (ranged == RangeStatus::unsatisfiable) {
    error(&request, 416, "the range lies beyond the end of the file", reply,
          {{"Content-Range", "bytes */" + std::to_string(file_rep.size)}});
    return;
  }
  if (ranged == RangeStatus::satisfiable) status = 206;

  start_head(status, reply);
  add_header(reply.data, "Content-Type", file_rep.media_type);
  if (status != 304) {
    reply.offset = status == 206 ? range.first : 0;
    reply.length = status == 206 ? range.last - range.first + 1 : file_rep.size;
    add_header(reply.data, "Content-Length", reply.length);
  }
  if (status == 206) {
    add_header(reply.data, "Content-Range",
               "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                   std::to_string(file_rep.size));
  }
  add_header(reply.data, "Last-Modified", format_http_date(file_rep.mtime));
  add_header(reply.data, "ETag", file_rep.etag);
  add_header(reply.data, "Accept-Ranges", "bytes");
  if (file_rep.gzipped) {
    add_header(reply.data, "Content-Encoding", "gzip");
    add_header(reply.data, "Vary", "Accept-Encoding");
  }
  finish(&request, reply);
  if (status == 304 || request.method == "HEAD" || reply.length == 0) {
    reply.length = 0;
    return;
  }
  reply.body_size = reply.length;
  if (!file) {
    reply.data.append(content.substr(reply.offset, reply.length));
    reply.length = 0;
  } else if (reply.length > options_.inline_limit) {
    reply.file = std::move(file);
  } else if (!read_inline(file, reply)) {
    reply.clear();
    error(&request, 500, "reading the file failed", reply);
  }
}

const StaticFiles::CachedFile* StaticFiles::cached_file(const std::string& path, bool gzip) const {
  return cached(path, gzip ? kGzipVariant : "");
}

const StaticFiles::CachedFile* StaticFiles::cached(const std::string& path,
                                                   std::string_view variant) const {
  if (options_.cache_valid.count() <= 0) return nullptr;
  cache_key_.assign(path).append(variant);
  const auto it = cache_.find(cache_key_);
  if (it == cache_.end()) return nullptr;
  if (std::chrono::steady_clock::now() - it->second.checked >= options_.cache_valid) {
    cache_bytes_ -= it->second.content.size();
    cache_.erase(it);
    return nullptr;
  }
  return &it->second;
}

const StaticFiles::CachedFile* StaticFiles::cache_file(const std::string& path, bool gzip,
                                                       Representation file_rep,
                                                       const Fd& file) const {
  CachedFile entry;
  static_cast<Representation&>(entry) = std::move(file_rep);
  entry.content.resize(static_cast<std::size_t>(entry.size));
  for (std::size_t got = 0; got < entry.content.size();) {
    auto n = sys::pread(file.get(), entry.content.data() + got, entry.content.size() - got, got);
    if (!n || *n == 0) return nullptr;  // an error, or the file shrank since its fstat
    got += *n;
  }
  return store(path, gzip ? kGzipVariant : "", std::move(entry));
}

const StaticFiles::CachedFile* StaticFiles::store(const std::string& path, std::string_view variant,
                                                  CachedFile entry) const {
  entry.checked = std::chrono::steady_clock::now();
  // A bound on memory: a full cache starts over.
  if (cache_.size() >= kCacheEntries || cache_bytes_ + entry.content.size() > kCacheBytes) {
    cache_.clear();
    cache_bytes_ = 0;
  }
  std::string key = path;
  key.append(variant);
  CachedFile& slot = cache_[std::move(key)];
  cache_bytes_ -= slot.content.size();
  cache_bytes_ += entry.content.size();
  slot = std::move(entry);
  return &slot;
}

bool StaticFiles::read_inline(Fd& file, Reply& reply) const {
  const std::size_t start = reply.data.size();
  const auto length = static_cast<std::size_t>(reply.length);
  reply.data.resize(start + length);
  for (std::size_t got = 0; got < length;) {
    auto n =
        sys::pread(file.get(), reply.data.data() + start + got, length - got, reply.offset + got);
    if (!n || *n == 0) return false;  // an error, or the file shrank since its fstat
    got += *n;
  }
  reply.length = 0;
  return true;
}

bool StaticFiles::use_gzip_sibling(const std::string& relative, Fd& file, struct stat& st) const {
  Fd sibling;
  struct stat sibling_st {};
  if (open_file(relative + ".gz", sibling, sibling_st) != 0 || !S_ISREG(sibling_st.st_mode)) {
    return false;
  }
  file = std::move(sibling);
  st = sibling_st;
  return true;
}

void StaticFiles::list_directory(const Request& request, const std::string& path,
                                 const Fd& directory, Reply& reply) const {
  const CachedFile* listing = cached(path, kListingVariant);
  if (listing == nullptr) {
    auto page = render_listing(path, directory);
    if (!page) {
      error(&request, open_failure_status(page.error()), "cannot list " + path, reply);
      return;
    }
    CachedFile entry;
    entry.content = std::move(*page);
    if (options_.cache_valid.count() <= 0) {
      send_listing(request, entry.content, reply);
      return;
    }
    listing = store(path, kListingVariant, std::move(entry));
  }
  send_listing(request, listing->content, reply);
}

void StaticFiles::send_listing(const Request& request, std::string_view page, Reply& reply) const {
  start_head(200, reply);
  add_header(reply.data, "Content-Type", kHtmlType);
  add_header(reply.data, "Content-Length", page.size());
  finish(&request, reply, page);
}

Result<std::string> StaticFiles::render_listing(const std::string& path,
                                                const Fd& directory) const {
  auto names = sys::list_directory(directory.get());
  if (!names) return names.error();
  std::sort(names->begin(), names->end());
  const std::string title = "Index of " + html_escape(path);
  std::string page = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
                     "</title></head>\n<body><h1>" + title + "</h1>\n<table>\n";
  if (path != "/") page += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  std::size_t shown_count = 0;
  for (const auto& name : *names) {
    if (page.size() >= kListingBytes) break;
    ++shown_count;
    // A symlink's own entry: the size and date of its target may lie outside the root.
    struct stat st {};
    if (sys::fstatat(directory.get(), name.c_str(), st, options_.follow_symlinks)) continue;
    const bool is_dir = S_ISDIR(st.st_mode);
    const bool is_link = S_ISLNK(st.st_mode);
    const std::string shown = name + (is_dir ? "/" : "");
    page += "<tr><td><a href=\"" + html_escape(percent_encode_path(shown)) + "\">" +
            html_escape(shown) + "</a></td><td>" +
            (is_link ? std::string("-") : format_http_date(st.st_mtim.tv_sec)) + "</td><td>" +
            (is_dir || is_link ? std::string("-") : std::to_string(st.st_size)) + "</td></tr>\n";
  }
  page += "</table>\n";
  if (shown_count < names->size()) {
    page += "<p>Listing truncated: " + std::to_string(shown_count) + " of " +
            std::to_string(names->size()) + " entries shown.</p>\n";
  }
  page += "</body></html>\n";
  return page;
}

}  // namespace sockit::http
