// Each FRUGAL_COMPILE_FAIL_CASE must fail to compile, and the compiler's first error line must
// name the concept that was not met (checked by check.cmake; see CMakeLists.txt).
#include <frugal/admm.hpp>
#include <frugal/embedding.hpp>
#include <frugal/nn.hpp>

struct not_a_layer {
  using scalar_type = float;
};
struct not_a_policy {
  using scalar_type = float;
};
struct not_an_optimizer {
  using scalar_type = float;
};
struct not_a_table {};
struct not_a_projection {};

#if FRUGAL_COMPILE_FAIL_CASE == 1  // Layer
void f() {
  frugal::nn::chain<float> c;
  c.add(not_a_layer{});
}
#elif FRUGAL_COMPILE_FAIL_CASE == 2  // WeightPolicy
void f() { frugal::nn::linear<float, not_a_policy>* layer = nullptr; }
#elif FRUGAL_COMPILE_FAIL_CASE == 3  // Optimizer
void f() { frugal::admm::admm_optimizer<not_an_optimizer>* optimizer = nullptr; }
#elif FRUGAL_COMPILE_FAIL_CASE == 4  // EmbeddingTable
void f() { frugal::embedding::dlrm<not_a_table>* model = nullptr; }
#elif FRUGAL_COMPILE_FAIL_CASE == 5  // Projection
void f() { frugal::admm::any_projection<float> projection(not_a_projection{}); }
#elif FRUGAL_COMPILE_FAIL_CASE == 6  // Layer, through sequential
void f() { frugal::nn::sequential<not_a_layer>* model = nullptr; }
#else
#error "FRUGAL_COMPILE_FAIL_CASE must name a case"
#endif
