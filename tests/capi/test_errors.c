/* Mistakes on purpose: every bad input the C interface documents, each with its status and a
   message (matnn_last_error, matnn_model_last_error) naming the problem; failed calls leave
   their outputs untouched; nothing crashes or throws.
   Usage: test_capi_errors DIR (with potential.h5 and property.h5 from test_capi_train) */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define SENTINEL 12345.0

static matnn_model* load(const char* dir, const char* name) {
  char path[4096];
  matnn_model* model = NULL;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  CHECK_OK(matnn_model_load(path, NULL, &model));
  return model;
}

static void load_errors(const char* dir) {
  char path[4096];
  matnn_load_options options;
  matnn_model* model = (matnn_model*)&options; /* must be reset to NULL on failure */
  FILE* f;

  CHECK_FAILS(matnn_model_load(NULL, NULL, &model), MATNN_ERROR_INVALID_ARGUMENT, "path is NULL");
  CHECK(model == NULL);
  snprintf(path, sizeof path, "%s/potential.h5", dir);
  CHECK_FAILS(matnn_model_load(path, NULL, NULL), MATNN_ERROR_INVALID_ARGUMENT, "model is NULL");
  snprintf(path, sizeof path, "%s/no-such-model.h5", dir);
  CHECK_FAILS(matnn_model_load(path, NULL, &model), MATNN_ERROR_IO, "no-such-model.h5");
  /* A corrupt model file. */
  snprintf(path, sizeof path, "%s/corrupt.h5", dir);
  f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs("this is not an HDF5 file", f);
    fclose(f);
  }
  CHECK_FAILS(matnn_model_load(path, NULL, &model), MATNN_ERROR_MODEL, "corrupt.h5");
  /* Options. */
  snprintf(path, sizeof path, "%s/potential.h5", dir);
  CHECK_FAILS(matnn_load_options_init(NULL), MATNN_ERROR_INVALID_ARGUMENT, "options");
  CHECK_OK(matnn_load_options_init(&options));
  options.units = (matnn_units)7;
  CHECK_FAILS(matnn_model_load(path, &options, &model), MATNN_ERROR_INVALID_ARGUMENT, "units");
  CHECK_OK(matnn_load_options_init(&options));
  options.precision = (matnn_precision)-1;
  CHECK_FAILS(matnn_model_load(path, &options, &model), MATNN_ERROR_INVALID_ARGUMENT, "precision");
  CHECK_OK(matnn_load_options_init(&options));
  options.struct_size = 0;
  CHECK_FAILS(matnn_model_load(path, &options, &model), MATNN_ERROR_INVALID_ARGUMENT, "struct_size");
  CHECK_OK(matnn_load_options_init(&options));
  options.precision = MATNN_PRECISION_FLOAT64;
  snprintf(path, sizeof path, "%s/property.h5", dir);
  CHECK_FAILS(matnn_model_load(path, &options, &model), MATNN_ERROR_UNSUPPORTED, "float32");
  CHECK(model == NULL);
}

/* A host built against ABI 1 has a results struct of 8 pointer-sized fields and calls the
   deprecated matnn_potential_results_init: the library must write those bytes and no more. */
static void old_host_init(void) {
  union {
    matnn_potential_results results;
    unsigned char bytes[sizeof(matnn_potential_results) + 64];
  } memory;
  const size_t abi1_size = offsetof(matnn_potential_results, max_force_deviation) + sizeof(double*);
  size_t i;
  memset(memory.bytes, 0xA5, sizeof memory.bytes);
  CHECK_OK(matnn_potential_results_init(&memory.results));
  CHECK(memory.results.struct_size == abi1_size);
  CHECK(memory.results.energy == NULL && memory.results.max_force_deviation == NULL);
  for (i = abi1_size; i < sizeof memory.bytes; ++i) CHECK(memory.bytes[i] == 0xA5);
}

