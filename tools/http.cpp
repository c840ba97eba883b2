// sockit http: a curl-like HTTP/1.1 client. Bodies go to stdout (or -o FILE) as they arrive;
// -v shows the exchange on stderr as curl does ("> " sent, "< " received, "* " notes).
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "command.hpp"
#include "common.hpp"
#include "sockit/http/client.hpp"
#include "sockit/io.hpp"

namespace sockit::tools {
namespace {

using http::ResponseHead;

constexpr int kStdout = 1;
constexpr int kStderr = 2;
// curl's exit codes for an HTTP error under --fail and for a failed write of the output.
constexpr int kExitHttpError = 22;
constexpr int kExitWriteError = 23;
// Bodies below this size finish too fast for a progress bar to be worth drawing.
constexpr std::uint64_t kProgressThreshold = 1024 * 1024;

struct HttpOptions {
  std::vector<std::string> args;  // [METHOD] URL...
  std::string method;
  bool head = false;
  bool include = false;
  bool verbose = false;
  bool silent = false;
  std::optional<std::string> data;
  std::string data_file;
  std::vector<std::string> headers;
  bool follow = false;
  int max_redirs = 50;
  std::string output;
  std::string timeout = "30s";
  bool timing = false;
  bool fail = false;
  std::string cacert;
  bool insecure = false;
  std::string cert;
  std::string key;
  std::string pass;
  std::vector<std::string> resolve;
  std::string unix_socket;
};

// Writing the output failed: curl's exit 23, and no further URL is fetched.
class WriteError final : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string errno_text() {
  return std::make_error_code(static_cast<std::errc>(errno)).message();
}

// Where bodies (and -i heads) go: stdout, or the file of -o. The file is written under a
// temporary name in its directory, created when the first byte comes, and renamed over FILE
// only when every URL succeeded, so a refused, reset or failed transfer leaves an existing
// FILE as it was and a half-written one is never presented as complete.
class Output {
 public:
  explicit Output(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    const std::filesystem::path target(path_);
    temporary_ = (target.parent_path() / ("." + target.filename().string() + ".sockit-" +
                                          std::to_string(std::random_device{}())))
                     .string();
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output() { discard(); }

  void write(std::string_view data) {
    if (path_.empty()) {
      if (auto written = write_all(kStdout, data); !written) {
        throw WriteError("write to stdout: " + written.error().message());
      }
      return;
    }
    open();
    if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
      throw WriteError("write to " + path_ + ": " + errno_text());
    }
  }

  // Puts what was written in place: FILE replaced by the temporary file.
  void commit() {
    if (path_.empty()) return;
    open();
    std::string failure;
    if (std::fclose(std::exchange(file_, nullptr)) != 0) {
      failure = "write to " + path_ + ": " + errno_text();
    } else if (std::error_code error; std::filesystem::rename(temporary_, path_, error), error) {
      failure = "rename to " + path_ + ": " + error.message();
    }
    if (failure.empty()) return;
    std::error_code ignored;
    std::filesystem::remove(temporary_, ignored);
    throw WriteError(failure);
  }

  // Forgets what was written; FILE stays as it was.
  void discard() noexcept {
    if (file_ == nullptr) return;
    std::fclose(std::exchange(file_, nullptr));
    std::error_code ignored;
    std::filesystem::remove(temporary_, ignored);
  }

 private:
  void open() {
    if (file_ != nullptr) return;
    // "x": never through a name that already exists (a link planted in the directory).
    file_ = std::fopen(temporary_.c_str(), "wbx");
    if (file_ == nullptr) {
      throw WriteError("cannot write " + path_ + " (as " + temporary_ + "): " + errno_text());
    }
  }

  std::string path_;
  std::string temporary_;
  FILE* file_ = nullptr;
};

std::string mebibytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

// A one-line progress display on a terminal's stderr, for bodies large enough to wait for.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}

  void start() {
    received_ = 0;
    start_ = last_ = std::chrono::steady_clock::now();
  }

  void update(std::uint64_t bytes, std::optional<std::uint64_t> expected) {
    received_ += bytes;
    if (!enabled_) return;
    if (received_ < kProgressThreshold && expected.value_or(0) < kProgressThreshold) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(200) && received_ != expected) return;
    last_ = now;
    shown_ = true;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double received = static_cast<double>(received_);
    const auto rate = static_cast<std::uint64_t>(elapsed > 0 ? received / elapsed : 0);
    std::string line = "\r";
    if (expected && *expected > 0) {
      line += std::to_string(received_ * 100 / *expected) + "%  " + mebibytes(received_) + " / " +
              mebibytes(*expected);
    } else {
      line += mebibytes(received_);
    }
    line += "  " + mebibytes(rate) + "/s   ";
    static_cast<void>(write_all(kStderr, line));
  }

