# Sources of matnn_potentials, listed by the parts of the area (graph, wrapper, each model).
set(MATNN_POTENTIAL_SOURCES
  atom_graph.cpp
  model_factory.cpp
  potential.cpp
  md.cpp
  symmetry_functions.cpp
  behler_parrinello.cpp
  nequip/irreps.cpp
  nequip/spherical_harmonics.cpp
  nequip/clebsch_gordan.cpp
  nequip/radial_basis.cpp
  nequip/tensor_product.cpp
  nequip/gate.cpp
  nequip/interaction.cpp
  nequip/nequip_model.cpp
)
