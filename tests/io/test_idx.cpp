#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/io.hpp>

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <numeric>

#include "test_support.hpp"

namespace {

std::vector<std::byte> idx_image(std::uint8_t type, const std::vector<std::uint32_t>& dims,
                                 const std::vector<std::byte>& data) {
  std::vector<std::byte> out = {std::byte{0}, std::byte{0}, std::byte{type}, std::byte(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) out.push_back(std::byte((d >> s) & 0xFF));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(std::byte(x));
  return out;
}

void write_plain(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  gzclose(f);
}

}  // namespace

TEST_CASE("parse_idx decodes every element type, big-endian") {
  // u8 2x3
  auto a = frugal::io::parse_idx<float>(idx_image(0x08, {2, 3}, bytes_of({0, 1, 2, 253, 254, 255})), "u8");
  CHECK(a.dims == std::vector<frugal::index_t>{2, 3});
  CHECK(a.values == std::vector<float>{0, 1, 2, 253, 254, 255});
  // i8
  auto b = frugal::io::parse_idx<int>(idx_image(0x09, {2}, bytes_of({0xFF, 0x7F})), "i8");
  CHECK(b.values == std::vector<int>{-1, 127});
  // i16: 0x0102 = 258, 0xFFFE = -2
  auto c = frugal::io::parse_idx<int>(idx_image(0x0B, {2}, bytes_of({0x01, 0x02, 0xFF, 0xFE})), "i16");
  CHECK(c.values == std::vector<int>{258, -2});
  // i32: 0x01020304
  auto d = frugal::io::parse_idx<long>(idx_image(0x0C, {1}, bytes_of({0x01, 0x02, 0x03, 0x04})), "i32");
  CHECK(d.values == std::vector<long>{16909060});
  // f32 1.0 = 0x3F800000, f64 -2.0 = 0xC000000000000000
  auto e = frugal::io::parse_idx<double>(idx_image(0x0D, {1}, bytes_of({0x3F, 0x80, 0, 0})), "f32");
  CHECK(e.values == std::vector<double>{1.0});
  auto f = frugal::io::parse_idx<double>(idx_image(0x0E, {1}, bytes_of({0xC0, 0, 0, 0, 0, 0, 0, 0})), "f64");
  CHECK(f.values == std::vector<double>{-2.0});
}

TEST_CASE("malformed IDX images are rejected with the offset of the problem") {
  auto expect = [](const std::vector<std::byte>& image, std::uint64_t offset, const char* text) {
    try {
      (void)frugal::io::parse_idx<float>(image, "bad.idx");
      FAIL("accepted a malformed image");
    } catch (const frugal::format_error& e) {
      CHECK(e.file() == "bad.idx");
      CHECK(e.offset() == offset);
      CHECK(std::string(e.what()).find(text) != std::string::npos);
      CHECK(std::string(e.what()).find("bad.idx") != std::string::npos);
    }
  };
  expect(bytes_of({0, 0}), 2, "truncated");
  expect(bytes_of({1, 0, 8, 1, 0, 0, 0, 1, 5}), 0, "bad magic");
  expect(bytes_of({0, 0, 0x42, 1, 0, 0, 0, 1, 5}), 2, "unknown element type");
  expect(bytes_of({0, 0, 8, 0}), 3, "zero dimensions");
  expect(bytes_of({0, 0, 8, 2, 0, 0, 0, 1}), 8, "truncated header");
  expect(idx_image(0x08, {2, 3}, bytes_of({1, 2, 3, 4, 5})), 17, "truncated data");
  expect(idx_image(0x0B, {2}, bytes_of({1, 2, 3, 4, 5})), 12, "unexpected bytes");
  expect(idx_image(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {}), 8, "overflow");
}

TEST_CASE("read_idx reads plain and gzip files identically and reports gzip corruption") {
  const auto dir = frugal::test::scratch_dir("idx");
  std::vector<std::byte> data(6 * 5);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte(i * 7);
  const auto image = idx_image(0x08, {6, 5}, data);
  write_plain(dir / "a.idx", image);
  write_gzip(dir / "a.idx.gz", image);
  const auto plain = frugal::io::read_idx<float>(dir / "a.idx");
  const auto gz = frugal::io::read_idx<float>(dir / "a.idx.gz");
  CHECK(plain.values == gz.values);
  CHECK(plain.dims == gz.dims);

  // Truncated gzip stream.
  std::ifstream in(dir / "a.idx.gz", std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> cut(raw.size() / 2);
  std::memcpy(cut.data(), raw.data(), cut.size());
  write_plain(dir / "cut.idx.gz", cut);
  CHECK_THROWS_AS((void)frugal::io::read_idx<float>(dir / "cut.idx.gz"), frugal::format_error);

  CHECK_THROWS_WITH_AS((void)frugal::io::read_idx<float>(dir / "missing.idx"), doctest::Contains("missing.idx"),
                       frugal::io_error);
}

TEST_CASE("fuzz: random corruptions of an IDX file either parse or throw format_error") {
  std::vector<std::byte> data(4 * 4 * 3);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte(i);
  const auto image = idx_image(0x08, {4, 4, 3}, data);
  frugal::rng gen(99);
  int rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto bad = image;
    const int edits = 1 + static_cast<int>(gen.uniform_int(4));
    for (int e = 0; e < edits; ++e) {
      switch (gen.uniform_int(3)) {
        case 0:
          bad[gen.uniform_int(bad.size())] = std::byte(gen.uniform_int(256));
          break;
        case 1:
          bad.resize(gen.uniform_int(bad.size() + 1));
          break;
        default:
          bad.push_back(std::byte(gen.uniform_int(256)));
          break;
      }
      if (bad.empty()) break;
    }
    try {
      const auto a = frugal::io::parse_idx<float>(bad, "fuzz");
      const auto n = std::accumulate(a.dims.begin(), a.dims.end(), frugal::index_t{1}, std::multiplies<>());
      CHECK(static_cast<std::size_t>(n) == a.values.size());
    } catch (const frugal::format_error&) {
      ++rejected;
    }
  }
  CHECK(rejected > 0);
}

TEST_CASE("load_mnist checks that images and labels agree") {
  const auto dir = frugal::test::scratch_dir("mnist");
  write_gzip(dir / "t10k-images-idx3-ubyte.gz", idx_image(0x08, {3, 2, 2}, std::vector<std::byte>(12, std::byte{255})));
  write_plain(dir / "t10k-labels-idx1-ubyte", idx_image(0x08, {3}, bytes_of({0, 9, 4})));
  const auto set = frugal::io::load_mnist(dir, frugal::io::mnist_split::test);
  CHECK(set.count == 3);
  CHECK(set.rows == 2);
  CHECK(set.cols == 2);
  CHECK(set.pixels == std::vector<float>(12, 1.0f));
  CHECK(set.labels == std::vector<std::int32_t>{0, 9, 4});

  write_plain(dir / "t10k-labels-idx1-ubyte", idx_image(0x08, {2}, bytes_of({0, 9})));
  CHECK_THROWS_WITH_AS((void)frugal::io::load_mnist(dir, frugal::io::mnist_split::test),
                       doctest::Contains("dimension mismatch"), frugal::format_error);
  write_plain(dir / "t10k-labels-idx1-ubyte", idx_image(0x08, {3}, bytes_of({0, 10, 1})));
  try {
    (void)frugal::io::load_mnist(dir, frugal::io::mnist_split::test);
    FAIL("accepted label 10");
  } catch (const frugal::format_error& e) {
    CHECK(e.offset() == 9);
  }
  CHECK_THROWS_AS((void)frugal::io::load_mnist(dir, frugal::io::mnist_split::train), frugal::io_error);
}

TEST_CASE("Fashion-MNIST from Debian's dataset package loads with the published sizes") {
  const auto dir = frugal::test::fashion_mnist_dir();
  if (dir.empty()) {
    MESSAGE("dataset-fashion-mnist not installed: skipped");
    return;
  }
  const auto test = frugal::io::load_mnist(dir, frugal::io::mnist_split::test);
  CHECK(test.count == 10000);
  CHECK(test.rows == 28);
  CHECK(test.cols == 28);
  std::vector<int> per_class(10, 0);
  for (auto l : test.labels) ++per_class[static_cast<std::size_t>(l)];
  for (int c : per_class) CHECK(c == 1000);
  const auto [lo, hi] = std::minmax_element(test.pixels.begin(), test.pixels.end());
  CHECK(*lo == 0.0f);
  CHECK(*hi == 1.0f);
}