  void finish() {
    if (shown_) static_cast<void>(write_all(kStderr, "\n"));
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::uint64_t received_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

// Writes each line of head (CRLF-separated) with prefix on stderr, as curl -v does.
void print_lines(std::string_view prefix, std::string_view head) {
  std::string text;
  while (!head.empty()) {
    const auto end = head.find("\r\n");
    text.append(prefix).append(head.substr(0, end)).push_back('\n');
    head = end == std::string_view::npos ? std::string_view{} : head.substr(end + 2);
  }
  static_cast<void>(write_all(kStderr, text));
}

// The tool's view of an exchange: -v lines, -i/-I heads, bodies, progress.
class Printer final : public http::Events {
 public:
  Printer(const HttpOptions& options, Output& output)
      : options_(options),
        output_(output),
        progress_(!options.silent && !options.verbose && is_terminal(kStderr)) {}

  void note(std::string_view text) override {
    if (options_.verbose) static_cast<void>(write_all(kStderr, "* " + std::string(text) + "\n"));
  }

  void request_sent(std::string_view head) override {
    if (options_.verbose) print_lines("> ", head);
  }

  void response_head(const ResponseHead& head) override {
    if (options_.verbose) print_lines("< ", head.raw);
    // Bodies of redirects being followed and of failures under --fail are not shown.
    const bool failed = options_.fail && head.status >= 400;
    const bool followed =
        options_.follow && http::is_redirect(head.status) && !head.header("Location").empty();
    show_body_ = !failed && !followed && !options_.head;
    if (!failed && (options_.include || options_.head)) output_.write(head.raw);
    progress_.start();
  }

  void body(std::string_view data, std::optional<std::uint64_t> expected) override {
    if (!show_body_) return;
    output_.write(data);
    progress_.update(data.size(), expected);
  }

  void finish() { progress_.finish(); }

 private:
  const HttpOptions& options_;
  Output& output_;
  Progress progress_;
  bool show_body_ = true;
};

void print_timing(const http::Timing& timing) {
  char text[256];
  std::snprintf(text, sizeof text,
                "   resolve  %.6f s\n   connect  %.6f s\n       tls  %.6f s\n"
                "first byte  %.6f s\n     total  %.6f s\n",
                timing.resolve, timing.connect, timing.tls, timing.first_byte, timing.total);
  static_cast<void>(write_all(kStderr, text));
}

bool is_method(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
  });
}

std::optional<std::string> request_body(const HttpOptions& options) {
  if (options.data) return options.data;
  if (options.data_file.empty()) return std::nullopt;
  std::ifstream file(options.data_file, std::ios::binary);
  if (!file) throw std::invalid_argument("cannot read --data-file " + options.data_file);
  std::string body;
  std::vector<char> chunk(64 * 1024);
  while (file.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || file.gcount() > 0) {
    body.append(chunk.data(), static_cast<std::size_t>(file.gcount()));
  }
  return body;
}

// The request and the options shared by every URL of the command line.
struct Plan {
  std::string method;
  std::vector<std::string> urls;
  std::vector<http::HeaderChange> changes;
  std::optional<std::string> body;
};

Plan plan(const HttpOptions& options) {
  Plan plan;
  auto first = options.args.begin();
  if (options.args.size() >= 2 && is_method(options.args.front())) plan.method = *first++;
  if (!options.method.empty()) {
    if (!plan.method.empty()) throw std::invalid_argument("METHOD given twice (and -X)");
    plan.method = options.method;
  }
  if (!is_method(plan.method) && !plan.method.empty()) {
    throw std::invalid_argument("not a method: '" + plan.method + "' (use upper case)");
  }
  plan.urls.assign(first, options.args.end());
  plan.body = request_body(options);
  if (options.head && plan.body) throw std::invalid_argument("-I sends no body (drop -d)");
  if (plan.method.empty()) plan.method = options.head ? "HEAD" : plan.body ? "POST" : "GET";
  for (const auto& line : options.headers)
    plan.changes.push_back(http::parse_header_change(line));
  return plan;
}

http::ClientOptions client_options(const HttpOptions& options) {
  http::ClientOptions client;
  const Duration timeout = parse_duration(options.timeout);
  if (timeout.count() > 0) client.timeout = timeout;
  client.tls.cafile = options.cacert;
  client.tls.verify = !options.insecure;
  client.tls.certfile = options.cert;
  client.tls.keyfile = options.key;
  client.tls.key_password = options.pass;
  for (const auto& text : options.resolve)
    client.resolve.push_back(http::parse_resolve_override(text));
  client.unix_socket = options.unix_socket;
  return client;
}

