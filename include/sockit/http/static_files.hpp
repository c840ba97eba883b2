// Serving a directory over HTTP: what a GET or HEAD of a path answers, decided without any
// socket, so that it can be tested on its own and any server loop can send it.
//
//   StaticFiles site({.root = "/srv/www"});
//   Reply reply;
//   site.respond(request, reply);   // request from http::RequestParser
//   send(reply.data); then, when reply.file is open, its bytes [offset, offset + length)
//
// The root is opened once; every path is resolved below it by the kernel (openat2 with
// RESOLVE_BENEATH), so no spelling of a path and no symlink can lead outside it unless
// follow_symlinks allows symlinks to.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "sockit/error.hpp"
#include "sockit/fd.hpp"
#include "sockit/http/parser.hpp"

namespace sockit::http {

// The standard reason phrase of a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status) noexcept;

// IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::time_t when);
// IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept.
std::optional<std::time_t> parse_http_date(std::string_view text) noexcept;

// Why a request target names no file below the root.
enum class TargetError : std::uint8_t {
  not_a_path,     // not origin form ("/..."), nor absolute form with one
  bad_encoding,   // a '%' not followed by two hex digits
  nul,            // a NUL byte, raw or encoded
  encoded_slash,  // %2F: a slash that is not a separator
  above_root,     // ".." past the root
};
std::string_view describe(TargetError error) noexcept;

// The file path a request target names: percent-decoded, query and fragment removed, "."
// and ".." segments and repeated slashes resolved. It starts with '/' and keeps a final '/'.
// Absolute-form targets ("http://host/path") give their path.
std::variant<std::string, TargetError> normalize_target(std::string_view target);

// Percent-encodes what may not appear raw in a URL path (keeps '/' and unreserved bytes).
std::string percent_encode_path(std::string_view path);
// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(std::string_view text);

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};
enum class RangeStatus : std::uint8_t {
  ignored,        // no Range, a unit other than bytes, several ranges, or malformed: send all
  satisfiable,    // send the one range: 206
  unsatisfiable,  // no byte of it exists: 416
};
// A Range header value against a representation of size bytes (RFC 9110 14.2).
RangeStatus parse_range(std::string_view header, std::uint64_t size, ByteRange& range) noexcept;

// Whether an If-None-Match value ("*" or a list of entity tags) matches etag, by the weak
// comparison RFC 9110 13.1.2 prescribes for it.
bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept;

// Whether an Accept-Encoding value accepts the coding (its q-value is not 0).
bool accepts_encoding(std::string_view accept_encoding, std::string_view coding) noexcept;

// File name extensions to media types, from /etc/mime.types when it exists, on top of a
// built-in table of the common web types.
class MimeTypes {
 public:
  MimeTypes();
  // Adds the mappings of a mime.types file (lines "type ext ext..."); a missing file adds none.
  void load(const std::string& path);
  // The media type of a file name ("index.html" -> "text/html"), by its last extension, or
  // application/octet-stream.
  std::string_view lookup(std::string_view filename) const;

 private:
  std::unordered_map<std::string, std::string> types_;
};

// One reply, ready to send: data, then length bytes of file from offset when file is open.
// Small bodies are in data already, so that one send carries the whole reply.
struct Reply {
  int status = 0;
  std::string data;  // the status line, the headers, the blank line and an in-memory body
  Fd file;           // a body too large to copy, sent from the file
  std::uint64_t offset = 0;
  std::uint64_t length = 0;     // of the file body
  std::uint64_t body_size = 0;  // bytes of body the reply carries (for the access log)
  bool close = false;           // the connection ends after this reply
  void clear() noexcept;
};

struct StaticFilesOptions {
  std::string root;
  bool follow_symlinks = false;  // symlinks may lead outside the root
  bool list_directories = true;
  // Files up to this size are read into Reply::data; larger ones are left to sendfile.
  std::uint64_t inline_limit = 16 * 1024;
  // How long the bytes and validators of a small file are served from memory before the file
  // is looked at again (nginx's open_file_cache_valid); zero turns the cache off.
  std::chrono::milliseconds cache_valid{1000};
  std::string server = "sockit/0.1.0";
  std::string mime_types = "/etc/mime.types";
};

// Not thread-safe (its cache and Date header are unsynchronized): one instance per loop.
class StaticFiles {
 public:
  // Opens the root; throws sockit::Error when it is not a readable directory.
  explicit StaticFiles(StaticFilesOptions options);

