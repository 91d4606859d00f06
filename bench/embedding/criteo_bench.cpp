// Throughput of frugal::embedding::read_criteo on a synthetic Criteo-format TSV (plain and gzip),
// against the floor of just reading the same bytes with gzread. Single thread; medians of 5 runs
// after a warm-up (the file is in the page cache, so this measures parsing, not the disk).
//
//   bench_criteo [--lines N]     (default 200000 lines, about 45 MB)
#include <frugal/core/rng.hpp>
#include <frugal/embedding/criteo.hpp>
#include "../common/timing.hpp"

#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace emb = frugal::embedding;
using frugal::index_t;

namespace {

/// Writes `lines` lines resembling Criteo's: ~20% empty integers, small negatives in I2, heavy-tailed
/// counts, ~15% empty categoricals drawn from per-field vocabularies of 10 to 10^6 values.
std::uint64_t write_synthetic(const std::filesystem::path& path, index_t lines) {
  frugal::rng gen(12345);
  std::FILE* f = std::fopen(path.string().c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", path.string().c_str());
    std::exit(1);
  }
  std::string line;
  std::uint64_t bytes = 0;
  char buf[32];
  for (index_t i = 0; i < lines; ++i) {
    line.clear();
    line += gen.uniform() < 0.25 ? '1' : '0';
    for (int j = 0; j < 13; ++j) {
      line += '\t';
      if (gen.uniform() < 0.2) continue;
      long long x;
      if (j == 1 && gen.uniform() < 0.1)
        x = -static_cast<long long>(1 + gen.uniform_int(3));
      else
        x = static_cast<long long>(std::exp(gen.uniform(0.0, 1.0) * gen.uniform(0.0, 12.0))) - 1;
      line += std::to_string(x);
    }
    for (int c = 0; c < 26; ++c) {
      line += '\t';
      if (gen.uniform() < 0.15) continue;
      const auto vocab = static_cast<std::uint64_t>(std::pow(10.0, 1.0 + 5.0 * c / 25.0));
      const auto v = static_cast<std::uint32_t>(
          frugal::embedding::detail::criteo_hash(static_cast<std::uint32_t>(gen.uniform_int(vocab)), c, 99));
      std::snprintf(buf, sizeof buf, "%08x", v);
      line += buf;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), f);
    bytes += line.size();
  }
  std::fclose(f);
  return bytes;
}

void gzip_copy(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::FILE* in = std::fopen(from.string().c_str(), "rb");
  gzFile out = gzopen(to.string().c_str(), "wb6");
  if (!in || !out) {
    std::fprintf(stderr, "cannot write %s\n", to.string().c_str());
    std::exit(1);
  }
  std::vector<char> buf(1 << 20);
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;)
    gzwrite(out, buf.data(), static_cast<unsigned>(n));
  std::fclose(in);
  gzclose(out);
}

/// Reads every decompressed byte of `path` with 1 MiB gzread calls; returns the byte count.
std::uint64_t raw_read(const std::filesystem::path& path) {
  gzFile f = gzopen(path.string().c_str(), "rb");
  if (!f) std::exit(1);
  gzbuffer(f, 1U << 18);
  std::vector<char> buf(1 << 20);
  std::uint64_t total = 0;
  for (int n; (n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0;) total += static_cast<unsigned>(n);
  gzclose(f);
  return total;
}

void run(const char* name, const std::filesystem::path& path, std::uint64_t bytes, index_t lines) {
  std::uint64_t raw_bytes = 0;
  const double raw_s = frugal::bench::time_median([&] { raw_bytes = raw_read(path); }, 5, 5);
  emb::criteo_report report;
  index_t examples = 0;
  const double parse_s = frugal::bench::time_median(
      [&] {
        const auto data = emb::read_criteo(path, {}, &report);
        examples = data.size();
      },
      5, 5);
  if (raw_bytes != bytes || report.bytes != bytes || examples != lines || report.malformed != 0) {
    std::fprintf(stderr, "%s: read %llu raw / %llu parsed bytes, %lld examples, %llu malformed; expected %llu, %lld\n",
                 name, static_cast<unsigned long long>(raw_bytes), static_cast<unsigned long long>(report.bytes),
                 static_cast<long long>(examples), static_cast<unsigned long long>(report.malformed),
                 static_cast<unsigned long long>(bytes), static_cast<long long>(lines));
    std::exit(1);
  }
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("%-6s %12.1f %12.2f %12.1f %14.1f %10.2f\n", name, mb / parse_s,
              static_cast<double>(lines) / parse_s / 1e6, mb / raw_s, raw_s / parse_s * 100.0, parse_s * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  index_t lines = 200000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--lines" && i + 1 < argc) {
      lines = std::atoll(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--lines N]\n", argv[0]);
      return 2;
    }
  }
  if (lines <= 0) {
    std::fprintf(stderr, "--lines must be positive\n");
    return 2;
  }
  const auto dir = std::filesystem::temp_directory_path();
  const auto stem =
      "frugal-criteo-bench-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  const auto plain = dir / (stem + ".tsv");
  const auto gz = dir / (stem + ".tsv.gz");
  const std::uint64_t bytes = write_synthetic(plain, lines);
  gzip_copy(plain, gz);
  std::printf(
      "frugal read_criteo: %lld synthetic lines, %.1f MB plain, %.1f MB gzip (level 6); single thread,\n"
      "median of 5 runs after a warm-up; MB = decompressed 10^6 bytes\n\n",
      static_cast<long long>(lines), static_cast<double>(bytes) / 1e6,
      static_cast<double>(std::filesystem::file_size(gz)) / 1e6);
  std::printf("%-6s %12s %12s %12s %14s %10s\n", "input", "parse MB/s", "Mlines/s", "raw MB/s", "% of raw rate",
              "parse ms");
  run("plain", plain, bytes, lines);
  run("gzip", gz, bytes, lines);
  std::filesystem::remove(plain);
  std::filesystem::remove(gz);
  return 0;
}
