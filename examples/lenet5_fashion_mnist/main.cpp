// Trains LeNet-5 on Fashion-MNIST (or any MNIST-format dataset), reports per-epoch loss,
// accuracy and images/s, saves a checkpoint, reloads it into a fresh model and re-evaluates.
#include <frugal/frugal.hpp>

#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "../common/progress_bar.hpp"

namespace nn = frugal::nn;

int main(int argc, char** argv) {
  CLI::App app{
      "Train LeNet-5 on Fashion-MNIST with frugal's nn substrate.\n"
      "Reports per-epoch training loss, test accuracy and images/s, then saves a checkpoint, reloads\n"
      "it into a freshly built model and checks that the reloaded model gives the identical accuracy."};
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string checkpoint = "lenet5_fashion_mnist.ck";
  int epochs = 10;
  frugal::index_t batch = 64;
  double learning_rate = 1e-3;
  std::uint64_t seed = 1;
  frugal::index_t limit = 0;
  bool no_progress = false;
  app.add_option("--data", data_dir,
                 "Directory holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; defaults to Debian's "
                 "dataset-fashion-mnist location")
      ->capture_default_str();
  app.add_option("--epochs", epochs, "Training epochs")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "Mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", learning_rate, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "Seed for initialisation and shuffling (runs are reproducible)")
      ->capture_default_str();
  app.add_option("--limit", limit, "Train on only the first N training images (0: all); for quick trials")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint", checkpoint, "Where to save the trained model's checkpoint")->capture_default_str();
  app.add_flag("--no-progress", no_progress, "Do not draw a progress bar (it is drawn only on a terminal anyway)");
  CLI11_PARSE(app, argc, argv);

  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    const auto train = frugal::io::load_mnist(data_dir, frugal::io::mnist_split::train);
    const auto test = frugal::io::load_mnist(data_dir, frugal::io::mnist_split::test);
    const frugal::index_t n_train = limit > 0 ? std::min(limit, train.count) : train.count;
    std::printf("data: %s — %lld training images (of %lld), %lld test images, %lldx%lld\n", data_dir.c_str(),
                static_cast<long long>(n_train), static_cast<long long>(train.count),
                static_cast<long long>(test.count), static_cast<long long>(train.rows),
                static_cast<long long>(train.cols));
    const std::array<frugal::index_t, 3> shape = {train.rows, train.cols, 1};
    const nn::dataset_view train_view = nn::dataset_view{train.pixels, train.labels, shape}.slice(0, n_train);
    const nn::dataset_view test_view{test.pixels, test.labels, shape};

    auto model = nn::make_lenet5<float>(seed);
    nn::adam<float> optimizer({.learning_rate = static_cast<float>(learning_rate)});
    frugal::rng shuffle(seed + 1);
    frugal::examples::progress_bar bar(!no_progress);
    std::printf("LeNet-5, %lld parameters, Adam lr %g, batch %lld, seed %llu, %d thread(s)\n",
                static_cast<long long>(model.parameters().element_count()), learning_rate,
                static_cast<long long>(batch), static_cast<unsigned long long>(seed),
                frugal::concurrency(Kokkos::DefaultHostExecutionSpace{}));
    std::printf("%5s  %10s  %9s  %9s  %10s  %8s\n", "epoch", "train loss", "train acc", "test acc", "images/s",
                "time s");
    nn::epoch_stats eval;
    double train_seconds = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const std::string phase = "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs);
      const auto stats =
          nn::train_classifier_epoch(model, optimizer, train_view, batch, shuffle, bar.callback(), phase);
      eval = nn::evaluate_classifier(model, test_view);
      train_seconds += stats.seconds;
      std::printf("%5d  %10.4f  %9.4f  %9.4f  %10.0f  %8.1f\n", epoch, stats.loss, stats.accuracy, eval.accuracy,
                  stats.samples_per_second(), stats.seconds);
      std::fflush(stdout);
    }

    frugal::checkpoint_writer out;
    nn::save_parameters(out, model.parameters());
    optimizer.save_state(out);
    out.put_string("meta/model", "lenet5");
    out.put_value<std::int64_t>("meta/epochs", epochs);
    out.write(checkpoint);

    auto reloaded = nn::make_lenet5<float>(seed + 1000);  // deliberately different initial weights
    nn::load_parameters(frugal::checkpoint_reader(checkpoint), reloaded.parameters());
    const auto again = nn::evaluate_classifier(reloaded, test_view);
    const bool identical = again.accuracy == eval.accuracy && again.loss == eval.loss;
    std::printf("checkpoint: %s (%ju bytes); reloaded test accuracy %.4f — %s\n", checkpoint.c_str(),
                static_cast<std::uintmax_t>(std::filesystem::file_size(checkpoint)), again.accuracy,
                identical ? "identical" : "DIFFERENT");
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("final test accuracy %.4f after %d epochs; training %.1f s, total wall time %.1f s\n", eval.accuracy,
                epochs, train_seconds, total);
    return identical ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lenet5_fashion_mnist: %s\n", e.what());
    if (dynamic_cast<const frugal::io_error*>(&e))
      std::fprintf(stderr, "hint: install Debian's dataset-fashion-mnist or pass --data DIR\n");
    return 1;
  }
}
