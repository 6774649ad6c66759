#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>
#include <random>

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "potentials/atom_graph.hpp"
#include "potentials/behler_parrinello.hpp"
#include "potential_fixtures.hpp"

namespace matnn::potentials {
namespace {

using nlohmann::json;
constexpr ad::DType f64 = ad::DType::f64;
const std::vector<int> kCuAu = {29, 79};

// A 4-atom fcc Cu/Au cell, slightly skewed, atoms displaced at random.
Structure alloy(std::uint64_t seed, double displacement = 0.15) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-displacement, displacement);
  Structure s;
  s.cell << 3.9, 0.0, 0.0, 0.2, 3.8, 0.0, -0.1, 0.15, 4.0;
  s.pbc = {true, true, true};
  const double frac[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
  s.positions.resize(4, 3);
  for (int a = 0; a < 4; ++a) {
    const Eigen::RowVector3d f(frac[a][0], frac[a][1], frac[a][2]);
    s.positions.row(a) = f * s.cell + Eigen::RowVector3d(u(rng), u(rng), u(rng));
  }
  s.numbers = {29, 79, 29, 29};
  return s;
}

// A non-periodic cluster of 5 atoms.
Structure molecule() {
  Structure s;
  s.numbers = {29, 79, 29, 79, 29};
  s.positions.resize(5, 3);
  s.positions << 0.0, 0.0, 0.0, 2.5, 0.1, -0.2, 0.3, 2.4, 0.2, 1.4, 1.3, 2.1, -1.9, 1.1, 1.2;
  return s;
}

// A two-layer slab, periodic in x and y only.
Structure slab() {
  Structure s;
  s.cell << 2.8, 0.0, 0.0, 0.0, 2.9, 0.0, 0.0, 0.0, 12.0;
  s.pbc = {true, true, false};
  s.positions.resize(2, 3);
  s.positions << 0.05, 0.0, 0.0, 1.4, 1.5, 1.95;
  s.numbers = {79, 29};
  return s;
}

json small_config() { return json{{"cutoff", 4.5}, {"hidden", {12, 12}}}; }

double energy(BehlerParrinello& model, const Structure& s) {
  const AtomGraph g = build_graph(s, model.species(), model.cutoff(), f64);
  const ad::NoGradGuard no_grad;
  return ad::sum(model.atomic_outputs(g)).item();
}

// dE/dr by the reverse pass.
std::vector<double> gradient(BehlerParrinello& model, const Structure& s) {
  const AtomGraph g = build_graph(s, model.species(), model.cutoff(), f64);
  return ad::grad({ad::sum(model.atomic_outputs(g))}, {g.positions}, {}, false, true)[0].to_vector();
}

std::unique_ptr<BehlerParrinello> fitted_model(const json& config, std::uint64_t seed = 7) {
  auto model = std::make_unique<BehlerParrinello>(config, kCuAu, seed);
  model->to(f64);
  const Structure a = alloy(11), b = alloy(12, 0.3), m = molecule();
  const Structure* all[] = {&a, &b, &m};
  model->fit_input_statistics(build_graph(std::span<const Structure* const>(all, 3), kCuAu, model->cutoff(), f64), {});
  return model;
}

// ---- (a) symmetry functions against a brute-force double loop over periodic images -------------

double fc_ref(double r, double rc, bool cosine) {
  if (r >= rc) return 0.0;
  const double x = r / rc;
  return cosine ? 0.5 * (std::cos(std::numbers::pi * x) + 1.0) : 1 - 10 * std::pow(x, 3) + 15 * std::pow(x, 4) - 6 * std::pow(x, 5);
}

std::vector<double> reference_functions(const SymmetryFunctions& sf, const Structure& s, const std::vector<int>& species) {
  const SymmetryFunctionConfig& c = sf.config();
  const double rc = c.cutoff;
  const bool cosine = c.cutoff_function == CutoffFunction::cosine;
  const auto S = static_cast<std::size_t>(sf.n_species());
  const auto R = static_cast<std::size_t>(sf.n_radial());
  const std::size_t F = static_cast<std::size_t>(sf.n_features());
  auto species_of = [&](int z) { return static_cast<std::size_t>(std::find(species.begin(), species.end(), z) - species.begin()); };
  std::vector<double> out(s.size() * F, 0.0);
  for (std::size_t i = 0; i < s.size(); ++i) {
    struct Neighbour {
      Eigen::Vector3d v;
      std::size_t species;
    };
    std::vector<Neighbour> nb;
    const int n0 = s.pbc[0] ? 3 : 0, n1 = s.pbc[1] ? 3 : 0, n2 = s.pbc[2] ? 3 : 0;
    for (std::size_t j = 0; j < s.size(); ++j)
      for (int a = -n0; a <= n0; ++a)
        for (int b = -n1; b <= n1; ++b)
          for (int d = -n2; d <= n2; ++d) {
            const Eigen::Vector3d v = (s.positions.row(static_cast<Eigen::Index>(j)) - s.positions.row(static_cast<Eigen::Index>(i)) +
                                       a * s.cell.row(0) + b * s.cell.row(1) + d * s.cell.row(2))
                                          .transpose();
            if (v.norm() > 1e-9 && v.norm() < rc) nb.push_back({v, species_of(s.numbers[j])});
          }
    double* row = &out[i * F];
    for (const Neighbour& n : nb) {
      const double r = n.v.norm();
      for (std::size_t m = 0; m < R; ++m) {
        const double d = r - sf.radial_shift()[m];
        row[n.species * R + m] += std::exp(-sf.radial_eta()[m] * d * d) * fc_ref(r, rc, cosine);
      }
    }
    const auto A = static_cast<std::size_t>(sf.n_angular());
    for (std::size_t j = 0; j < nb.size(); ++j)
      for (std::size_t k = j + 1; k < nb.size(); ++k) {
        const double rij = nb[j].v.norm(), rik = nb[k].v.norm(), rjk = (nb[k].v - nb[j].v).norm();
        const double cos_t = nb[j].v.dot(nb[k].v) / (rij * rik);
        const bool narrow = c.angular == AngularKind::narrow;
        const double fcs = fc_ref(rij, rc, cosine) * fc_ref(rik, rc, cosine) * (narrow ? fc_ref(rjk, rc, cosine) : 1.0);
        const double rsq = rij * rij + rik * rik + (narrow ? rjk * rjk : 0.0);
        const std::size_t base = S * R + static_cast<std::size_t>(sf.pair_channel(static_cast<std::int64_t>(nb[j].species),
                                                                                  static_cast<std::int64_t>(nb[k].species))) * A;
        std::size_t f = 0;
        for (double eta : c.angular_eta)
          for (std::int64_t lambda : c.lambda)
            for (std::int64_t zeta : c.zeta) {
              const auto z = static_cast<double>(zeta);
              row[base + f++] += std::pow(2.0, 1.0 - z) * std::pow(1.0 + static_cast<double>(lambda) * cos_t, z) *
                                 std::exp(-eta * rsq) * fcs;
            }
      }
  }
  return out;
}

void expect_functions_match(const json& config, const Structure& s) {
  BehlerParrinello model(config, kCuAu, 1);
  model.to(f64);
  const AtomGraph g = build_graph(s, kCuAu, model.cutoff(), f64);
  const std::vector<double> got = model.symmetry_function_values(g).to_vector();
  const std::vector<double> want = reference_functions(model.symmetry_functions(), s, kCuAu);
  ASSERT_EQ(got.size(), want.size());
  double max_abs = 0;
  for (double w : want) max_abs = std::max(max_abs, std::abs(w));
  EXPECT_GT(max_abs, 0.1);
  for (std::size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-10 * (1 + std::abs(want[k]))) << "entry " << k;
}

TEST(BehlerParrinelloFunctions, MatchBruteForceNarrowPolynomial) {
  expect_functions_match(json::object(), alloy(1));
  expect_functions_match(json::object(), molecule());
  expect_functions_match(json::object(), slab());
}

TEST(BehlerParrinelloFunctions, MatchBruteForceWideCosine) {
  const json config = {{"cutoff", 4.2},
                       {"cutoff_function", "cosine"},
                       {"radial", {{"count", 5}, {"r_min", 0.8}}},
                       {"angular", {{"type", "wide"}, {"eta", {0.0, 0.05}}, {"zeta", {1, 3}}, {"lambda", {-1, 1}}}}};
  expect_functions_match(config, alloy(2));
  expect_functions_match(config, slab());
}

TEST(BehlerParrinelloFunctions, LayoutAndGrid) {
  BehlerParrinello model(json::object(), kCuAu, 1);
  const SymmetryFunctions& sf = model.symmetry_functions();
  EXPECT_EQ(sf.n_radial(), 8);
  EXPECT_EQ(sf.n_angular(), 2 * 4 * 3);
  EXPECT_EQ(sf.n_features(), 2 * 8 + 3 * 24);
  EXPECT_EQ(sf.pair_channel(0, 0), 0);
  EXPECT_EQ(sf.pair_channel(1, 0), 1);
  EXPECT_EQ(sf.pair_channel(1, 1), 2);
  EXPECT_DOUBLE_EQ(sf.radial_shift().front(), 0.5);
  EXPECT_DOUBLE_EQ(sf.radial_shift().back(), 5.0);
  const double dr = 4.5 / 7;
  EXPECT_NEAR(sf.radial_eta()[3], 1 / (2 * dr * dr), 1e-12);
}

TEST(BehlerParrinelloFunctions, LongerGraphCutoffGivesTheSameFunctions) {
  BehlerParrinello model(small_config(), kCuAu, 1);
  model.to(f64);
  const Structure s = alloy(3);
  const std::vector<double> a = model.symmetry_function_values(build_graph(s, kCuAu, 4.5, f64)).to_vector();
  const std::vector<double> b = model.symmetry_function_values(build_graph(s, kCuAu, 6.0, f64)).to_vector();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-12 * (1 + std::abs(a[k])));
  EXPECT_THROW(model.symmetry_function_values(build_graph(s, kCuAu, 4.0, f64)), Error);
}

