#include <doctest/doctest.h>

#include <frugal/io.hpp>
#include <frugal/nn.hpp>

#include "test_support.hpp"

namespace nn = frugal::nn;
using frugal::index_t;

TEST_CASE("LeNet-5 learns a synthetic two-pattern task (no dataset needed)") {
  // Class 0: a bright horizontal bar; class 1: a vertical bar; random position, noisy background.
  frugal::rng gen(21);
  const index_t n = 1024;
  std::vector<float> images(static_cast<std::size_t>(n * 28 * 28));
  std::vector<std::int32_t> labels(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(gen.uniform_int(2));
    labels[static_cast<std::size_t>(i)] = label;
    const auto at = static_cast<index_t>(4 + gen.uniform_int(20));
    for (index_t y = 0; y < 28; ++y)
      for (index_t x = 0; x < 28; ++x) {
        const bool bar = label == 0 ? (y == at || y == at + 1) : (x == at || x == at + 1);
        images[static_cast<std::size_t>((i * 28 + y) * 28 + x)] =
            static_cast<float>(0.3 * gen.uniform() + (bar ? 0.7 : 0.0));
      }
  }
  const nn::dataset_view data{images, labels, {28, 28, 1}};
  auto model = nn::make_lenet5<float>(5);
  nn::adam<float> opt({.learning_rate = 2e-3f});
  int reports = 0;
  nn::epoch_stats stats;
  for (int epoch = 0; epoch < 4; ++epoch)
    stats = nn::train_classifier_epoch(model, opt, data, 32, gen, [&](const frugal::progress_event& e) {
      ++reports;
      CHECK(e.total == 32);
    });
  CHECK(reports == 128);
  CHECK(stats.accuracy > 0.95);
  CHECK(nn::evaluate_classifier(model, data).accuracy > 0.95);
}

TEST_CASE("dataset_view::slice views a range of samples and refuses ranges outside") {
  std::vector<float> pixels(5 * 6);
  std::vector<std::int32_t> labels = {0, 1, 2, 3, 4};
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(i);
  const nn::dataset_view all{pixels, labels, {2, 3, 1}};
  const auto mid = all.slice(1, 3);
  CHECK(mid.size() == 3);
  CHECK(mid.sample_shape == all.sample_shape);
  CHECK(mid.labels.front() == 1);
  CHECK(mid.labels.back() == 3);
  CHECK(mid.inputs.size() == 18);
  CHECK(mid.inputs.data() == pixels.data() + 6);  // shares the memory
  CHECK(all.slice(5, 0).size() == 0);
  CHECK_THROWS_AS((void)all.slice(3, 3), frugal::invalid_argument);
  CHECK_THROWS_AS((void)all.slice(-1, 2), frugal::invalid_argument);
}

TEST_CASE("training loops refuse inconsistent datasets") {
  std::vector<float> images(10);
  std::vector<std::int32_t> labels(3);
  auto model = nn::make_lenet5<float>(1);
  CHECK_THROWS_AS(nn::evaluate_classifier(model, nn::dataset_view{images, labels, {28, 28, 1}}), frugal::shape_error);
}

TEST_CASE("LeNet-5 on real Fashion-MNIST: two epochs on 12,000 images beat 75% test accuracy") {
  const auto dir = frugal::test::fashion_mnist_dir();
  if (dir.empty()) {
    MESSAGE("dataset-fashion-mnist not installed: skipped");
    return;
  }
  const auto train = frugal::io::load_mnist(dir, frugal::io::mnist_split::train);
  const auto test = frugal::io::load_mnist(dir, frugal::io::mnist_split::test);
  const index_t n = 12000, m = 2000;
  const nn::dataset_view train_view{std::span(train.pixels).first(static_cast<std::size_t>(n * 784)),
                                    std::span(train.labels).first(static_cast<std::size_t>(n)),
                                    {28, 28, 1}};
  const nn::dataset_view test_view{std::span(test.pixels).first(static_cast<std::size_t>(m * 784)),
                                   std::span(test.labels).first(static_cast<std::size_t>(m)),
                                   {28, 28, 1}};
  auto model = nn::make_lenet5<float>(1);
  nn::adam<float> opt;
  frugal::rng gen(1);
  nn::epoch_stats stats;
  for (int epoch = 0; epoch < 2; ++epoch) stats = nn::train_classifier_epoch(model, opt, train_view, 64, gen);
  const auto eval = nn::evaluate_classifier(model, test_view);
  MESSAGE("train loss " << stats.loss << ", test accuracy " << eval.accuracy << ", " << stats.samples_per_second()
                        << " images/s");
  CHECK(eval.accuracy > 0.75);
}
