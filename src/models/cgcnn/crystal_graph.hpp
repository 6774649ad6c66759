// The crystal graph of CGCNN (Xie and Grossman, PRL 120, 145301, 2018): atoms are nodes, and
// each atom is joined to its nearest neighbours (periodic images included) within a radius,
// at most `max_neighbors` of them. An edge carries the distance, expanded on Gaussians
// exp(-(d - mu_k)^2 / width^2) with centres mu_k from gaussian_min to the radius every
// gaussian_step. Defaults are the published ones and the reference code's (8 A, 12
// neighbours, centres 0 to 8 A every 0.2 A, width 0.2 A).
//
// Unlike the reference code, an atom with fewer neighbours than max_neighbors keeps only the
// real ones: no padding with fictitious neighbours at radius + 1 A. In any solid at 8 A every
// atom has far more than 12, so the graphs agree there.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "autodiff/tensor.hpp"
#include "matnn/structure.hpp"

namespace matnn::train {
class ConfigSection;
}

namespace matnn::models::cgcnn {

struct CrystalGraphOptions {
  double radius = 8.0;         ///< Angstrom
  int max_neighbors = 12;      ///< nearest neighbours kept per atom
  double gaussian_min = 0.0;   ///< first Gaussian centre, Angstrom
  double gaussian_step = 0.2;  ///< spacing of the centres, Angstrom
  double gaussian_width = 0.2; ///< width of each Gaussian, Angstrom

  /// Centres gaussian_min, gaussian_min + step, ... up to the radius: 41 for the defaults.
  std::int64_t gaussian_count() const;
  nlohmann::json to_json() const;
  /// MATNN_ERROR_MODEL on missing fields (model files).
  static CrystalGraphOptions from_json(const nlohmann::json& json);
  /// The graph keys of a config's model section (radius, max_neighbors, gaussian_step,
  /// gaussian_width), defaults elsewhere; checks them (MATNN_ERROR_INVALID_ARGUMENT).
  static CrystalGraphOptions from_config(const train::ConfigSection& model);
  /// MATNN_ERROR_INVALID_ARGUMENT unless every value is usable.
  void check() const;
};

/// One structure's graph: the neighbours of atom i are [offsets[i], offsets[i + 1]), nearest
/// first (ties broken by neighbour index, then image), so the graph does not depend on how the
/// neighbour search ordered them.
struct CrystalGraph {
  std::vector<int> numbers;
  std::vector<std::int64_t> offsets;
  std::vector<std::int32_t> neighbors;
  std::vector<float> distances;  ///< Angstrom

  std::size_t n_atoms() const noexcept { return numbers.size(); }
  std::size_t n_edges() const noexcept { return neighbors.size(); }
};

/// The graph of a structure (validated first). Any periodicity; an isolated atom has no edges.
CrystalGraph build_crystal_graph(const Structure& structure, const CrystalGraphOptions& options);

/// Graphs of many structures, in parallel; an invalid structure is an error naming its index.
std::vector<CrystalGraph> build_crystal_graphs(std::span<const Structure> structures, const CrystalGraphOptions& options);

/// Several graphs as one disjoint graph, the network's input.
struct GraphBatch {
  std::int64_t n_crystals = 0, n_atoms = 0, n_edges = 0;
  ad::Tensor atom_features;    ///< (atoms, element features): the elements' CGCNN encoding
  ad::Tensor edge_features;    ///< (edges, gaussian_count()): the expanded distances
  ad::Index center, neighbor;  ///< per edge, atom rows of the batch
  ad::Index crystal;           ///< per atom, its crystal
  ad::Tensor inverse_sizes;    ///< (crystals, 1): 1 / atoms of each crystal, for mean pooling
};

/// The batch of *graphs[k] for every k, in float32.
GraphBatch make_batch(std::span<const CrystalGraph* const> graphs, const CrystalGraphOptions& options);

}  // namespace matnn::models::cgcnn
