set(MATNN_POTENTIAL_TEST_SOURCES
  test_atom_blocks.cpp
  test_atom_graph.cpp
  test_core_repulsion.cpp
  test_behler_parrinello.cpp
  test_nequip_equivariance.cpp
  test_nequip_model.cpp
)
