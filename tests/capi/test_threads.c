/* One potential handle shared by four threads: each computes energies, forces and stress of
   the reference structures many times, and every result equals the single-threaded one bit
   for bit (float32, where a shared workspace would show first). CTest runs it on both fixture
   models: DIR (Behler-Parrinello) and DIR/nequip (NequIP-style, capi.threads_nequip).
   Usage: test_capi_threads DIR */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "reference.h"

#define THREADS 4
#define REPEATS 10

typedef struct {
  const matnn_model* model;
  const reference_case* c;
  double energy, stress[6];
  double* forces;
  int failures;
} job;

static int compute(job* j) {
  const int pbc[3] = {j->c->periodic, j->c->periodic, j->c->periodic};
  matnn_potential_results r;
  if (matnn_potential_results_init2(&r, sizeof r) != MATNN_SUCCESS) return 1;
  r.energy = &j->energy;
  r.forces = j->forces;
  r.stress = j->c->periodic ? j->stress : NULL;
  return matnn_potential_compute(j->model, j->c->natoms, j->c->numbers, j->c->positions,
                                 j->c->periodic ? j->c->cell : NULL, pbc, &r) != MATNN_SUCCESS;
}

static const job* expected_result;

static void* worker(void* argument) {
  job* j = (job*)argument;
  int k, i;
  for (k = 0; k < REPEATS; ++k) {
    j->failures += compute(j);
    if (j->energy != expected_result->energy) ++j->failures;
    for (i = 0; i < 3 * j->c->natoms; ++i) {
      if (j->forces[i] != expected_result->forces[i]) ++j->failures;
    }
    if (j->c->periodic && memcmp(j->stress, expected_result->stress, sizeof j->stress) != 0) ++j->failures;
  }
  return NULL;
}

int main(int argc, char** argv) {
  char path[4096];
  reference_case* cases = NULL;
  matnn_model* model = NULL;
  job expected, jobs[THREADS];
  pthread_t threads[THREADS];
  int n, k, t;
  if (argc != 2) return 2;
  n = read_reference(argv[1], &cases);
  CHECK(n > 0);
  snprintf(path, sizeof path, "%s/potential.h5", argv[1]);
  CHECK_OK(matnn_model_load(path, NULL, &model));
  for (k = 0; k < n && model; ++k) {
    memset(&expected, 0, sizeof expected);
    expected.model = model;
    expected.c = &cases[k];
    expected.forces = (double*)malloc(sizeof(double) * 3 * (size_t)cases[k].natoms);
    CHECK(compute(&expected) == 0);
    expected_result = &expected;
    for (t = 0; t < THREADS; ++t) {
      jobs[t] = expected;
      jobs[t].forces = (double*)malloc(sizeof(double) * 3 * (size_t)cases[k].natoms);
      CHECK(pthread_create(&threads[t], NULL, worker, &jobs[t]) == 0);
    }
    for (t = 0; t < THREADS; ++t) {
      CHECK(pthread_join(threads[t], NULL) == 0);
      CHECK(jobs[t].failures == 0);
      free(jobs[t].forces);
    }
    free(expected.forces);
  }
  matnn_model_destroy(model);
  free_reference(cases, n);
  printf("%d structures x %d threads x %d repeats, %d failures\n", n, THREADS, REPEATS, check_failures);
  return check_failures;
}
