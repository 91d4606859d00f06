#pragma once
/// \file
/// MNIST-format datasets (MNIST, Fashion-MNIST, KMNIST): an images IDX file and a labels IDX file
/// per split, named `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]` and `t10k-...`.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "idx.hpp"

namespace frugal::io {

/// Which half of an MNIST-format dataset.
enum class mnist_split { train, test };

/// Images and labels of one split. Pixels are scaled to [0, 1], row-major per image.
struct labeled_images {
  index_t count = 0;                 ///< number of images
  index_t rows = 0;                  ///< image height
  index_t cols = 0;                  ///< image width
  std::vector<float> pixels;         ///< count * rows * cols values in [0, 1]
  std::vector<std::int32_t> labels;  ///< count labels in [0, classes)
};

/// The path of `stem` in `dir`, preferring the gzip-compressed file when both exist.
/// Throws `io_error` naming both candidates when neither exists.
[[nodiscard]] inline std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& stem) {
  const auto gz = dir / (stem + ".gz");
  if (std::filesystem::is_regular_file(gz)) return gz;
  const auto plain = dir / stem;
  if (std::filesystem::is_regular_file(plain)) return plain;
  throw io_error(
      frugal::detail::concat("frugal::io::load_mnist: neither '", gz.string(), "' nor '", plain.string(), "' exists"));
}

/// Loads one split of an MNIST-format dataset from `dir`.
/// Throws `format_error` when a file is malformed, when the images are not rank 3 or the labels
/// not rank 1, when the two counts disagree, or when a label is outside [0, classes).
[[nodiscard]] inline labeled_images load_mnist(const std::filesystem::path& dir, mnist_split split, int classes = 10) {
  const std::string prefix = split == mnist_split::train ? "train" : "t10k";
  const auto image_path = find_idx_file(dir, prefix + "-images-idx3-ubyte");
  const auto label_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
  auto images = read_idx<float>(image_path);
  auto labels = read_idx<std::int32_t>(label_path);
  if (images.dims.size() != 3)
    throw format_error(frugal::detail::concat("frugal::io::load_mnist: '", image_path.string(), "' has ",
                                              images.dims.size(), " dimensions, images need 3"),
                       image_path.string(), 3);
  if (labels.dims.size() != 1)
    throw format_error(frugal::detail::concat("frugal::io::load_mnist: '", label_path.string(), "' has ",
                                              labels.dims.size(), " dimensions, labels need 1"),
                       label_path.string(), 3);
  if (images.dims[0] != labels.dims[0])
    throw format_error(frugal::detail::concat("frugal::io::load_mnist: dimension mismatch: '", image_path.string(),
                                              "' holds ", images.dims[0], " images but '", label_path.string(),
                                              "' holds ", labels.dims[0], " labels"),
                       label_path.string(), 4);
  for (std::size_t i = 0; i < labels.values.size(); ++i)
    if (labels.values[i] < 0 || labels.values[i] >= classes)
      throw format_error(frugal::detail::concat("frugal::io::load_mnist: '", label_path.string(), "' label ", i, " is ",
                                                labels.values[i], ", outside [0, ", classes, ")"),
                         label_path.string(), 8 + i);
  labeled_images out;
  out.count = images.dims[0];
  out.rows = images.dims[1];
  out.cols = images.dims[2];
  out.pixels = std::move(images.values);
  const float scale = images.stored_type == idx_type::u8 ? 1.0f / 255.0f : 1.0f;
  if (scale != 1.0f)
    for (float& p : out.pixels) p *= scale;
  out.labels = std::move(labels.values);
  return out;
}

}  // namespace frugal::io
