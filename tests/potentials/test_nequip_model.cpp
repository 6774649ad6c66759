// The NequIP-style model end to end in float64: invariance of the energy, equivariance and
// correctness of the forces, smoothness at the cutoff, extensivity and configuration handling.
#include <cmath>
#include <cstdio>
#include <random>
#include <span>

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "potentials/atom_graph.hpp"
#include "potentials/nequip/nequip_model.hpp"
#include "potential_fixtures.hpp"

namespace matnn::potentials {
namespace {

using Eigen::Matrix3d;
using Eigen::RowVector3d;

const std::vector<int> kSpecies{14, 8};

// A small config keeps the tests fast; invariance does not depend on the sizes.
nlohmann::json small_config() { return {{"channels", 6}, {"num_layers", 2}, {"radial_hidden", 12}, {"cutoff", 3.5}}; }

std::unique_ptr<NequipModel> make_model(const nlohmann::json& config, std::uint64_t seed = 1) {
  auto m = std::make_unique<NequipModel>(config, kSpecies, seed);
  m->to(ad::DType::f64);
  return m;
}

Matrix3d random_rotation(std::mt19937_64& rng) {
  std::normal_distribution<double> n(0.0, 1.0);
  Eigen::Quaterniond q(n(rng), n(rng), n(rng), n(rng));
  q.normalize();
  return q.toRotationMatrix();
}

// A distorted, triclinic periodic cell of 5 atoms (SiO-like), smaller than twice the cutoff,
// so atoms see several images of each other.
Structure crystal(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-0.25, 0.25);
  Structure s;
  s.cell << 4.1, 0.0, 0.0, 0.7, 3.9, 0.0, -0.4, 0.5, 4.3;
  s.pbc = {true, true, true};
  const double frac[5][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}, {0.25, 0.25, 0.75}};
  s.positions.resize(5, 3);
  for (int a = 0; a < 5; ++a)
    s.positions.row(a) = RowVector3d(frac[a][0], frac[a][1], frac[a][2]) * s.cell + RowVector3d(u(rng), u(rng), u(rng));
  s.numbers = {14, 8, 8, 14, 8};
  return s;
}

// A chiral non-periodic cluster.
Structure cluster() {
  Structure s;
  s.positions.resize(5, 3);
  s.positions << 0.0, 0.0, 0.0, 1.6, 0.1, -0.2, -0.3, 1.5, 0.4, 0.2, -0.4, 1.7, 1.1, 1.3, 1.2;
  s.numbers = {14, 8, 8, 14, 8};
  return s;
}

double energy(NequipModel& m, const Structure& s) {
  const AtomGraph g = build_graph(s, m.species(), m.cutoff(), ad::DType::f64);
  return ad::sum(m.atomic_outputs(g)).item();
}

// Energy and forces (n x 3).
std::pair<double, Eigen::MatrixXd> energy_forces(NequipModel& m, const Structure& s) {
  const AtomGraph g = build_graph(s, m.species(), m.cutoff(), ad::DType::f64);
  const ad::Tensor e = ad::sum(m.atomic_outputs(g));
  const std::vector<double> grad = ad::grad({e}, {g.positions})[0].to_vector();
  Eigen::MatrixXd f(g.n_atoms, 3);
  for (int64_t i = 0; i < g.n_atoms; ++i)
    for (int k = 0; k < 3; ++k) f(i, k) = -grad[static_cast<std::size_t>(3 * i + k)];
  return {e.item(), f};
}

Structure rotated(const Structure& s, const Matrix3d& rot) {
  Structure r = s;
  r.positions = s.positions * rot.transpose();
  r.cell = s.cell * rot.transpose();
  return r;
}

void expect_rel(double a, double b, double tol) { EXPECT_LE(std::abs(a - b), tol * std::max(1.0, std::abs(b))) << a << " vs " << b; }

