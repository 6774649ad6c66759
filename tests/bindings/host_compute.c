/*
 * host_compute: the C host of the bindings tests. Loads a potential in float64, computes the
 * energy, forces and stress of a structure in md_example's plain format (examples/fortran/
 * md_example.f90: natoms, three lattice-vector lines, then "Z x y z" lines; '#' comments;
 * periodic along all three vectors) and prints them as md_example does:
 *
 *     energy <E>
 *     force <i> <fx> <fy> <fz>
 *     stress <xx> <yy> <zz> <yz> <xz> <xy>
 *
 * Usage: host_compute MODEL STRUCTURE. Exit status: 0, or the failing call's matnn_status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matnn/matnn.h"

/* The next line that is neither blank nor a '#' comment; 0 at the end of the file. */
static int next_line(FILE* f, char* line, size_t size) {
  while (fgets(line, (int)size, f)) {
    const char* p = line;
    while (*p == ' ' || *p == '\t') ++p;
    if (*p != '#' && *p != '\n' && *p != '\r' && *p != '\0') return 1;
  }
  return 0;
}

static int fail(const char* what, matnn_status status) {
  fprintf(stderr, "host_compute: %s: %s: %s\n", what, matnn_status_string(status), matnn_last_error());
  return (int)status;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: host_compute MODEL STRUCTURE\n");
    return 1;
  }
  FILE* f = fopen(argv[2], "r");
  if (!f) {
    fprintf(stderr, "host_compute: cannot open %s\n", argv[2]);
    return 2;
  }
  char line[1024];
  int natoms = 0;
  double cell[3][3];
  if (!next_line(f, line, sizeof line) || sscanf(line, "%d", &natoms) != 1 || natoms < 1) {
    fprintf(stderr, "host_compute: %s: bad atom count\n", argv[2]);
    return 3;
  }
  for (int k = 0; k < 3; ++k) {
    if (!next_line(f, line, sizeof line) || sscanf(line, "%lf %lf %lf", &cell[k][0], &cell[k][1], &cell[k][2]) != 3) {
      fprintf(stderr, "host_compute: %s: bad lattice vector %d\n", argv[2], k + 1);
      return 3;
    }
  }
  int* numbers = malloc(sizeof(int) * (size_t)natoms);
  double(*positions)[3] = malloc(sizeof(double[3]) * (size_t)natoms);
  double(*forces)[3] = malloc(sizeof(double[3]) * (size_t)natoms);
  if (!numbers || !positions || !forces) return 12;
  for (int i = 0; i < natoms; ++i) {
    if (!next_line(f, line, sizeof line) ||
        sscanf(line, "%d %lf %lf %lf", &numbers[i], &positions[i][0], &positions[i][1], &positions[i][2]) != 4) {
      fprintf(stderr, "host_compute: %s: bad atom line %d\n", argv[2], i + 1);
      return 3;
    }
  }
  fclose(f);

  matnn_load_options options;
  matnn_load_options_init(&options);
  options.precision = MATNN_PRECISION_FLOAT64;
  matnn_model* model = NULL;
  matnn_status status = matnn_model_load(argv[1], &options, &model);
  if (status != MATNN_SUCCESS) return fail("matnn_model_load", status);

  double energy = 0.0, stress[6] = {0};
  matnn_potential_results results;
  matnn_potential_results_init2(&results, sizeof results);
  results.energy = &energy;
  results.forces = &forces[0][0];
  results.stress = stress;
  const int pbc[3] = {1, 1, 1};
  status = matnn_potential_compute(model, natoms, numbers, &positions[0][0], &cell[0][0], pbc, &results);
  if (status != MATNN_SUCCESS) {
    matnn_model_destroy(model);
    return fail("matnn_potential_compute", status);
  }
  printf("energy %.16e\n", energy);
  for (int i = 0; i < natoms; ++i) printf("force %d %.16e %.16e %.16e\n", i + 1, forces[i][0], forces[i][1], forces[i][2]);
  printf("stress %.16e %.16e %.16e %.16e %.16e %.16e\n", stress[0], stress[1], stress[2], stress[3], stress[4],
         stress[5]);
  matnn_model_destroy(model);
  free(numbers);
  free(positions);
  free(forces);
  return 0;
}
