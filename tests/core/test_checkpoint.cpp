#include <doctest/doctest.h>

#include <frugal/core/checkpoint.hpp>
#include <frugal/core/rng.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace {
std::vector<std::byte> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}
void write_file(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
frugal::checkpoint_writer sample_writer() {
  frugal::checkpoint_writer w;
  const std::vector<float> f = {1.5f, -2.25f, 3.0f};
  const std::vector<double> d = {3.141592653589793, -0.0, 1e-300};
  w.put<float>("layer/weight", f);
  w.put<double>("layer/bias", d);
  w.put_value<std::int64_t>("step", 1234567890123LL);
  w.put_string("meta/model", "lenet5");
  w.put<std::uint8_t>("empty", std::span<const std::uint8_t>{});
  return w;
}
}  // namespace

TEST_CASE("crc32 matches the standard check value") {
  const std::string_view s = "123456789";
  CHECK(frugal::crc32(0, std::as_bytes(std::span(s.data(), s.size()))) == 0xCBF43926U);
  CHECK(frugal::crc32(0, {}) == 0U);
}

TEST_CASE("checkpoint round-trips every record bit-exactly through a file") {
  const auto dir = frugal::test::scratch_dir("checkpoint-roundtrip");
  const auto path = dir / "a.ck";
  sample_writer().write(path);
  const frugal::checkpoint_reader r(path);
  CHECK(r.names() == std::vector<std::string>{"layer/weight", "layer/bias", "step", "meta/model", "empty"});
  CHECK(r.get<float>("layer/weight") == std::vector<float>{1.5f, -2.25f, 3.0f});
  const auto d = r.get<double>("layer/bias");
  REQUIRE(d.size() == 3);
  CHECK(std::memcmp(d.data(), std::vector<double>{3.141592653589793, -0.0, 1e-300}.data(), 3 * sizeof(double)) == 0);
  CHECK(std::signbit(d[1]));
  CHECK(r.get_value<std::int64_t>("step") == 1234567890123LL);
  CHECK(r.get_string("meta/model") == "lenet5");
  CHECK(r.get<std::uint8_t>("empty").empty());
  // No temporary files are left behind by the atomic write.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
  CHECK(files == 1);
}

TEST_CASE("checkpoint reader reports missing records and type mismatches") {
  const frugal::checkpoint_reader r(sample_writer().serialize(), "mem");
  CHECK_THROWS_WITH_AS((void)r.get<float>("nope"), doctest::Contains("has no record 'nope'"), frugal::format_error);
  CHECK_THROWS_WITH_AS((void)r.get<double>("layer/weight"), doctest::Contains("holds f32, requested f64"),
                       frugal::format_error);
  std::vector<float> wrong(2);
  CHECK_THROWS_WITH_AS(r.get_into<float>("layer/weight", wrong), doctest::Contains("holds 3 elements, expected 2"),
                       frugal::format_error);
}

TEST_CASE("checkpoint writer refuses duplicate and empty names") {
  frugal::checkpoint_writer w;
  w.put_value<float>("a", 1.0f);
  CHECK_THROWS_AS(w.put_value<float>("a", 2.0f), frugal::invalid_argument);
  CHECK_THROWS_AS(w.put_value<float>("", 2.0f), frugal::invalid_argument);
}

TEST_CASE("every truncation of a checkpoint is rejected with a format_error") {
  const auto image = sample_writer().serialize();
  for (std::size_t len = 0; len < image.size(); ++len) {
    std::vector<std::byte> cut(image.begin(), image.begin() + static_cast<std::ptrdiff_t>(len));
    CHECK_THROWS_AS(frugal::checkpoint_reader(cut, "cut"), frugal::format_error);
  }
  CHECK_THROWS_WITH(frugal::checkpoint_reader(std::vector<std::byte>(image.begin(), image.end() - 1), "cut"),
                    doctest::Contains("truncated"));
}

TEST_CASE("every single-bit flip of a checkpoint is detected") {
  const auto image = sample_writer().serialize();
  for (std::size_t i = 0; i < image.size(); ++i)
    for (int bit = 0; bit < 8; bit += 3) {
      auto bad = image;
      bad[i] ^= std::byte(1U << bit);
      CHECK_THROWS_AS(frugal::checkpoint_reader(bad, "flip"), frugal::format_error);
    }
}

TEST_CASE("a corrupted payload byte on disk names the file and offset") {
  const auto dir = frugal::test::scratch_dir("checkpoint-corrupt");
  const auto path = dir / "c.ck";
  sample_writer().write(path);
  auto bytes = read_file(path);
  bytes[bytes.size() - 5] ^= std::byte{0x40};
  write_file(path, bytes);
  try {
    frugal::checkpoint_reader r(path);
    FAIL("accepted a corrupted file");
  } catch (const frugal::format_error& e) {
    CHECK(e.file() == path.string());
    CHECK(e.offset() == 32);
    CHECK(std::string(e.what()).find("checksum mismatch") != std::string::npos);
  }
}

TEST_CASE("bad magic, other versions, trailing bytes and missing files are refused clearly") {
  auto image = sample_writer().serialize();
  auto bad_magic = image;
  bad_magic[0] = std::byte{'X'};
  CHECK_THROWS_WITH_AS(frugal::checkpoint_reader(bad_magic, "m"), doctest::Contains("bad magic"), frugal::format_error);

  // A well-formed header of another version (header CRC recomputed) is refused for its version.
  auto other = image;
  const std::uint32_t v2 = 2;
  std::memcpy(other.data() + 8, &v2, 4);
  const std::uint32_t hcrc = frugal::crc32(0, std::span<const std::byte>(other.data(), 28));
  std::memcpy(other.data() + 28, &hcrc, 4);
  CHECK_THROWS_WITH_AS(frugal::checkpoint_reader(other, "v"), doctest::Contains("format version 2 is not supported"),
                       frugal::format_error);

  auto longer = image;
  longer.push_back(std::byte{0});
  CHECK_THROWS_WITH_AS(frugal::checkpoint_reader(longer, "l"), doctest::Contains("unexpected bytes"),
                       frugal::format_error);

  CHECK_THROWS_AS(frugal::checkpoint_reader(std::filesystem::path("/nonexistent/dir/x.ck")), frugal::io_error);
}

TEST_CASE("writing into a missing directory throws io_error and leaves nothing behind") {
  CHECK_THROWS_AS(sample_writer().write("/nonexistent-frugal-dir/x.ck"), frugal::io_error);
}

TEST_CASE("rewriting a checkpoint replaces it atomically") {
  const auto dir = frugal::test::scratch_dir("checkpoint-rewrite");
  const auto path = dir / "r.ck";
  frugal::checkpoint_writer w1;
  w1.put_value<int>("x", 1);
  w1.write(path);
  frugal::checkpoint_writer w2;
  w2.put_value<int>("x", 2);
  w2.write(path);
  CHECK(frugal::checkpoint_reader(path).get_value<int>("x") == 2);
}