TEST(Nequip, EnergyInvariantUnderRotationInversionTranslationPermutationAndImages) {
  auto model = make_model(nlohmann::json::object());  // the defaults: 3 layers, l_max 2, parity
  std::mt19937_64 rng(2);
  for (const Structure& s : {crystal(1), cluster()}) {
    const double e0 = energy(*model, s);
    EXPECT_TRUE(std::isfinite(e0));
    EXPECT_GT(std::abs(e0), 1e-6);
    for (int t = 0; t < 2; ++t) expect_rel(energy(*model, rotated(s, random_rotation(rng))), e0, 1e-10);
    Structure inv = s;  // inversion through the origin (a lattice is inversion symmetric)
    inv.positions = -s.positions;
    expect_rel(energy(*model, inv), e0, 1e-10);
    Structure moved = s;
    moved.positions.rowwise() += RowVector3d(0.37, -1.21, 2.05);
    expect_rel(energy(*model, moved), e0, 1e-10);
    Structure perm = s;  // reverse the atom order
    const auto n = static_cast<Eigen::Index>(s.size());
    for (Eigen::Index i = 0; i < n; ++i) {
      perm.positions.row(i) = s.positions.row(n - 1 - i);
      perm.numbers[static_cast<std::size_t>(i)] = s.numbers[static_cast<std::size_t>(n - 1 - i)];
    }
    expect_rel(energy(*model, perm), e0, 1e-10);
    if (s.fully_periodic()) {
      Structure image = s;  // other periodic images of two atoms
      image.positions.row(1) += s.cell.row(0) - 2 * s.cell.row(2);
      image.positions.row(3) -= s.cell.row(1);
      expect_rel(energy(*model, image), e0, 1e-10);
    }
  }
}

TEST(Nequip, WithoutParityOnlyRotationInvariant) {
  nlohmann::json config = small_config();
  config["parity"] = false;
  config["num_layers"] = 3;  // a pseudoscalar like r1 . (r2 x r3) needs three couplings
  auto model = make_model(config, 4);
  std::mt19937_64 rng(3);
  const Structure s = cluster();
  const double e0 = energy(*model, s);
  expect_rel(energy(*model, rotated(s, random_rotation(rng))), e0, 1e-10);
  // A chiral cluster and its mirror image differ in energy under an SO(3)-only model.
  Structure inv = s;
  inv.positions = -s.positions;
  EXPECT_GT(std::abs(energy(*model, inv) - e0), 1e-9 * std::abs(e0));
}

TEST(Nequip, LMaxThreeIsInvariant) {
  nlohmann::json config = small_config();
  config["l_max"] = 3;
  auto model = make_model(config, 5);
  std::mt19937_64 rng(4);
  const Structure s = crystal(3);
  const double e0 = energy(*model, s);
  expect_rel(energy(*model, rotated(s, random_rotation(rng))), e0, 1e-10);
  Structure inv = s;
  inv.positions = -s.positions;
  expect_rel(energy(*model, inv), e0, 1e-10);
}

TEST(Nequip, ForcesAreEquivariant) {
  auto model = make_model(small_config());
  std::mt19937_64 rng(6);
  for (const Structure& s : {crystal(4), cluster()}) {
    const auto [e0, f0] = energy_forces(*model, s);
    const Matrix3d rot = random_rotation(rng);
    const auto [e1, f1] = energy_forces(*model, rotated(s, rot));
    expect_rel(e1, e0, 1e-10);
    const Eigen::MatrixXd expected = f0 * rot.transpose();
    EXPECT_LT((f1 - expected).cwiseAbs().maxCoeff(), 1e-10 * std::max(1.0, f0.cwiseAbs().maxCoeff()));
    EXPECT_GT(f0.cwiseAbs().maxCoeff(), 1e-6);
    if (!s.any_periodic()) {
      EXPECT_LT(f0.colwise().sum().cwiseAbs().maxCoeff(), 1e-12);  // Newton's third law
    }
  }
}

// Every force component against the central difference of the energy.
void expect_forces_match_finite_differences(NequipModel& model, const Structure& s) {
  const auto [e0, f] = energy_forces(model, s);
  matnn::testing::expect_forces_are_central_differences(
      s, f, [&](const Structure& x) { return energy(model, x); }, 1e-6 * std::max(1.0, f.cwiseAbs().maxCoeff()));
}

TEST(Nequip, ForcesMatchFiniteDifferences) {
  auto model = make_model(small_config());
  for (const Structure& s : {crystal(5), cluster()}) expect_forces_match_finite_differences(*model, s);
}

