#pragma once
// A small line-plot renderer that writes PNG files through zlib, so the examples can draw their
// result figures without a plotting stack. Built-in 5x7 font (digits, letters, common symbols;
// lowercase letters are drawn as capitals). Example code, not part of the library.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace frugal::examples {

namespace detail {
inline const std::map<char, std::array<std::uint8_t, 7>>& font() {
  static const std::map<char, std::array<std::uint8_t, 7>> glyphs = {
      {' ', {0, 0, 0, 0, 0, 0, 0}},
      {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
      {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
      {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
      {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
      {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
      {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
      {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
      {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
      {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
      {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
      {'A', {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}},
      {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
      {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
      {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
      {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
      {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
      {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
      {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
      {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
      {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
      {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
      {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
      {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
      {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
      {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
      {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
      {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
      {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
      {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
      {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
      {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
      {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
      {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
      {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
      {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
      {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
      {'.', {0, 0, 0, 0, 0, 0x0C, 0x0C}},
      {',', {0, 0, 0, 0, 0x0C, 0x04, 0x08}},
      {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
      {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
      {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
      {'-', {0, 0, 0, 0x1F, 0, 0, 0}},
      {'+', {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0}},
      {':', {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0}},
      {'/', {0, 0x01, 0x02, 0x04, 0x08, 0x10, 0}},
      {'=', {0, 0, 0x1F, 0, 0x1F, 0, 0}},
      {'_', {0, 0, 0, 0, 0, 0, 0x1F}},
      {'|', {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
      {'\'', {0x04, 0x04, 0, 0, 0, 0, 0}},
  };
  return glyphs;
}

inline void png_chunk(std::ofstream& out, const char* type, const std::vector<unsigned char>& data) {
  const auto be32 = [&](std::uint32_t v) {
    const unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                                static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    out.write(reinterpret_cast<const char*>(b), 4);
  };
  be32(static_cast<std::uint32_t>(data.size()));
  out.write(type, 4);
  if (!data.empty()) out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  uLong crc = ::crc32(0L, reinterpret_cast<const Bytef*>(type), 4);
  if (!data.empty()) crc = ::crc32(crc, data.data(), static_cast<uInt>(data.size()));
  be32(static_cast<std::uint32_t>(crc));
}
}  // namespace detail

/// An RGB image with drawing primitives and PNG output.
class canvas {
 public:
  canvas(int width, int height) : m_w(width), m_h(height), m_rgb(static_cast<std::size_t>(width * height * 3), 255) {}

  void pixel(int x, int y, std::uint32_t color) {
    if (x < 0 || y < 0 || x >= m_w || y >= m_h) return;
    auto* p = &m_rgb[static_cast<std::size_t>((y * m_w + x) * 3)];
    p[0] = static_cast<unsigned char>(color >> 16);
    p[1] = static_cast<unsigned char>(color >> 8);
    p[2] = static_cast<unsigned char>(color);
  }

  void rect(int x0, int y0, int x1, int y1, std::uint32_t color) {
    for (int y = std::min(y0, y1); y <= std::max(y0, y1); ++y)
      for (int x = std::min(x0, x1); x <= std::max(x0, x1); ++x) pixel(x, y, color);
  }

  /// A line `thickness` pixels wide (Bresenham with a square brush).
  void line(int x0, int y0, int x1, int y1, std::uint32_t color, int thickness = 1) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    const int r = thickness / 2;
    for (;;) {
      rect(x0 - r, y0 - r, x0 + (thickness - 1 - r), y0 + (thickness - 1 - r), color);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  /// Text with its top-left corner at (x, y); each font pixel is `scale` x `scale`.
  void text(int x, int y, const std::string& s, std::uint32_t color, int scale = 2) {
    for (char ch : s) {
      const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      const auto it = detail::font().find(c);
      if (it != detail::font().end())
        for (int row = 0; row < 7; ++row)
          for (int col = 0; col < 5; ++col)
            if (it->second[static_cast<std::size_t>(row)] >> (4 - col) & 1)
              rect(x + col * scale, y + row * scale, x + col * scale + scale - 1, y + row * scale + scale - 1, color);
      x += 6 * scale;
    }
  }

  static int text_width(const std::string& s, int scale = 2) { return static_cast<int>(s.size()) * 6 * scale; }

  /// Writes an 8-bit RGB PNG. Throws std::runtime_error on I/O failure.
  void write_png(const std::string& path) const {
    std::vector<unsigned char> raw;
    raw.reserve(static_cast<std::size_t>((m_w * 3 + 1) * m_h));
    for (int y = 0; y < m_h; ++y) {
      raw.push_back(0);  // filter: none
      raw.insert(raw.end(), m_rgb.begin() + y * m_w * 3, m_rgb.begin() + (y + 1) * m_w * 3);
    }
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::vector<unsigned char> z(size);
    if (compress2(z.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 9) != Z_OK)
      throw std::runtime_error("plot: zlib compression failed");
    z.resize(size);
    std::ofstream out(path, std::ios::binary);
    if (!out) throw std::runtime_error("plot: cannot write '" + path + "'");
    const unsigned char signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    out.write(reinterpret_cast<const char*>(signature), 8);
    std::vector<unsigned char> ihdr(13, 0);
    for (int i = 0; i < 4; ++i) {
      ihdr[static_cast<std::size_t>(i)] = static_cast<unsigned char>(m_w >> (24 - 8 * i));
      ihdr[static_cast<std::size_t>(4 + i)] = static_cast<unsigned char>(m_h >> (24 - 8 * i));
    }
    ihdr[8] = 8;  // bit depth
    ihdr[9] = 2;  // colour type: RGB
    detail::png_chunk(out, "IHDR", ihdr);
    detail::png_chunk(out, "IDAT", z);
    detail::png_chunk(out, "IEND", {});
    if (!out) throw std::runtime_error("plot: writing '" + path + "' failed");
  }

 private:
  int m_w, m_h;
  std::vector<unsigned char> m_rgb;
};

/// A line chart of one or more series, with "nice" ticks, optional log-scale x axis and a legend.
class line_plot {
 public:
  line_plot(std::string title, std::string x_label, std::string y_label)
      : m_title(std::move(title)), m_x_label(std::move(x_label)), m_y_label(std::move(y_label)) {}

  void add_series(std::string name, std::vector<std::pair<double, double>> points, std::uint32_t color) {
    m_series.push_back({std::move(name), std::move(points), color});
  }
  void set_log_x(bool on) { m_log_x = on; }

  void write_png(const std::string& path, int width = 900, int height = 560) const {
    canvas c(width, height);
    const int left = 90, right = 30, top = 60, bottom = 80;
    const int x0 = left, x1 = width - right, y0 = height - bottom, y1 = top;
    double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
    for (const auto& s : m_series)
      for (auto [x, y] : s.points) {
        const double tx = fx(x);
        xmin = std::min(xmin, tx), xmax = std::max(xmax, tx), ymin = std::min(ymin, y), ymax = std::max(ymax, y);
      }
    if (xmin > xmax) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
    if (xmax - xmin < 1e-12) xmax = xmin + 1;
    if (ymax - ymin < 1e-12) ymax = ymin + 1;
    const double ypad = 0.08 * (ymax - ymin), xpad = 0.04 * (xmax - xmin);
    xmin -= xpad, xmax += xpad, ymin -= ypad, ymax += ypad;
    auto px = [&](double x) { return x0 + static_cast<int>(std::lround((fx(x) - xmin) / (xmax - xmin) * (x1 - x0))); };
    auto py = [&](double y) { return y0 - static_cast<int>(std::lround((y - ymin) / (ymax - ymin) * (y0 - y1))); };
    const std::uint32_t grid = 0xe6e6e6, ink = 0x222222;
    for (double t : ticks(ymin, ymax)) {
      c.line(x0, py(t), x1, py(t), grid);
      const std::string label = fmt(t);
      c.text(x0 - 8 - canvas::text_width(label), py(t) - 7, label, ink);
    }
    for (double t : m_log_x ? log_ticks(xmin, xmax) : ticks(xmin, xmax)) {
      const int x = px(t);  // px applies the log scale
      c.line(x, y0, x, y1, grid);
      const std::string label = fmt(t);
      c.text(x - canvas::text_width(label) / 2, y0 + 10, label, ink);
    }
    c.line(x0, y0, x1, y0, ink, 2);
    c.line(x0, y0, x0, y1, ink, 2);
    c.text((width - canvas::text_width(m_title)) / 2, 8, m_title, ink);
    c.text((x0 + x1 - canvas::text_width(m_x_label)) / 2, height - 36, m_x_label, ink);
    c.text(10, top - 20, m_y_label, ink);
    int ly = y1 + 10;
    for (const auto& s : m_series) {
      for (std::size_t i = 0; i + 1 < s.points.size(); ++i)
        c.line(px(s.points[i].first), py(s.points[i].second), px(s.points[i + 1].first), py(s.points[i + 1].second),
               s.color, 3);
      for (auto [x, y] : s.points) c.rect(px(x) - 4, py(y) - 4, px(x) + 4, py(y) + 4, s.color);
      const int lx = x1 - 20 - canvas::text_width(s.name) - 30;
      c.rect(lx, ly + 2, lx + 18, ly + 12, s.color);
      c.text(lx + 26, ly, s.name, ink);
      ly += 24;
    }
    c.write_png(path);
  }

 private:
  struct series {
    std::string name;
    std::vector<std::pair<double, double>> points;
    std::uint32_t color;
  };

  [[nodiscard]] double fx(double x) const { return m_log_x ? std::log10(std::max(x, 1e-300)) : x; }

  static std::vector<double> ticks(double lo, double hi) {
    const double raw = (hi - lo) / 6, mag = std::pow(10, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0})
      if (m * mag >= raw) {
        step = m * mag;
        break;
      }
    std::vector<double> out;
    for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step)
      out.push_back(std::abs(t) < 1e-12 * step ? 0 : t);
    return out;
  }

  static std::vector<double> log_ticks(double lo, double hi) {
    std::vector<double> out;
    for (int e = static_cast<int>(std::floor(lo)); e <= static_cast<int>(std::ceil(hi)); ++e)
      for (double m : {1.0, 2.0, 5.0}) {
        const double t = m * std::pow(10, e);
        if (std::log10(t) >= lo && std::log10(t) <= hi) out.push_back(t);
      }
    return out;
  }

  static std::string fmt(double v) {
    char buf[32];
    if (std::abs(v - std::round(v)) < 1e-9)
      std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (std::abs(v * 10 - std::round(v * 10)) < 1e-9)
      std::snprintf(buf, sizeof buf, "%.1f", v);
    else
      std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
  }

  std::string m_title, m_x_label, m_y_label;
  std::vector<series> m_series;
  bool m_log_x = false;
};

}  // namespace frugal::examples
