/* Reads reference.txt, the engine's own results written by `capi_fixture reference DIR`
   (format in fixture.cpp). */
#ifndef MATNN_TESTS_CAPI_REFERENCE_H
#define MATNN_TESTS_CAPI_REFERENCE_H

#include <stdio.h>
#include <stdlib.h>

typedef struct {
  int natoms, periodic;
  double cell[9];
  int* numbers;
  double* positions; /* natoms x 3, Angstrom */
  double energy, energy_sigma, max_force_deviation;
  double* energies;
  double* forces;
  double stress[6];
  double* force_deviation;
} reference_case;

static inline int read_doubles(FILE* f, double* v, int n) {
  int i;
  for (i = 0; i < n; ++i) {
    if (fscanf(f, "%lf", &v[i]) != 1) return 0;
  }
  return 1;
}

/* Returns the number of cases (0 on a read error); *cases is malloc'ed. */
static inline int read_reference(const char* dir, reference_case** cases) {
  char path[4096];
  FILE* f;
  int n = 0, k, i, ok = 1;
  snprintf(path, sizeof path, "%s/reference.txt", dir);
  f = fopen(path, "r");
  if (!f || fscanf(f, "%d", &n) != 1 || n <= 0) {
    if (f) fclose(f);
    fprintf(stderr, "cannot read %s\n", path);
    return 0;
  }
  *cases = (reference_case*)calloc((size_t)n, sizeof(reference_case));
  for (k = 0; k < n && ok; ++k) {
    reference_case* c = &(*cases)[k];
    ok = fscanf(f, "%d %d", &c->natoms, &c->periodic) == 2 && read_doubles(f, c->cell, 9);
    if (!ok) break;
    c->numbers = (int*)malloc(sizeof(int) * (size_t)c->natoms);
    c->positions = (double*)malloc(sizeof(double) * 3 * (size_t)c->natoms);
    c->energies = (double*)malloc(sizeof(double) * (size_t)c->natoms);
    c->forces = (double*)malloc(sizeof(double) * 3 * (size_t)c->natoms);
    c->force_deviation = (double*)malloc(sizeof(double) * (size_t)c->natoms);
    for (i = 0; i < c->natoms && ok; ++i) ok = fscanf(f, "%d", &c->numbers[i]) == 1;
    ok = ok && read_doubles(f, c->positions, 3 * c->natoms) && read_doubles(f, &c->energy, 1) &&
         read_doubles(f, &c->energy_sigma, 1) && read_doubles(f, &c->max_force_deviation, 1) &&
         read_doubles(f, c->energies, c->natoms) && read_doubles(f, c->forces, 3 * c->natoms) &&
         read_doubles(f, c->stress, 6) && read_doubles(f, c->force_deviation, c->natoms);
  }
  fclose(f);
  if (!ok) fprintf(stderr, "%s: malformed case %d\n", path, k);
  return ok ? n : 0;
}

static inline void free_reference(reference_case* cases, int n) {
  int k;
  for (k = 0; k < n; ++k) {
    free(cases[k].numbers);
    free(cases[k].positions);
    free(cases[k].energies);
    free(cases[k].forces);
    free(cases[k].force_deviation);
  }
  free(cases);
}

#endif /* MATNN_TESTS_CAPI_REFERENCE_H */