TEST(Nequip, NonlinearReadoutIsInvariantWithFiniteDifferenceForcesAndRoundTrips) {
  nlohmann::json config = small_config();
  config["readout_hidden"] = 5;
  auto model = make_model(config);
  const auto params = model->named_parameters();
  ASSERT_EQ(params[2].first, "readout_output");
  EXPECT_EQ(params[1].second.shape(), (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(params[2].second.shape(), (std::vector<int64_t>{5, 1}));
  const Structure s = crystal(5);
  const double e0 = energy(*model, s);
  std::mt19937_64 rng(4);
  expect_rel(energy(*model, rotated(s, random_rotation(rng))), e0, 1e-10);
  expect_forces_match_finite_differences(*model, s);
  auto copy = make_model(model->config(), 99);
  copy->load_state(model->state());
  EXPECT_EQ(energy(*copy, s), e0);
  // Linear in the output layer, not in the hidden one (a readout without its silu would be).
  auto scale = [](const ad::Tensor& t, double by) {
    for (double& v : std::span(t.data<double>(), static_cast<std::size_t>(t.numel()))) v *= by;
  };
  scale(params[2].second, 2.0);
  expect_rel(energy(*model, s), 2.0 * e0, 1e-12);
  scale(params[2].second, 0.5);
  scale(params[1].second, 2.0);
  EXPECT_GT(std::abs(energy(*model, s) - 2.0 * e0), 1e-3 * std::abs(e0));
  // Without the key, a model is the linear-readout model it always was (older files load).
  config.erase("readout_hidden");
  EXPECT_EQ(make_model(config)->named_parameters().size() + 1, params.size());
}

TEST(Nequip, EnergyAndForcesContinuousAcrossTheCutoff) {
  auto model = make_model(small_config());
  const double rc = model->cutoff();
  // A bonded pair and a third atom leaving the second one's sphere along x (it stays far
  // from the first).
  auto config_at = [&](double d) {
    Structure s;
    s.positions.resize(3, 3);
    s.positions << -1.6, 0.0, 0.0, 0.0, 0.0, 0.0, d, 0.0, 0.0;
    s.numbers = {14, 8, 14};
    return s;
  };
  const double delta = 1e-6;
  const auto [ein, fin] = energy_forces(*model, config_at(rc - delta));
  const auto [eout, fout] = energy_forces(*model, config_at(rc + delta));
  EXPECT_NEAR(ein, eout, 1e-12);
  EXPECT_LT((fin - fout).cwiseAbs().maxCoeff(), 1e-9);
  // The third atom's influence really switches on inside the cutoff.
  const auto [enear, fnear] = energy_forces(*model, config_at(rc - 0.5));
  EXPECT_GT(std::abs(enear - eout), 1e-6);
  EXPECT_GT(std::abs(fnear(2, 0)), 1e-6);
  EXPECT_EQ(fout(2, 0), 0.0);
}

TEST(Nequip, SupercellIsExtensive) {
  auto model = make_model(small_config());
  const Structure s = crystal(6);
  const double e1 = energy(*model, s);
  const double e8 = energy(*model, make_supercell(s, {2, 2, 2}));
  expect_rel(e8, 8 * e1, 1e-10);
}

TEST(Nequip, IsolatedAtomsHaveNoEdges) {
  auto model = make_model(small_config());
  Structure s;
  s.positions.resize(2, 3);
  s.positions << 0, 0, 0, 10, 0, 0;
  s.numbers = {14, 8};
  const AtomGraph g = build_graph(s, model->species(), model->cutoff(), ad::DType::f64);
  ASSERT_EQ(g.n_edges, 0);
  const ad::Tensor e = ad::sum(model->atomic_outputs(g));
  EXPECT_TRUE(std::isfinite(e.item()));
  // The energy does not depend on the positions at all (the wrapper must allow unused inputs).
  const std::vector<double> f = ad::grad({e}, {g.positions}, {}, false, true)[0].to_vector();
  for (double v : f) EXPECT_EQ(v, 0.0);
  // Each isolated atom still gets its species-dependent output.
  const std::vector<double> out = model->atomic_outputs(g).to_vector();
  EXPECT_NE(out[0], out[1]);
}

TEST(Nequip, ForceTrainingGradientMatchesFiniteDifferences) {
  // d/dtheta of sum F^2 (a force loss) needs the second derivative of the energy.
  auto model = make_model(small_config());
  const Structure s = cluster();
  auto force_loss = [&](bool create_graph) {
    const AtomGraph g = build_graph(s, model->species(), model->cutoff(), ad::DType::f64);
    const ad::Tensor e = ad::sum(model->atomic_outputs(g));
    const ad::Tensor f = ad::grad({e}, {g.positions}, {}, create_graph)[0];
    return ad::sum(ad::square(f));
  };
  const auto params = model->named_parameters();
  const ad::Tensor loss = force_loss(true);
  for (const auto& [name, p] : params) {
    if (name.find("radial.0") == std::string::npos && name.find("linear_2.1o") == std::string::npos) continue;
    const double analytic = ad::grad({loss}, {p})[0].to_vector()[0];
    double* v = p.data<double>();
    const double h = 1e-6, keep = v[0];
    v[0] = keep + h;
    const double lp = force_loss(false).item();
    v[0] = keep - h;
    const double lm = force_loss(false).item();
    v[0] = keep;
    EXPECT_NEAR(analytic, (lp - lm) / (2 * h), 1e-6 * std::max(1.0, std::abs(analytic))) << name;
  }
}

// Energies and dE/d(edge vectors) of the inference graph (tabulated radial networks) and of the
// training graph (the networks themselves), in float64.
struct EdgeEvaluation {
  std::vector<double> energies, edge_gradient;
};
EdgeEvaluation evaluate_edges(NequipModel& m, const Structure& s, bool inference) {
  const AtomGraph g = build_graph(s, m.species(), m.cutoff(), ad::DType::f64, GraphOptions{.inference = inference});
  const ad::Tensor out = m.atomic_outputs(g);
  return {out.to_vector(), ad::grad({ad::sum(out)}, {g.edge_vectors})[0].to_vector()};
}

void expect_close_to_the_networks(NequipModel& m, const Structure& s, const std::string& what) {
  const EdgeEvaluation table = evaluate_edges(m, s, true), networks = evaluate_edges(m, s, false);
  ASSERT_EQ(table.edge_gradient.size(), networks.edge_gradient.size());
  double e_scale = 0, g_scale = 0;
  for (double v : networks.energies) e_scale = std::max(e_scale, std::abs(v));
  for (double v : networks.edge_gradient) g_scale = std::max(g_scale, std::abs(v));
  for (std::size_t i = 0; i < table.energies.size(); ++i)
    EXPECT_NEAR(table.energies[i], networks.energies[i], 1e-10 * e_scale) << what << ", atom " << i;
  for (std::size_t i = 0; i < table.edge_gradient.size(); ++i)
    EXPECT_NEAR(table.edge_gradient[i], networks.edge_gradient[i], 1e-8 * g_scale) << what << ", edge " << i / 3;
}

TEST(Nequip, TabulatedRadialNetworksMatchTheNetworks) {
  const nlohmann::json other = {{"channels", 4}, {"num_layers", 2}, {"radial_hidden", 10}, {"radial_layers", 1},
                                {"num_basis", 5}, {"envelope_p", 3}, {"cutoff", 3.2}};
  // The shipped Cu recipe's radial basis: 32 Bessel functions, the fastest 0.35 A in wavelength.
  const nlohmann::json fine_basis = {{"channels", 4}, {"num_layers", 2}, {"num_basis", 32}, {"cutoff", 5.6}};
  for (const nlohmann::json& config : {small_config(), other, fine_basis}) {
    auto model = make_model(config);
    expect_close_to_the_networks(*model, crystal(8), "crystal, " + config.dump());
    expect_close_to_the_networks(*model, cluster(), "cluster, " + config.dump());
  }
}

TEST(Nequip, TabulatedRadialNetworksFollowNewWeights) {
  auto model = make_model(small_config());
  const Structure s = crystal(9);
  (void)evaluate_edges(*model, s, true);  // tabulates the initial weights
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0.0, 0.2);
  for (const auto& [name, p] : model->named_parameters()) {
    if (name.find(".radial.") == std::string::npos) continue;
    double* v = p.data<double>();
    for (int64_t i = 0; i < p.numel(); ++i) v[i] += noise(rng);
  }
  expect_close_to_the_networks(*model, s, "after a weight change");
}

TEST(Nequip, TabulatedRadialNetworksRefuseSecondDerivatives) {
  auto model = make_model(small_config());
  const AtomGraph g = build_graph(cluster(), model->species(), model->cutoff(), ad::DType::f64,
                                  GraphOptions{.inference = true});
  const ad::Tensor e = ad::sum(model->atomic_outputs(g));
  try {
    (void)ad::grad({e}, {g.edge_vectors}, {}, /*create_graph=*/true);
    ADD_FAILURE() << "a second-order graph through the radial tables was built";
  } catch (const Error& err) {
    EXPECT_EQ(err.status(), MATNN_ERROR_INTERNAL);
    EXPECT_NE(std::string(err.what()).find("differentiable once"), std::string::npos) << err.what();
  }
}

TEST(Nequip, ConfigRoundTripAndParameterLayout) {
  nlohmann::json config = small_config();
  config["parity"] = true;
  NequipModel a(config, kSpecies, 7);
  EXPECT_EQ(a.kind(), "nequip");
  EXPECT_DOUBLE_EQ(a.cutoff(), 3.5);
  const nlohmann::json full = a.config();
  for (const char* key : {"channels", "l_max", "num_layers", "num_basis", "cutoff", "envelope_p", "radial_hidden",
                          "radial_layers", "avg_num_neighbors", "parity", "resnet", "readout_hidden"})
    EXPECT_TRUE(full.contains(key)) << key;
  NequipModel b(full, kSpecies, 99);
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].first, pb[i].first);
    EXPECT_EQ(pa[i].second.shape(), pb[i].second.shape()) << pa[i].first;
  }
  EXPECT_EQ(b.config(), full);
  b.load_state(a.state());  // same names and shapes: loads
  // Parameter names are stable and readable.
  EXPECT_EQ(pa[0].first, "embedding");
  EXPECT_EQ(pa[1].first, "readout");
  EXPECT_EQ(pa.back().first, "interaction_1.self_connection.0e");
  bool has = false;
  for (const auto& [name, t] : pa) has = has || name == "interaction_0.linear_2.1o";
  EXPECT_TRUE(has);
  // Layer irreps: 0e -> {0e, 1o, 2e} -> last layer only 0e.
  const auto irreps = a.layer_irreps();
  ASSERT_EQ(irreps.size(), 2u);
  EXPECT_EQ(irreps[0].size(), 3u);
  EXPECT_EQ(irreps[1], (std::vector<nequip::Irrep>{{0, 1}}));
  // Same seed, same model.
  NequipModel c(full, kSpecies, 7);
  a.to(ad::DType::f64);
  c.to(ad::DType::f64);
  const Structure s = crystal(8);
  EXPECT_EQ(energy(a, s), energy(c, s));
}

