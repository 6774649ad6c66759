set(MATNN_POTENTIAL_TEST_SOURCES
  test_atom_graph.cpp
)
