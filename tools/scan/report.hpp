// The results of sockit scan as people and programs read them: an nmap-like table, JSON
// Lines, nmap's grepable format and XML that tools reading nmap's -oX read too.
#pragma once

#include <ctime>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "scan/engine.hpp"
#include "scan/ports.hpp"
#include "scan/targets.hpp"

namespace sockit::tools::scan {

struct ReportContext {
  const std::vector<Host>& hosts;
  const std::vector<std::uint16_t>& ports;
  const Services& services;
  const ScanReport& report;
  std::string command_line;
  std::time_t started = 0;
  bool show_closed = false;  // closed and filtered ports are listed too
  bool banner = false;
};

// "scanned 1 host, 1000 ports in 0.05 s (20000 ports/s): 2 open, 998 closed, 0 filtered"
std::string summary_line(const ReportContext& context);

void write_table(std::ostream& out, const ReportContext& context);
void write_json(std::ostream& out, const ReportContext& context);
void write_grepable(std::ostream& out, const ReportContext& context);
void write_xml(std::ostream& out, const ReportContext& context);

// "22,80,1000-2000": a sorted port list as nmap's scaninfo writes it.
std::string compress_ports(const std::vector<std::uint16_t>& ports);

}  // namespace sockit::tools::scan