TEST(Nequip, BadConfigsAreRejected) {
  const std::vector<nlohmann::json> bad{
      {{"channels", 0}},        {{"l_max", -1}},          {{"l_max", 7}},       {{"num_layers", 0}},
      {{"cutoff", -1.0}},       {{"cutoff", "far"}},      {{"parity", "yes"}},  {{"avg_num_neighbors", 0}},
      {{"num_basis", 2.5}},     {{"radial_layer", 2}},    {{"envelope_p", 0}},  {{"radial_hidden", 0}},
      {{"readout_hidden", -1}}};
  for (const auto& config : bad) {
    try {
      NequipModel m(config, kSpecies, 1);
      ADD_FAILURE() << "accepted " << config.dump();
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), MATNN_ERROR_INVALID_ARGUMENT) << config.dump();
    }
  }
  EXPECT_THROW(NequipModel(nlohmann::json::object(), {}, 1), Error);
  EXPECT_THROW(NequipModel(nlohmann::json::object(), {8, 8}, 1), Error);
  // The model and the graph must share a dtype.
  NequipModel m(small_config(), kSpecies, 1);
  const AtomGraph g = build_graph(cluster(), kSpecies, 3.5, ad::DType::f64);
  EXPECT_THROW(m.atomic_outputs(g), Error);
}

}  // namespace
}  // namespace matnn::potentials