  // The reply to a parsed GET or HEAD request (other methods get 405 or 501). keep_alive is
  // the request's, and reply.close says whether the connection must end.
  void respond(const Request& request, Reply& reply) const;
  // Header fields a reply carries beyond those the static files add (name, value).
  using ExtraHeaders = std::initializer_list<std::pair<std::string_view, std::string>>;

  // A reply with an HTML page of its own (the built-in page when there is no root).
  void respond_page(const Request& request, std::string_view html, Reply& reply,
                    const ExtraHeaders& extra = {}) const;
  // An error reply, such as a parser's 400, 414 or 431: always closes the connection.
  void respond_error(int status, std::string_view detail, Reply& reply,
                     const ExtraHeaders& extra = {}) const;

  // The page served at "/" when there is no root.
  void set_page(std::string html) { page_ = std::move(html); }
  const StaticFilesOptions& options() const noexcept { return options_; }

 private:
  void respond_file(const Request& request, const std::string& path, Reply& reply) const;
  // 0, or the status that answers the failure to open relative.
  int open_file(const std::string& relative, Fd& file, struct stat& st) const;
  void redirect_to_directory(const Request& request, const std::string& path, Reply& reply) const;
  // The validators of a file and how it is sent.
  struct Representation {
    std::string_view media_type;
    std::uint64_t size = 0;
    std::time_t mtime = 0;
    std::string etag;
    bool gzipped = false;  // the .gz sibling stands in for the file
  };
  struct CachedFile : Representation {
    std::string content;
    std::chrono::steady_clock::time_point checked;
  };
  static constexpr std::size_t kCacheEntries = 256;
  // What the cache may hold in all, and a listing in all (cached or waiting to be sent):
  // beyond it a listing ends with a notice, so that unread listings cannot pile up memory.
  static constexpr std::size_t kCacheBytes = 32 * 1024 * 1024;
  static constexpr std::size_t kListingBytes = 1024 * 1024;

  void send_file(const Request& request, const std::string& path, const std::string& relative,
                 bool gzip, Fd file, const struct stat& original, Reply& reply) const;
  // The reply for file_rep, whose bytes are content, or file's when it is open.
  void send(const Request& request, const Representation& file_rep, std::string_view content,
            Fd file, Reply& reply) const;
  // The cached file for a path and gzip acceptance, if it is still valid.
  const CachedFile* cached_file(const std::string& path, bool gzip) const;
  // The cache entry of path's variant ("", gzip, listing), if it is still valid.
  const CachedFile* cached(const std::string& path, std::string_view variant) const;
  const CachedFile* store(const std::string& path, std::string_view variant,
                          CachedFile entry) const;
  // Reads file whole into the cache; nullptr when it cannot be read.
  const CachedFile* cache_file(const std::string& path, bool gzip, Representation file_rep,
                               const Fd& file) const;
  // Swaps in relative's precompressed .gz sibling when there is one.
  bool use_gzip_sibling(const std::string& relative, Fd& file, struct stat& st) const;
  void list_directory(const Request& request, const std::string& path, const Fd& directory,
                      Reply& reply) const;
  void send_listing(const Request& request, std::string_view page, Reply& reply) const;
  // The HTML listing of directory, at most kListingBytes; an error code when unreadable.
  Result<std::string> render_listing(const std::string& path, const Fd& directory) const;
  // Reads a small file body into reply.data; false if the file could not be read whole.
  bool read_inline(Fd& file, Reply& reply) const;
  void start_head(int status, Reply& reply) const;
  // Ends the head and appends body, which HEAD requests (and 304 replies) go without.
  void finish(const Request* request, Reply& reply, std::string_view body = {}) const;
  void error(const Request* request, int status, std::string_view detail, Reply& reply,
             const ExtraHeaders& extra = {}) const;

  StaticFilesOptions options_;
  Fd root_;
  MimeTypes mime_;
  std::string page_;
  // The Date header's text, formatted once a second rather than once a reply.
  mutable std::time_t date_second_ = 0;
  mutable std::string date_;
  mutable std::unordered_map<std::string, CachedFile> cache_;
  mutable std::size_t cache_bytes_ = 0;  // the contents the cache holds
  mutable std::string cache_key_;        // reused, so a lookup allocates nothing
};

}  // namespace sockit::http