// ---- (b) invariances -----------------------------------------------------------------------------

// ---- (a') the direct inference path against the engine's -----------------------------------------

// evaluate() (symmetry functions and their gradients by hand) must give the engine's numbers:
// outputs and d(sum_i w_i out_i)/d(edge vectors), for any weights.
void expect_direct_matches_engine(const json& config, const std::vector<const Structure*>& structures) {
  auto model = fitted_model(config);
  const AtomGraph g = build_graph(std::span<const Structure* const>(structures.data(), structures.size()), kCuAu,
                                  model->cutoff(), f64);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1.0, 2.0);
  std::vector<double> weights(static_cast<std::size_t>(g.n_atoms));
  for (double& w : weights) w = u(rng);

  const std::vector<double> values = model->symmetry_functions().values(g);
  const std::vector<double> engine_values = model->symmetry_function_values(g).to_vector();
  ASSERT_EQ(values.size(), engine_values.size());
  for (std::size_t k = 0; k < values.size(); ++k)
    EXPECT_NEAR(values[k], engine_values[k], 1e-12 * (1 + std::abs(engine_values[k]))) << "feature " << k;

  const AtomicEvaluation direct = model->evaluate(g, weights, true);
  const AtomicEvaluation engine = model->PotentialModel::evaluate(g, weights, true);
  ASSERT_EQ(direct.outputs.size(), engine.outputs.size());
  for (std::size_t i = 0; i < direct.outputs.size(); ++i)
    EXPECT_NEAR(direct.outputs[i], engine.outputs[i], 1e-10 * (1 + std::abs(engine.outputs[i]))) << "atom " << i;
  ASSERT_EQ(direct.edge_gradient.size(), static_cast<std::size_t>(3 * g.n_edges));
  ASSERT_EQ(engine.edge_gradient.size(), direct.edge_gradient.size());
  double largest = 0;
  for (double x : engine.edge_gradient) largest = std::max(largest, std::abs(x));
  EXPECT_GT(largest, 1e-3);  // the comparison is not between zeros
  for (std::size_t k = 0; k < direct.edge_gradient.size(); ++k)
    EXPECT_NEAR(direct.edge_gradient[k], engine.edge_gradient[k], 1e-10 * (1 + largest)) << "edge entry " << k;

  // Without a gradient: the same outputs, no gradient.
  const AtomicEvaluation no_gradient = model->evaluate(g, weights, false);
  EXPECT_EQ(no_gradient.outputs, direct.outputs);
  EXPECT_TRUE(no_gradient.edge_gradient.empty());

  // The Jacobian (the training cache) contracted with dE/dG is the backward pass, with a dE/dG
  // that is not a network's, in blocks of 3 atoms.
  const SymmetryFunctions& functions = model->symmetry_functions();
  const auto F = static_cast<std::size_t>(functions.n_features());
  std::vector<double> dg(static_cast<std::size_t>(g.n_atoms) * F);
  for (double& x : dg) x = u(rng);
  const auto backward_pass = [&](const AtomGraph& graph) {
    std::vector<double> values, gradient;
    functions.values_and_edge_gradient(
        graph, 3,
        [&](std::int64_t first, std::int64_t count, const double*, double* feature_gradient) {
          std::copy(dg.begin() + first * static_cast<std::int64_t>(F),
                    dg.begin() + (first + count) * static_cast<std::int64_t>(F), feature_gradient);
        },
        values, gradient);
    return gradient;
  };
  const std::vector<double> backward = backward_pass(g), jacobian = functions.jacobian(g);
  const auto& centers = *g.edge_center;
  for (std::int64_t e = 0; e < g.n_edges; ++e)
    for (std::size_t c = 0; c < 3; ++c) {
      double contracted = 0.0;
      for (std::size_t f = 0; f < F; ++f)
        contracted += jacobian[(3 * static_cast<std::size_t>(e) + c) * F + f] *
                      dg[static_cast<std::size_t>(centers[static_cast<std::size_t>(e)]) * F + f];
      EXPECT_NEAR(contracted, backward[3 * static_cast<std::size_t>(e) + c], 1e-10 * (1 + std::abs(contracted)))
          << "edge " << e;
    }

  // A float32 graph runs the same float64 kernel on its rounded edge vectors (float32 functions
  // were not accurate enough: symmetry_functions_direct.cpp): within that rounding of float64.
  const AtomGraph g32 = build_graph(std::span<const Structure* const>(structures.data(), structures.size()), kCuAu,
                                    model->cutoff(), ad::DType::f32);
  const std::vector<double> values32 = functions.values(g32), backward32 = backward_pass(g32);
  const std::vector<double> jacobian32 = functions.jacobian(g32);
  double largest_value = 0, largest_backward = 0, largest_jacobian = 0;
  for (double x : values) largest_value = std::max(largest_value, std::abs(x));
  for (double x : backward) largest_backward = std::max(largest_backward, std::abs(x));
  for (double x : jacobian) largest_jacobian = std::max(largest_jacobian, std::abs(x));
  for (std::size_t k = 0; k < values.size(); ++k)
    EXPECT_NEAR(values32[k], values[k], 1e-6 * (1 + largest_value)) << "feature " << k;
  for (std::size_t k = 0; k < backward.size(); ++k)
    EXPECT_NEAR(backward32[k], backward[k], 1e-6 * (1 + largest_backward)) << "edge entry " << k;
  for (std::size_t k = 0; k < jacobian.size(); ++k)
    EXPECT_NEAR(jacobian32[k], jacobian[k], 1e-6 * (1 + largest_jacobian)) << "Jacobian entry " << k;
}