static void compute_errors(const matnn_model* potential, const matnn_model* property) {
  /* A Cu-Ni dimer, and a one-atom periodic cell much smaller than the cutoff (allowed). */
  int z[2] = {29, 28};
  double x[6] = {0, 0, 0, 2.4, 0, 0};
  double cell[9] = {5, 0, 0, 0, 5, 0, 0, 0, 5};
  const double small_cell[9] = {1.6, 0, 0, 0, 1.6, 0, 0, 0, 1.6};
  const int periodic[3] = {1, 1, 1};
  double e = SENTINEL, s[6], forces[6];
  matnn_potential_results r;

  CHECK_FAILS(matnn_potential_results_init(NULL), MATNN_ERROR_INVALID_ARGUMENT, "results");
  CHECK_FAILS(matnn_potential_results_init2(NULL, sizeof r), MATNN_ERROR_INVALID_ARGUMENT, "results");
  CHECK_FAILS(matnn_potential_results_init2(&r, 3 * sizeof(double*)), MATNN_ERROR_INVALID_ARGUMENT, "struct_size");
  old_host_init();
  CHECK_OK(matnn_potential_results_init2(&r, sizeof r));
  r.energy = &e;
  CHECK_FAILS(matnn_potential_compute(NULL, 2, z, x, NULL, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "model is NULL");
  CHECK_FAILS(matnn_potential_compute(potential, 2, NULL, x, NULL, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "atomic_numbers");
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, NULL, NULL, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "positions");
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, x, NULL, NULL, NULL), MATNN_ERROR_INVALID_ARGUMENT, "results");
  CHECK_FAILS(matnn_potential_compute(potential, 0, z, x, NULL, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "natoms");
  CHECK_FAILS(matnn_potential_compute(potential, -3, z, x, NULL, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "natoms");
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, x, NULL, periodic, &r), MATNN_ERROR_INVALID_ARGUMENT, "cell is NULL");
  r.struct_size = 4;
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, x, NULL, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "struct_size");
  r.struct_size = sizeof r;
  CHECK_FAILS(matnn_potential_compute(property, 2, z, x, NULL, NULL, &r), MATNN_ERROR_MODEL, "not a potential");

  x[4] = NAN;
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, x, NULL, NULL, &r), MATNN_ERROR_NON_FINITE, "positions[4]");
  x[4] = 0;
  cell[8] = INFINITY;
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, x, cell, periodic, &r), MATNN_ERROR_NON_FINITE, "cell[8]");
  cell[8] = 5;
  z[1] = 79;
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, x, NULL, NULL, &r), MATNN_ERROR_UNKNOWN_ELEMENT, "79");
  z[1] = 28;
  cell[3] = 5; /* b = a: a singular cell */
  cell[4] = 0;
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, x, cell, periodic, &r), MATNN_ERROR_SINGULAR_CELL, "cell");
  cell[3] = 0;
  cell[4] = 5;
  x[3] = 0;
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, x, NULL, NULL, &r), MATNN_ERROR_GEOMETRY, "overlap");
  x[3] = 2.4;
  r.stress = s;
  CHECK_FAILS(matnn_potential_compute(potential, 2, z, x, NULL, NULL, &r), MATNN_ERROR_UNSUPPORTED, "stress");
  CHECK(e == SENTINEL); /* no failed call wrote an output */
  CHECK(strstr(matnn_model_last_error(potential), "stress") != NULL);
  CHECK(strstr(matnn_model_last_error(property), "not a potential") != NULL);

  /* A periodic cell smaller than the cutoff is fine: the neighbour list sums the images. */
  r.forces = forces;
  CHECK_OK(matnn_potential_compute(potential, 1, z, x, small_cell, periodic, &r));
  CHECK(isfinite(e) && isfinite(s[0]) && fabs(forces[0]) < 1e-4);
  CHECK_OK(matnn_potential_compute(potential, 2, z, x, cell, periodic, &r));
  CHECK(isfinite(e));

  /* compute_local. */
  r.stress = NULL;
  CHECK_FAILS(matnn_potential_compute_local(potential, -1, 2, z, x, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "natoms_local");
  CHECK_FAILS(matnn_potential_compute_local(potential, 1, -1, z, x, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "natoms_ghost");
  CHECK_FAILS(matnn_potential_compute_local(potential, 0, 0, z, x, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "> 0");
  CHECK_FAILS(matnn_potential_compute_local(property, 1, 1, z, x, NULL, &r), MATNN_ERROR_MODEL, "not a potential");
  r.stress = s;
  CHECK_FAILS(matnn_potential_compute_local(potential, 1, 1, z, x, NULL, &r), MATNN_ERROR_UNSUPPORTED, "stress");
  r.stress = NULL;
  CHECK_OK(matnn_potential_compute_local(potential, 1, 1, z, x, NULL, &r));

  /* compute_local2's host neighbour list (two atoms 2.4 A apart, both within the cutoff). */
  {
    const int offsets[3] = {0, 1, 2}, neighbors[2] = {1, 0};
    const int self[2] = {0, 0}, outside[2] = {1, 2}, twice[3] = {1, 1, 0};
    const int twice_offsets[3] = {0, 2, 3}, decreasing[3] = {0, 2, 1}, not_zero[3] = {1, 1, 2};
    double e_own = SENTINEL;
    CHECK_OK(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, offsets, neighbors, &r));
    e_own = e;
    CHECK_OK(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, NULL, NULL, &r));
    CHECK_CLOSE(e, e_own, 1e-6, 1e-9);
    CHECK_FAILS(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, offsets, NULL, &r),
                MATNN_ERROR_INVALID_ARGUMENT, "both");
    CHECK_FAILS(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, NULL, neighbors, &r),
                MATNN_ERROR_INVALID_ARGUMENT, "both");
    CHECK_FAILS(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, offsets, self, &r),
                MATNN_ERROR_INVALID_ARGUMENT, "atom 0 is listed as its own neighbour");
    CHECK_FAILS(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, offsets, outside, &r),
                MATNN_ERROR_INVALID_ARGUMENT, "neighbours of atom 1: index 2 is not an atom");
    CHECK_FAILS(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, twice_offsets, twice, &r),
                MATNN_ERROR_INVALID_ARGUMENT, "atom 1 is listed twice");
    CHECK_FAILS(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, decreasing, neighbors, &r),
                MATNN_ERROR_INVALID_ARGUMENT, "decrease at atom 1");
    CHECK_FAILS(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, not_zero, neighbors, &r),
                MATNN_ERROR_INVALID_ARGUMENT, "not 0");
    CHECK_FAILS(matnn_potential_compute_local2(potential, 2, 0, z, x, NULL, offsets, neighbors, NULL),
                MATNN_ERROR_INVALID_ARGUMENT, "results");
    CHECK(strstr(matnn_last_error(), "matnn_potential_compute_local2") != NULL);
    CHECK_FAILS(matnn_potential_compute_local(potential, -1, 2, z, x, NULL, &r), MATNN_ERROR_INVALID_ARGUMENT, "natoms_local");
    CHECK(strstr(matnn_last_error(), "matnn_potential_compute_local:") != NULL);
  }
}

