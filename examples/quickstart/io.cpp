// Quickstart, io: read a Criteo click log (label, 13 integer and 26 hashed categorical fields per
// line, tab-separated; plain or gzip) into a click_dataset, skipping a malformed line and saying
// which and why. Pass a Criteo file as argv[1], or it writes a small one of its own.
#include <frugal/io/criteo.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace io = frugal::io;

int main(int argc, char** argv) {
  std::filesystem::path file;
  if (argc > 1) {
    file = argv[1];
  } else {
    file = std::filesystem::temp_directory_path() / "frugal_quickstart.tsv";
    std::ofstream out(file);
    for (int line = 0; line < 4; ++line) {
      out << (line % 2) << '\t';
      for (int i = 0; i < 13; ++i)
        out << (i == 2 ? std::string() : std::to_string(line * 13 + i)) << '\t';  // one empty
      for (int c = 0; c < 26; ++c) out << (c == 5 ? "" : "68fd1e64") << (c < 25 ? "\t" : "");
      out << '\n';
    }
    out << "1\tnot a criteo line\n";  // malformed: skipped and counted, not fatal (strict = true throws)
  }

  io::criteo_options options;
  options.default_buckets = 1 << 16;  // rows of each categorical field's table (ids are hashed into them)
  io::criteo_report report;
  const io::click_dataset data = io::read_criteo(file, options, &report);
  std::printf("%lld examples, %llu malformed line(s)", static_cast<long long>(data.size()),
              static_cast<unsigned long long>(report.malformed));
  for (const auto& problem : report.first_problems)
    std::printf("; line %llu: %s", static_cast<unsigned long long>(problem.line), problem.reason.c_str());
  if (data.size() > 0)
    std::printf("\nfirst example: label %.0f, dense[0..2] = %.3f %.3f %.3f (log1p of the integers), field 0 id %u\n",
                data.labels[0], data.dense[0], data.dense[1], data.dense[2], data.sparse[0]);
  if (argc <= 1) std::filesystem::remove(file);
}