// A straight, non-periodic Cu-Au-Cu chain: cos(theta) = -1 exactly, where (1 + lambda cos) vanishes.
Structure linear_trimer() {
  Structure s;
  s.numbers = {29, 79, 29};
  s.positions.resize(3, 3);
  s.positions << 0.0, 0.0, 0.0, 2.4, 0.0, 0.0, 4.8, 0.0, 0.0;
  return s;
}

TEST(BehlerParrinelloDirect, MatchesTheEngineNarrowPolynomial) {
  const Structure a = alloy(40), b = alloy(41, 0.3), m = molecule(), l = slab(), t = linear_trimer();
  expect_direct_matches_engine(small_config(), {&a, &b, &m, &l, &t});
}

TEST(BehlerParrinelloDirect, MatchesTheEngineWideCosineOddZeta) {
  json config = small_config();
  config["cutoff_function"] = "cosine";
  config["angular"] = {{"type", "wide"}, {"zeta", {1, 3, 16}}, {"lambda", {-1}}, {"eta", {0.0, 0.3}}};
  const Structure a = alloy(42), m = molecule(), t = linear_trimer();
  expect_direct_matches_engine(config, {&a, &m, &t});
}

TEST(BehlerParrinelloDirect, MatchesTheEngineWithoutAngularFunctionsAndWithALongerGraphCutoff) {
  json config = small_config();
  config["angular"] = {{"zeta", json::array()}};
  const Structure a = alloy(43);
  expect_direct_matches_engine(config, {&a});
  // A graph built with a longer cutoff than the model's: its extra edges get zero gradient.
  auto model = fitted_model(small_config());
  const AtomGraph g = build_graph(a, kCuAu, model->cutoff() + 1.5, f64);
  const std::vector<double> weights(4, 1.0);
  const AtomicEvaluation direct = model->evaluate(g, weights, true);
  const AtomicEvaluation engine = model->PotentialModel::evaluate(g, weights, true);
  for (std::size_t k = 0; k < direct.edge_gradient.size(); ++k)
    EXPECT_NEAR(direct.edge_gradient[k], engine.edge_gradient[k], 1e-10) << k;
}