static void query_errors(const matnn_model* potential, const matnn_model* property) {
  double cutoff;
  const char* name;
  int n;
  unsigned flags;
  matnn_model_kind kind;
  CHECK_FAILS(matnn_model_kind_of(NULL, &kind), MATNN_ERROR_INVALID_ARGUMENT, "model is NULL");
  CHECK_FAILS(matnn_model_kind_of(potential, NULL), MATNN_ERROR_INVALID_ARGUMENT, "kind is NULL");
  CHECK_FAILS(matnn_model_num_species(potential, NULL), MATNN_ERROR_INVALID_ARGUMENT, "n is NULL");
  CHECK_FAILS(matnn_model_species(potential, NULL), MATNN_ERROR_INVALID_ARGUMENT, "atomic_numbers");
  CHECK_FAILS(matnn_model_outputs(NULL, &flags), MATNN_ERROR_INVALID_ARGUMENT, "model");
  CHECK_FAILS(matnn_model_cutoff(property, &cutoff), MATNN_ERROR_MODEL, "not a potential");
  CHECK_FAILS(matnn_model_interaction_range(property, &cutoff), MATNN_ERROR_MODEL, "not a potential");
  CHECK_FAILS(matnn_property_name(potential, &name), MATNN_ERROR_MODEL, "not a property model");
  CHECK_FAILS(matnn_property_num_classes(potential, &n), MATNN_ERROR_MODEL, "not a property model");
  CHECK(matnn_model_last_error(NULL) == NULL);
}

