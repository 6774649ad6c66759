// FlushSubnormals: subnormal results and operands become zero on the calling thread and the
// OpenMP threads while a guard lives, and every thread gets its IEEE mode back afterwards.
#include <omp.h>

#include <vector>

#include <gtest/gtest.h>

#include "autodiff/subnormals.hpp"

namespace {

// volatile keeps the compiler from folding the products at compile time.
float subnormal_product() {
  volatile float tiny = 1e-30f, scale = 1e-10f;
  return tiny * scale;  // 1e-40: subnormal in IEEE arithmetic
}

float product_of_a_subnormal() {
  volatile float subnormal = 1e-40f, scale = 1e10f;
  return subnormal * scale;  // 1e-30 in IEEE arithmetic; 0 when operands are read as zero
}

// The two products on every thread of an OpenMP team.
std::vector<std::pair<float, float>> products_on_each_thread() {
  std::vector<std::pair<float, float>> out(static_cast<std::size_t>(omp_get_max_threads()));
#pragma omp parallel
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    if (t < out.size()) out[t] = {subnormal_product(), product_of_a_subnormal()};
  }
  return out;
}

#if defined(__SSE2__)
TEST(FlushSubnormals, FlushesOnEveryThreadWhileAliveAndRestoresAfter) {
  omp_set_num_threads(2);
  ASSERT_GT(subnormal_product(), 0.0f);
  ASSERT_GT(product_of_a_subnormal(), 0.0f);
  {
    const matnn::ad::FlushSubnormals flush;
    EXPECT_EQ(subnormal_product(), 0.0f);
    EXPECT_EQ(product_of_a_subnormal(), 0.0f);
    for (const auto& [result, operand] : products_on_each_thread()) {
      EXPECT_EQ(result, 0.0f);
      EXPECT_EQ(operand, 0.0f);
    }
    {
      const matnn::ad::FlushSubnormals nested;
      EXPECT_EQ(subnormal_product(), 0.0f);
    }
    EXPECT_EQ(subnormal_product(), 0.0f) << "an inner guard must leave the outer one's mode";
    for (const auto& [result, operand] : products_on_each_thread()) EXPECT_EQ(result, 0.0f);
  }
  EXPECT_GT(subnormal_product(), 0.0f);
  EXPECT_GT(product_of_a_subnormal(), 0.0f);
  for (const auto& [result, operand] : products_on_each_thread()) {
    EXPECT_GT(result, 0.0f);
    EXPECT_GT(operand, 0.0f);
  }
}
#endif

}  // namespace