TEST(BehlerParrinelloDirect, AtomsWithoutNeighboursAndBadWeights) {
  auto model = fitted_model(small_config());
  Structure s;
  s.numbers = {29, 79};
  s.positions.resize(2, 3);
  s.positions << 0.0, 0.0, 0.0, 20.0, 0.0, 0.0;
  const AtomGraph g = build_graph(s, kCuAu, model->cutoff(), f64);
  const AtomicEvaluation out = model->evaluate(g, std::vector<double>{1.0, 1.0}, true);
  ASSERT_EQ(out.outputs.size(), 2u);
  for (double o : out.outputs) EXPECT_TRUE(std::isfinite(o));
  EXPECT_TRUE(out.edge_gradient.empty());
  EXPECT_THROW(model->evaluate(g, std::vector<double>{1.0}, true), Error);
}

TEST(BehlerParrinello, EnergyIsInvariantUnderRotationTranslationPermutationAndImages) {
  auto model = fitted_model(small_config());
  const Structure s = alloy(4);
  const double e0 = energy(*model, s);
  const double tol = 1e-10 * (1 + std::abs(e0));

  const Eigen::Matrix3d rot = Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, -2, 0.5).normalized()).toRotationMatrix();
  Structure rotated = s;
  rotated.positions = s.positions * rot.transpose();
  rotated.cell = s.cell * rot.transpose();
  EXPECT_NEAR(energy(*model, rotated), e0, tol);

  Structure moved = s;
  moved.positions.rowwise() += Eigen::RowVector3d(0.3, -1.7, 2.2);
  EXPECT_NEAR(energy(*model, moved), e0, tol);

  Structure permuted = s;
  const int perm[4] = {2, 0, 3, 1};
  for (int a = 0; a < 4; ++a) {
    permuted.numbers[static_cast<std::size_t>(a)] = s.numbers[static_cast<std::size_t>(perm[a])];
    permuted.positions.row(a) = s.positions.row(perm[a]);
  }
  EXPECT_NEAR(energy(*model, permuted), e0, tol);

  Structure imaged = s;
  imaged.positions.row(1) += s.cell.row(0) - 2 * s.cell.row(2);
  EXPECT_NEAR(energy(*model, imaged), e0, tol);

  Structure m = molecule();
  const double em = energy(*model, m);
  m.positions = m.positions * rot.transpose();
  EXPECT_NEAR(energy(*model, m), em, 1e-10 * (1 + std::abs(em)));
}

