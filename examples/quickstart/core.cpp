// Quickstart, core: a seeded random stream that is the same everywhere, a checkpoint written
// atomically and read back, and the error a damaged checkpoint raises (file and byte offset).
#include <frugal/core.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

int main() {
  // The same seed gives the same values on every compiler and standard library; split(k) gives
  // independent streams (one per thread, per layer, per epoch).
  frugal::rng gen(42);
  std::vector<float> weights(1000);
  for (auto& w : weights) w = static_cast<float>(gen.normal(0.0, 0.1));
  frugal::rng stream = frugal::rng(42).split(3);

  const auto file = std::filesystem::temp_directory_path() / "frugal_quickstart.ck";
  frugal::checkpoint_writer out;
  out.put<float>("model/weights", weights);
  out.put_value<std::int64_t>("step", 1234);
  out.put_string("meta/note", "quickstart");
  out.write(file.string());  // temporary file, fsync, rename: a crash never leaves half a file

  const frugal::checkpoint_reader in(file.string());  // checks the CRCs and the framing up front
  const auto back = in.get<float>("model/weights");
  std::printf("read %zu weights back, equal: %s; step %lld; stream 3 starts with %.6f\n", back.size(),
              back == weights ? "yes" : "no", static_cast<long long>(in.get<std::int64_t>("step")[0]),
              stream.uniform());

  {  // Flip bits of one byte in the middle of the file: the reader refuses it, naming file and offset.
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    const auto at = static_cast<std::streamoff>(std::filesystem::file_size(file) / 2);
    char c = 0;
    f.seekg(at).get(c);
    f.seekp(at).put(static_cast<char>(c ^ 0x5a));
  }
  try {
    const frugal::checkpoint_reader damaged(file.string());
    std::printf("a damaged checkpoint was accepted\n");
    return 1;
  } catch (const frugal::format_error& e) {
    std::printf("damaged copy refused: %s\n", e.what());
  }
  std::filesystem::remove(file);
}
