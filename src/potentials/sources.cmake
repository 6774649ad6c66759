# Sources of matnn_potentials, listed by the parts of the area (graph, wrapper, each model).
set(MATNN_POTENTIAL_SOURCES
  atom_graph.cpp
  model_factory.cpp
  potential.cpp
  md.cpp
)