// ---- (c) forces against finite differences ------------------------------------------------------

void expect_forces_match(BehlerParrinello& model, const Structure& s) {
  const std::vector<double> grad = gradient(model, s);
  const Eigen::MatrixXd forces =
      -Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>>(grad.data(), static_cast<Eigen::Index>(s.size()), 3);
  const double scale = forces.cwiseAbs().maxCoeff();
  EXPECT_GT(scale, 1e-4);
  matnn::testing::expect_forces_are_central_differences(
      s, forces, [&](const Structure& x) { return energy(model, x); }, 1e-6 * scale);
}

TEST(BehlerParrinello, ForcesMatchFiniteDifferences) {
  auto model = fitted_model(small_config());
  expect_forces_match(*model, alloy(5));
  expect_forces_match(*model, molecule());
  expect_forces_match(*model, slab());
  auto wide = fitted_model(json{{"cutoff", 4.0}, {"cutoff_function", "cosine"}, {"angular", {{"type", "wide"}}}});
  expect_forces_match(*wide, alloy(6));
}

// Force training differentiates twice: d/dw sum(F^2) against finite differences in one weight.
TEST(BehlerParrinello, ForceLossGradientMatchesFiniteDifferences) {
  auto model = fitted_model(json{{"cutoff", 4.0}, {"hidden", {8}}, {"activation", "silu"}});
  const Structure s = alloy(8);
  ad::Tensor w = model->network(1).named_parameters().front().second;  // Au's first weight
  auto loss = [&](bool create) {
    const AtomGraph g = build_graph(s, kCuAu, model->cutoff(), f64);
    const ad::Tensor f = ad::grad({ad::sum(model->atomic_outputs(g))}, {g.positions}, {}, create)[0];
    return ad::sum(ad::square(f));
  };
  const std::vector<double> analytic = ad::grad({loss(true)}, {w})[0].to_vector();
  double* data = w.data<double>();
  const double h = 1e-6;
  for (std::size_t k : {std::size_t{0}, std::size_t{17}, std::size_t{40}}) {
    const double keep = data[k];
    data[k] = keep + h;
    const double up = loss(false).item();
    data[k] = keep - h;
    const double down = loss(false).item();
    data[k] = keep;
    EXPECT_NEAR(analytic[k], (up - down) / (2 * h), 1e-6 * (1 + std::abs(analytic[k]))) << k;
  }
}

