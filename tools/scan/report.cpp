#include "scan/report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>

#include "sockit/http/static_files.hpp"
#include "sockit/version.hpp"

namespace sockit::tools::scan {
namespace {

std::string address_type(const Host& host) {
  return host.address.family() == Family::inet6 ? "ipv6" : "ipv4";
}

std::string host_label(const Host& host) {
  const std::string ip = host.address.host();
  return host.name.empty() ? ip : host.name + " (" + ip + ")";
}

std::string service_name(const ReportContext& context, std::uint16_t port) {
  const auto name = context.services.name(port);
  return name.empty() ? "unknown" : std::string(name);
}

std::string latency_text(const PortResult& result) {
  return result.latency_ms > 0 ? fmt::format("{:.2f}ms", result.latency_ms) : "-";
}

std::string date_text(std::time_t when) {
  std::tm local{};
  localtime_r(&when, &local);
  char text[64];
  std::strftime(text, sizeof text, "%a %b %d %H:%M:%S %Y", &local);
  return text;
}

// The results of each host: [begin, end) ranges of report.results, indexed by host.
std::vector<std::pair<std::size_t, std::size_t>> per_host(const ReportContext& context) {
  std::vector<std::pair<std::size_t, std::size_t>> ranges(context.hosts.size());
  const auto& results = context.report.results;
  for (std::size_t i = 0; i < results.size();) {
    std::size_t end = i;
    while (end < results.size() && results[end].host == results[i].host)
      ++end;
    ranges[results[i].host] = {i, end};
    i = end;
  }
  return ranges;
}

// "998 closed, 1 filtered": the states a host's listing leaves out.
std::string not_shown(const ReportContext& context, const Counts& counts) {
  if (context.show_closed) return "";
  std::string text;
  if (counts.closed > 0) text += fmt::format("{} closed", counts.closed);
  if (counts.filtered > 0) {
    text += fmt::format("{}{} filtered", text.empty() ? "" : ", ", counts.filtered);
  }
  return text;
}

}  // namespace

std::string summary_line(const ReportContext& context) {
  const ScanReport& report = context.report;
  const double seconds = report.elapsed.count();
  const std::uint64_t done = report.counts.total();
  const std::string scanned =
      report.interrupted
          ? fmt::format("interrupted: scanned {} of {} ports", done, report.planned)
          : fmt::format("scanned {} host{}, {} port{}", context.hosts.size(),
                        context.hosts.size() == 1 ? "" : "s", done, done == 1 ? "" : "s");
  return fmt::format("{} in {:.2f} s ({:.0f} ports/s): {} open, {} closed, {} filtered", scanned,
                     seconds, seconds > 0 ? static_cast<double>(done) / seconds : 0.0,
                     report.counts.open, report.counts.closed, report.counts.filtered);
}

void write_table(std::ostream& out, const ReportContext& context) {
  const auto ranges = per_host(context);
  for (std::size_t h = 0; h < context.hosts.size(); ++h) {
    const Host& host = context.hosts[h];
    const Counts& counts = context.report.host_counts[h];
    const auto [begin, end] = ranges[h];
    out << "sockit scan report for " << host_label(host) << '\n';
    const std::string hidden = not_shown(context, counts);
    if (begin == end) {
      out << "All " << counts.total() << " scanned ports on " << host_label(host)
          << " are in ignored states (" << hidden << ")\n\n";
      continue;
    }
    if (!hidden.empty()) out << "Not shown: " << hidden << '\n';
    out << fmt::format("{:<11} {:<8} {:<15} {:<16} {:>9}{}\n", "PORT", "STATE", "SERVICE", "REASON",
                       "LATENCY", context.banner ? "  BANNER" : "");
    for (std::size_t i = begin; i < end; ++i) {
      const PortResult& r = context.report.results[i];
      out << fmt::format("{:<11} {:<8} {:<15} {:<16} {:>9}", fmt::format("{}/tcp", r.port),
                         to_string(r.state), service_name(context, r.port), to_string(r.reason),
                         latency_text(r));
      if (context.banner && !r.banner.empty()) out << "  " << r.banner;
      out << '\n';
    }
    out << '\n';
  }
  out << summary_line(context) << '\n';
}

void write_json(std::ostream& out, const ReportContext& context) {
  for (const PortResult& r : context.report.results) {
    const Host& host = context.hosts[r.host];
    nlohmann::ordered_json line = {
        {"type", "port"},
        {"host", host.address.host()},
        {"name", host.name},
        {"port", r.port},
        {"protocol", "tcp"},
        {"state", to_string(r.state)},
        {"reason", to_string(r.reason)},
        {"service", service_name(context, r.port)},
        {"latency_ms",
         r.latency_ms > 0 ? nlohmann::ordered_json(std::round(r.latency_ms * 1e3) / 1e3) : nullptr},
    };
    if (context.banner && r.state == State::open) line["banner"] = r.banner;
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  const ScanReport& report = context.report;
  const double seconds = report.elapsed.count();
  nlohmann::ordered_json summary = {
      {"type", "summary"},
      {"hosts", context.hosts.size()},
      {"ports", report.counts.total()},
      {"planned", report.planned},
      {"open", report.counts.open},
      {"closed", report.counts.closed},
      {"filtered", report.counts.filtered},
      {"elapsed_s", seconds},
      {"rate", seconds > 0 ? static_cast<double>(report.counts.total()) / seconds : 0.0},
      {"interrupted", report.interrupted},
  };
  out << summary.dump() << '\n';
}

void write_grepable(std::ostream& out, const ReportContext& context) {
  const auto ranges = per_host(context);
  out << "# sockit scan initiated " << date_text(context.started) << " as: " << context.command_line
      << '\n';
  for (std::size_t h = 0; h < context.hosts.size(); ++h) {
    const Host& host = context.hosts[h];
    const std::string label = fmt::format("Host: {} ({})", host.address.host(), host.name);
    out << label << "\tStatus: Up\n";
    out << label << "\tPorts: ";
    const auto [begin, end] = ranges[h];
    for (std::size_t i = begin; i < end; ++i) {
      const PortResult& r = context.report.results[i];
      const auto name = context.services.name(r.port);
      out << (i == begin ? "" : ", ") << r.port << '/' << to_string(r.state) << "/tcp//" << name
          << "///";
    }
    const Counts& counts = context.report.host_counts[h];
    if (!context.show_closed && counts.closed > 0) {
      out << "\tIgnored State: closed (" << counts.closed << ")";
    }
    out << '\n';
  }
  out << "# sockit scan done at " << date_text(context.started) << " -- " << summary_line(context)
      << '\n';
}

void write_xml(std::ostream& out, const ReportContext& context) {
  const ScanReport& report = context.report;
  const auto ranges = per_host(context);
  const std::time_t finished = context.started + static_cast<std::time_t>(report.elapsed.count());
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n";
  out << fmt::format(
      "<nmaprun scanner=\"sockit\" args=\"{}\" start=\"{}\" startstr=\"{}\" "
      "version=\"" SOCKIT_VERSION
      "\" "
      "xmloutputversion=\"1.05\">\n",
      sockit::http::html_escape(context.command_line), context.started, date_text(context.started));
  out << fmt::format(
      "<scaninfo type=\"connect\" protocol=\"tcp\" numservices=\"{}\" services=\"{}\"/>\n",
      context.ports.size(), compress_ports(context.ports));
  out << "<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n";
  for (std::size_t h = 0; h < context.hosts.size(); ++h) {
    const Host& host = context.hosts[h];
    out << fmt::format(
        "<host starttime=\"{}\" endtime=\"{}\"><status state=\"up\" reason=\"user-set\" "
        "reason_ttl=\"0\"/>\n<address addr=\"{}\" addrtype=\"{}\"/>\n<hostnames>\n",
        context.started, finished, sockit::http::html_escape(host.address.host()),
        address_type(host));
    if (!host.name.empty()) {
      out << fmt::format("<hostname name=\"{}\" type=\"user\"/>\n",
                         sockit::http::html_escape(host.name));
    }
    out << "</hostnames>\n<ports>";
    const Counts& counts = report.host_counts[h];
    if (!context.show_closed && counts.closed > 0) {
      out << fmt::format("<extraports state=\"closed\" count=\"{}\"/>\n", counts.closed);
    }
    if (!context.show_closed && counts.filtered > 0) {
      out << fmt::format("<extraports state=\"filtered\" count=\"{}\"/>\n", counts.filtered);
    }
    const auto [begin, end] = ranges[h];
    for (std::size_t i = begin; i < end; ++i) {
      const PortResult& r = report.results[i];
      out << fmt::format(
          "<port protocol=\"tcp\" portid=\"{}\"><state state=\"{}\" reason=\"{}\" "
          "reason_ttl=\"0\"/>",
          r.port, to_string(r.state), to_string(r.reason));
      if (const auto name = context.services.name(r.port); !name.empty()) {
        out << fmt::format("<service name=\"{}\" method=\"table\" conf=\"3\"/>",
                           sockit::http::html_escape(name));
      }
      if (context.banner && !r.banner.empty()) {
        out << fmt::format("<script id=\"banner\" output=\"{}\"/>",
                           sockit::http::html_escape(r.banner));
      }
      out << "</port>\n";
    }
    const auto [srtt, rttvar] = report.round_trips[h];
    out << fmt::format(
        "</ports>\n<times srtt=\"{:.0f}\" rttvar=\"{:.0f}\" to=\"{:.0f}\"/>\n</host>\n", srtt * 1e6,
        rttvar * 1e6, std::max(srtt + 4 * rttvar, 0.1) * 1e6);
  }
  out << fmt::format(
      "<runstats><finished time=\"{}\" timestr=\"{}\" summary=\"{}\" elapsed=\"{:.2f}\" "
      "exit=\"success\"/><hosts up=\"{}\" down=\"0\" total=\"{}\"/>\n</runstats>\n</nmaprun>\n",
      finished, date_text(finished), sockit::http::html_escape(summary_line(context)),
      report.elapsed.count(), context.hosts.size(), context.hosts.size());
}

std::string compress_ports(const std::vector<std::uint16_t>& ports) {
  std::string text;
  for (std::size_t i = 0; i < ports.size();) {
    std::size_t end = i;
    while (end + 1 < ports.size() && ports[end + 1] == ports[end] + 1)
      ++end;
    if (!text.empty()) text += ',';
    text += std::to_string(ports[i]);
    if (end > i) text += '-' + std::to_string(ports[end]);
    i = end + 1;
  }
  return text;
}

}  // namespace sockit::tools::scan