// Fetches one URL of the command line, following redirects under -L; the exit code.
int fetch(http::Client& client, Printer& printer, const HttpOptions& options, const Plan& plan,
          const std::string& text) {
  auto url = http::Url::parse(text);
  if (!url) throw_error(url.error(), "URL '" + text + "'");
  http::ClientRequest request{plan.method, std::move(*url), plan.changes, plan.body};
  for (int redirects = 0;; ++redirects) {
    http::Timing timing;
    const ResponseHead head = client.exchange(request, timing);
    printer.finish();
    if (options.timing) print_timing(timing);
    if (options.fail && head.status >= 400) {
      print_error("http", "the requested URL returned error: " + std::to_string(head.status) + " " +
                              head.reason);
      return kExitHttpError;
    }
    if (!options.follow) return 0;
    auto next = http::redirect(request, head);
    if (!next) return 0;
    if (redirects == options.max_redirs) {
      throw std::runtime_error("maximum (" + std::to_string(options.max_redirs) +
                               ") redirects followed");
    }
    printer.note("Following the redirect to " + next->url.to_string());
    request = std::move(*next);
  }
}

int run_http(const HttpOptions& options) {
  const Plan requests = plan(options);
  if (requests.urls.empty()) throw std::invalid_argument("no URL given");
  http::ClientOptions settings = client_options(options);
  Output output(options.output);
  Printer printer(options, output);
  http::Client client(std::move(settings), printer);
  int status = 0;
  // As curl does, a failed URL does not stop the next ones; the last failure is the exit code.
  try {
    for (const auto& url : requests.urls) {
      try {
        if (const int code = fetch(client, printer, options, requests, url)) status = code;
      } catch (const std::invalid_argument&) {
        throw;
      } catch (const WriteError&) {
        throw;
      } catch (const std::exception& e) {
        printer.finish();
        print_error("http", e.what());
        status = 1;
      }
    }
    if (status == 0) output.commit();
  } catch (const WriteError& e) {
    printer.finish();
    print_error("http", e.what());
    return kExitWriteError;
  }
  return status;
}

}  // namespace

Run setup_http(CLI::App& app) {
  auto options = std::make_shared<HttpOptions>();
  app.add_option("args", options->args, "[METHOD] URL...: http:// or https:// URLs")->required();
  app.add_option("-X,--request", options->method, "Request method (default GET, POST with -d)");
  app.add_flag("-I,--head", options->head, "Send HEAD and print the response head");
  app.add_flag("-i,--include", options->include, "Print the response head before the body");
  app.add_flag("-v,--verbose", options->verbose,
               "Show the exchange on stderr: > sent, < received, * notes");
  app.add_flag("-s,--silent", options->silent, "No progress bar");
  auto* data = app.add_option("-d,--data", options->data, "Send this request body");
  app.add_option("--data-file", options->data_file, "Send this file's bytes as the body")
      ->excludes(data);
  app.add_option("-H,--header", options->headers,
                 "Extra header 'Name: value'; replaces a default of that name, 'Name:' removes "
                 "it");
  app.add_flag("-L,--location", options->follow, "Follow redirects");
  app.add_option("--max-redirs", options->max_redirs, "Most redirects followed with -L")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("-o,--output", options->output,
                 "Write the body to FILE instead of stdout, through a temporary file in its "
                 "directory: FILE is replaced only when every URL succeeded, else left as it "
                 "was");
  app.add_option("--timeout", options->timeout,
                 "Bound each connect, TLS handshake and wait for the server (0: none)")
      ->check(duration_validator())
      ->capture_default_str();
  app.add_flag("-w,--timing", options->timing,
               "Print the time to resolve, connect, TLS, first byte and total on stderr");
  app.add_flag("-f,--fail", options->fail, "Exit 22 without the body when the status is >= 400");
  app.add_option("--cacert", options->cacert, "Trust the CA certificates in this PEM file")
      ->check(CLI::ExistingFile);
  app.add_flag("-k,--insecure", options->insecure,
               "Accept any certificate and host name (no verification)");
  auto* cert = app.add_option("-E,--cert", options->cert,
                              "Client certificate (PEM) for servers that ask for one (mutual TLS)")
                   ->check(CLI::ExistingFile);
  app.add_option("--key", options->key, "The client certificate's key (default: in --cert)")
      ->check(CLI::ExistingFile)
      ->needs(cert);
  app.add_option("--pass", options->pass, "Password of an encrypted --key")->needs(cert);
  app.add_option("--resolve", options->resolve,
                 "HOST:PORT:ADDRESS: connect to ADDRESS for HOST:PORT instead of resolving");
  app.add_option("--unix-socket", options->unix_socket, "Connect to this Unix socket instead");
  app.footer(
      "Examples:\n  sockit http http://127.0.0.1:8000/\n"
      "  sockit http -v -L https://localhost:8443/ --cacert ca.pem\n"
      "  sockit http PUT http://127.0.0.1:8000/x -d 'hello' -H 'Content-Type: text/plain'\n"
      "  sockit http -o big.bin -w http://[::1]:8080/big.bin");
  return [options] { return run_http(*options); };
}

}  // namespace sockit::tools