// ---- (d) continuity at the cutoff ---------------------------------------------------------------

// Across rc the energy changes only as the (continuous) forces predict, and the forces jump
// by O(displacement) only: shrinking the step 100x shrinks the jump about 100x (a cutoff
// function with a non-zero value or slope at rc would leave a jump of order 1e-2 .. 1). The
// cosine cutoff's curvature jump makes the O(d) term large when standardisation amplifies a
// function that is nearly dead in the fitted sample, hence the relative check.
double force_jump(BehlerParrinello& model, const std::function<Structure(double)>& at, double d) {
  const double rc = model.cutoff();
  const Structure inside = at(rc - d), outside = at(rc + d);
  const std::vector<double> gi = gradient(model, inside), go = gradient(model, outside);
  double predicted = 0, jump = 0;
  for (Eigen::Index a = 0; a < static_cast<Eigen::Index>(inside.size()); ++a)
    for (int k = 0; k < 3; ++k) {
      const auto idx = static_cast<std::size_t>(3 * a + k);
      predicted += 0.5 * (gi[idx] + go[idx]) * (outside.positions(a, k) - inside.positions(a, k));
      jump = std::max(jump, std::abs(gi[idx] - go[idx]));
    }
  EXPECT_NEAR(energy(model, outside) - energy(model, inside), predicted, 1e-8) << "step " << d;
  return jump;
}

void expect_continuous(BehlerParrinello& model, const std::function<Structure(double)>& at) {
  const double coarse = force_jump(model, at, 1e-6), fine = force_jump(model, at, 1e-8);
  EXPECT_LT(coarse, 1e-2);
  EXPECT_LT(fine, 0.05 * coarse + 1e-9);
}

Structure dimer(double r) {
  Structure s;
  s.numbers = {29, 79};
  s.positions.resize(2, 3);
  s.positions << 0, 0, 0, r, 0, 0;
  return s;
}

TEST(BehlerParrinello, EnergyAndForcesAreContinuousAtTheCutoff) {
  for (const char* fc : {"polynomial", "cosine"}) {
    auto model = fitted_model(json{{"cutoff", 4.5}, {"cutoff_function", fc}});
    // A pair crossing rc: just inside, it is (almost) two isolated atoms, without force.
    const double rc = model->cutoff();
    EXPECT_NEAR(energy(*model, dimer(rc - 1e-6)), energy(*model, dimer(rc + 1.0)), 1e-8) << fc;
    for (double g : gradient(*model, dimer(rc - 1e-6))) EXPECT_NEAR(g, 0.0, 1e-4) << fc;
    for (double g : gradient(*model, dimer(rc + 1e-6))) EXPECT_EQ(g, 0.0) << fc;
    expect_continuous(*model, dimer);
    // A triplet whose j-k distance crosses rc (the narrow functions' third cutoff factor).
    expect_continuous(*model, [](double r) {
      Structure s;
      s.numbers = {29, 79, 29};
      s.positions.resize(3, 3);
      const double phi = 20 * std::numbers::pi / 180;
      s.positions << 0, 0, 0, 2.5, 0, 0, 2.5 - r * std::cos(phi), r * std::sin(phi), 0;
      return s;
    });
  }
}

// ---- (e) extensivity ----------------------------------------------------------------------------

TEST(BehlerParrinello, SupercellEnergyIsExtensive) {
  auto model = fitted_model(small_config());
  const Structure s = alloy(9);
  const double e1 = energy(*model, s);
  EXPECT_NEAR(energy(*model, make_supercell(s, {2, 2, 2})), 8 * e1, 1e-9 * (1 + std::abs(8 * e1)));
}

// ---- (f) config ----------------------------------------------------------------------------------

matnn_status status_of(const json& config, std::string* message = nullptr) {
  try {
    BehlerParrinello model(config, kCuAu, 1);
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.status();
  }
  return MATNN_SUCCESS;
}