static void property_errors(const matnn_model* potential, const matnn_model* property) {
  int z[2] = {29, 28};
  double fractions[4] = {0.5, 0.5, 1.0, 0.0};
  double values[2] = {SENTINEL, SENTINEL}, probabilities[4];
  const int natoms[2] = {1, 1};
  CHECK_FAILS(matnn_property_predict_compositions(potential, 2, 2, z, fractions, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_MODEL, "not a property model");
  CHECK_FAILS(matnn_property_predict_compositions(property, 0, 2, z, fractions, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "n must be > 0");
  CHECK_FAILS(matnn_property_predict_compositions(property, 2, -2, z, fractions, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "n_elements");
  CHECK_FAILS(matnn_property_predict_compositions(property, 2, 2, z, fractions, 0, NULL, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "values");
  CHECK_FAILS(matnn_property_predict_compositions(property, 2, 2, z, fractions, -1, values, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "mc_samples");
  CHECK_FAILS(matnn_property_predict_compositions(property, 2, 2, z, fractions, 0, values, NULL, NULL, probabilities),
              MATNN_ERROR_INVALID_ARGUMENT, "probabilities");
  fractions[1] = -0.5;
  CHECK_FAILS(matnn_property_predict_compositions(property, 2, 2, z, fractions, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "negative");
  fractions[1] = NAN;
  CHECK_FAILS(matnn_property_predict_compositions(property, 2, 2, z, fractions, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_NON_FINITE, "fractions[0][1]");
  fractions[1] = 0;
  fractions[0] = 0;
  CHECK_FAILS(matnn_property_predict_compositions(property, 2, 2, z, fractions, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "sums to 0");
  fractions[0] = 0.5;
  z[1] = 29;
  CHECK_FAILS(matnn_property_predict_compositions(property, 2, 2, z, fractions, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "repeats");
  z[1] = 0;
  CHECK_FAILS(matnn_property_predict_compositions(property, 2, 2, z, fractions, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_UNKNOWN_ELEMENT, "atomic_numbers[1]");
  z[1] = 200;
  CHECK_FAILS(matnn_property_predict_structures(property, 2, natoms, z, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_UNKNOWN_ELEMENT, "200");
  CHECK_FAILS(matnn_property_predict_structures(property, 2, NULL, z, 0, values, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "natoms");
  CHECK(values[0] == SENTINEL && values[1] == SENTINEL);
}

/* matnn_dataset_append(): bad arguments name what is wrong, and a failed call leaves an existing
   dataset as it was (the good call's structure is still the only one: appending it again
   gives a file that a later bad call does not change in size). */
static void dataset_errors(const char* dir) {
  char path[4096];
  FILE* f;
  long size_before = -1, size_after = -2;
  const int natoms[2] = {2, 1};
  const int z[3] = {29, 29, 29};
  double positions[9] = {0, 0, 0, 1.8, 0, 0, 0, 0, 0};
  const double cells[18] = {3.6, 0, 0, 0, 3.6, 0, 0, 0, 3.6, 3.6, 0, 0, 0, 3.6, 0, 0, 0, 3.6};
  const int slab[6] = {1, 1, 0, 1, 1, 0};
  double energies[2] = {-7.0, -3.5};
  snprintf(path, sizeof path, "%s/appended.h5", dir);
  remove(path);
  CHECK_FAILS(matnn_dataset_append(NULL, MATNN_UNITS_METAL, 1, natoms, z, positions, NULL, NULL, NULL, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "path");
  CHECK_FAILS(matnn_dataset_append(path, MATNN_UNITS_METAL, 0, natoms, z, positions, NULL, NULL, NULL, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "nstructures");
  CHECK_FAILS(matnn_dataset_append(path, (matnn_units)9, 1, natoms, z, positions, NULL, NULL, NULL, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "units");
  CHECK_FAILS(matnn_dataset_append(path, MATNN_UNITS_METAL, 2, natoms, z, positions, NULL, slab, NULL, NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "cells is NULL");
  CHECK_OK(matnn_dataset_append(path, MATNN_UNITS_METAL, 2, natoms, z, positions, cells, NULL, energies, NULL, NULL, "bulk"));
  f = fopen(path, "rb");
  CHECK(f != NULL);
  if (f) {
    fseek(f, 0, SEEK_END);
    size_before = ftell(f);
    fclose(f);
  }
  positions[4] = (double)NAN; /* y of the second atom */
  CHECK_FAILS(matnn_dataset_append(path, MATNN_UNITS_METAL, 2, natoms, z, positions, cells, NULL, energies, NULL, NULL, NULL),
              MATNN_ERROR_NON_FINITE, "positions of structure 0");
  positions[4] = 0.0;
  energies[1] = (double)INFINITY;
  CHECK_FAILS(matnn_dataset_append(path, MATNN_UNITS_METAL, 2, natoms, z, positions, cells, NULL, energies, NULL, NULL, NULL),
              MATNN_ERROR_NON_FINITE, "energies");
  f = fopen(path, "rb");
  if (f) {
    fseek(f, 0, SEEK_END);
    size_after = ftell(f);
    fclose(f);
  }
  CHECK(size_after == size_before);
}

int main(int argc, char** argv) {
  matnn_model *potential, *property;
  if (argc != 2) return 2;
  CHECK(strcmp(matnn_last_error(), "") == 0); /* nothing failed yet on this thread */
  matnn_model_destroy(NULL);                  /* accepted, does nothing */
  CHECK(strcmp(matnn_status_string(MATNN_ERROR_NON_FINITE), "MATNN_ERROR_NON_FINITE") == 0);
  CHECK(strcmp(matnn_status_string(MATNN_SUCCESS), "MATNN_SUCCESS") == 0);
  CHECK(strcmp(matnn_status_string((matnn_status)1234), "MATNN_ERROR_UNKNOWN_STATUS") == 0);

  load_errors(argv[1]);
  potential = load(argv[1], "potential.h5");
  property = load(argv[1], "property.h5");
  compute_errors(potential, property);
  query_errors(potential, property);
  property_errors(potential, property);
  dataset_errors(argv[1]);
  matnn_model_destroy(potential);
  matnn_model_destroy(property);
  printf("%d failures\n", check_failures);
  return check_failures;
}
