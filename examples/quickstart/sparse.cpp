// Quickstart, sparse: a 512 x 1024 weight as a BCR matrix (GRIM's block column-row pruning) and as
// a block-circulant matrix (CirCNN), each multiplied with a batch and checked against the dense
// product of the matrix it represents.
#include <frugal/sparse.hpp>

#include <cstdio>

namespace nn = frugal::nn;
namespace sparse = frugal::sparse;
using frugal::index_t;

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  const index_t rows = 512, cols = 1024, batch = 32;
  frugal::rng gen(1);
  nn::matrix<float> w(rows, cols);  // a trained layer's weight would go here
  for (index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(gen.normal());
  Eigen::MatrixXf x(cols, batch);  // column-major: one sample per column
  for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(gen.uniform(-1.0, 1.0));
  Eigen::MatrixXf y(rows, batch);
  auto x_map = nn::const_column_map<float>(x.data(), cols, batch);
  auto y_map = nn::column_map<float>(y.data(), rows, batch);

  // BCR: in every 16 x 32 block keep the 8 rows and 8 columns of largest energy (12.5 % of W).
  const auto bcr = sparse::bcr_matrix<float>::from_dense(
      w, {.block_rows = 16, .block_cols = 32, .row_keep_fraction = 0.5, .col_keep_fraction = 0.25});
  bcr.multiply(x_map, y_map);
  const Eigen::MatrixXf bcr_expected = bcr.to_dense() * x;  // the pruned matrix, dense
  std::printf("BCR: %lld of %lld weights kept (%.1f %%), %zu bytes, max |error| %.2e\n",
              static_cast<long long>(bcr.nonzeros()), static_cast<long long>(w.size()), 100 * bcr.density(),
              bcr.storage_bytes(), (y - bcr_expected).cwiseAbs().maxCoeff());

  // Block-circulant: every 64 x 64 block is circulant, stored as one vector (the projection of W).
  const auto circ = sparse::block_circulant_matrix<float>::from_dense(w, 64);
  circ.multiply(x_map, y_map);
  const Eigen::MatrixXf circ_expected = circ.to_dense() * x;
  std::printf("block-circulant: %lld values for %lld weights (%.0fx fewer), max |error| %.2e\n",
              static_cast<long long>(circ.vectors().size()), static_cast<long long>(w.size()),
              static_cast<double>(w.size()) / static_cast<double>(circ.vectors().size()),
              (y - circ_expected).cwiseAbs().maxCoeff());
}