TEST(BehlerParrinello, ConfigRoundTripsAndRejectsBadKeys) {
  const json custom = {{"cutoff", 4.2},
                       {"cutoff_function", "cosine"},
                       {"radial", {{"count", 5}}},
                       {"angular", {{"type", "wide"}, {"zeta", {1, 2}}}},
                       {"hidden", {7}},
                       {"activation", "silu"}};
  for (const json& config : {json::object(), json(nullptr), custom}) {
    BehlerParrinello a(config, kCuAu, 3);
    const json full = a.config();
    BehlerParrinello b(full, kCuAu, 3);
    EXPECT_EQ(b.config(), full);
    EXPECT_EQ(b.n_features(), a.n_features());
    const auto sa = a.state(), sb = b.state();
    ASSERT_EQ(sa.size(), sb.size());
    for (const auto& [name, t] : sa) EXPECT_EQ(t.to_vector(), sb.at(name).to_vector()) << name;
  }
  const json full = BehlerParrinello(json::object(), kCuAu, 3).config();
  EXPECT_EQ(full.at("cutoff"), 5.0);
  EXPECT_EQ(full.at("cutoff_function"), "polynomial");
  EXPECT_EQ(full.at("hidden"), json({24, 24}));
  EXPECT_EQ(full.at("activation"), "tanh");
  EXPECT_EQ(full.at("angular").at("zeta"), json({1, 2, 4, 16}));

  BehlerParrinello model(json::object(), kCuAu, 3);
  EXPECT_EQ(model.kind(), "behler_parrinello");
  const auto names = nn::names_of(model.named_parameters());
  EXPECT_EQ(names.front(), "network.Cu.layers.0.weight");
  EXPECT_TRUE(std::find(names.begin(), names.end(), "network.Au.layers.4.bias") != names.end());
  const auto buffers = nn::names_of(model.named_buffers());
  EXPECT_EQ(buffers, (std::vector<std::string>{"input_mean", "input_std"}));

  std::string message;
  EXPECT_EQ(status_of({{"cutof", 5.0}}, &message), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("cutof"), std::string::npos) << message;
  EXPECT_EQ(status_of({{"radial", {{"number", 3}}}}, &message), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("radial.number"), std::string::npos) << message;
  EXPECT_EQ(status_of({{"activation", "relu"}}, &message), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("activation"), std::string::npos) << message;
  EXPECT_EQ(status_of({{"activation", "bogus"}}), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({{"cutoff_function", "gaussian"}}), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({{"angular", {{"lambda", {2}}}}}), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({{"angular", {{"eta", {-1.0}}}}}), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({{"angular", {{"type", "G3"}}}}), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({{"radial", {{"r_min", 6.0}}}}), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({{"hidden", {0}}}), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_THROW(BehlerParrinello(json::object(), {29, 29}, 1), Error);
}

// ---- (g) input standardisation ------------------------------------------------------------------

// Fits the model's input statistics (in float64) to three alloys and a molecule; their graph.
AtomGraph fit_to_four_structures(BehlerParrinello& model) {
  model.to(f64);
  const Structure a = alloy(20), b = alloy(21, 0.3), c = make_supercell(alloy(22), {2, 1, 1}), m = molecule();
  const Structure* all[] = {&a, &b, &c, &m};
  AtomGraph g = build_graph(std::span<const Structure* const>(all, 4), kCuAu, model.cutoff(), f64);
  model.fit_input_statistics(g, {});
  return g;
}

TEST(BehlerParrinello, FittedStatisticsStandardiseTheirGraph) {
  json config = small_config();
  config["input_scaling"] = "standard";
  BehlerParrinello model(config, kCuAu, 5);
  const AtomGraph g = fit_to_four_structures(model);
  const std::vector<double> raw = model.symmetry_function_values(g).to_vector();
  const std::vector<double> z = model.standardized_inputs(g).to_vector();
  const auto F = static_cast<std::size_t>(model.n_features());
  for (std::int32_t s = 0; s < 2; ++s) {
    for (std::size_t f = 0; f < F; ++f) {
      double n = 0, raw_mean = 0, mean = 0, sq = 0, raw_sq = 0;
      for (std::size_t i = 0; i < g.species.size(); ++i) {
        if (g.species[i] != s) continue;
        n += 1;
        mean += z[i * F + f];
        sq += z[i * F + f] * z[i * F + f];
        raw_mean += raw[i * F + f];
        raw_sq += raw[i * F + f] * raw[i * F + f];
      }
      mean /= n;
      raw_mean /= n;
      const double raw_var = raw_sq / n - raw_mean * raw_mean;
      EXPECT_NEAR(mean, 0.0, 1e-9) << s << " " << f;
      if (raw_var > 1e-10 * (1 + raw_mean * raw_mean)) {
        EXPECT_NEAR(std::sqrt(sq / n - mean * mean), 1.0, 1e-6) << s << " " << f;
      }
    }
  }
  // The statistics are buffers: they travel with state().
  BehlerParrinello copy(model.config(), kCuAu, 99);
  copy.to(f64);
  copy.load_state(model.state());
  EXPECT_EQ(copy.input_std().to_vector(), model.input_std().to_vector());
}

// n2p2's centred scaling: every function spans a width of exactly 1 over the fitted atoms, mean 0,
// and the choice travels with the model's config.
TEST(BehlerParrinello, RangeScalingGivesEveryFunctionUnitWidth) {
  BehlerParrinello model(small_config(), kCuAu, 5);  // range is the default
  const AtomGraph g = fit_to_four_structures(model);
  const std::vector<double> raw = model.symmetry_function_values(g).to_vector();
  const std::vector<double> z = model.standardized_inputs(g).to_vector();
  const auto F = static_cast<std::size_t>(model.n_features());
  int checked = 0;
  for (std::int32_t s = 0; s < 2; ++s) {
    for (std::size_t f = 0; f < F; ++f) {
      double n = 0, mean = 0, lo = 1e300, hi = -1e300, raw_lo = 1e300, raw_hi = -1e300;
      for (std::size_t i = 0; i < g.species.size(); ++i) {
        if (g.species[i] != s) continue;
        n += 1;
        mean += z[i * F + f];
        lo = std::min(lo, z[i * F + f]);
        hi = std::max(hi, z[i * F + f]);
        raw_lo = std::min(raw_lo, raw[i * F + f]);
        raw_hi = std::max(raw_hi, raw[i * F + f]);
      }
      EXPECT_NEAR(mean / n, 0.0, 1e-9) << s << " " << f;
      if (raw_hi - raw_lo > 1e-10 * (1 + std::abs(raw_hi))) {
        EXPECT_NEAR(hi - lo, 1.0, 1e-9) << s << " " << f;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, static_cast<int>(F));  // most functions of both elements vary
  EXPECT_EQ(model.config().at("input_scaling"), "range");
  BehlerParrinello copy(model.config(), kCuAu, 99);
  EXPECT_EQ(copy.config().at("input_scaling"), "range");
  json standard = small_config();
  standard["input_scaling"] = "standard";
  EXPECT_EQ(BehlerParrinello(standard, kCuAu, 1).config().at("input_scaling"), "standard");
  json bad = small_config();
  bad["input_scaling"] = "minmax";
  try {
    BehlerParrinello rejected(bad, kCuAu, 1);
    ADD_FAILURE() << "input_scaling minmax was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("model.input_scaling"), std::string::npos) << e.what();
  }
}

// ---- float32 and misuse ---------------------------------------------------------------------------

TEST(BehlerParrinello, RunsInFloat32AndRejectsAMismatchedGraph) {
  BehlerParrinello model(small_config(), kCuAu, 2);
  const Structure s = alloy(30);
  const AtomGraph g32 = build_graph(s, kCuAu, model.cutoff(), ad::DType::f32);
  const ad::Tensor out = model.atomic_outputs(g32);
  EXPECT_EQ(out.dtype(), ad::DType::f32);
  EXPECT_EQ(out.shape(), (ad::Shape{4}));
  const AtomGraph g64 = build_graph(s, kCuAu, model.cutoff(), f64);
  EXPECT_THROW(model.atomic_outputs(g64), Error);
  model.to(f64);
  const std::vector<double> o32 = out.to_vector(), o64 = model.atomic_outputs(g64).to_vector();
  for (std::size_t k = 0; k < 4; ++k) EXPECT_NEAR(o32[k], o64[k], 1e-4 * (1 + std::abs(o64[k])));
}

TEST(BehlerParrinello, IsolatedAtomsGiveFiniteOutputs) {
  auto model = fitted_model(small_config());
  Structure s;
  s.numbers = {79};
  s.positions.resize(1, 3);
  s.positions << 1, 2, 3;
  const double e = energy(*model, s);
  EXPECT_TRUE(std::isfinite(e));
}

}  // namespace
}  // namespace matnn::potentials

