/* Property models through the C interface. The composition model: queries, predictions at
   "material points" (a fraction table), the same compositions given as structures and as full
   structures, embeddings, MC dropout and OOD. CGCNN: structures with positions and cells in two
   unit systems and rotated, embeddings, and the composition-only call refused.
   Usage: test_capi_property DIR */
#include <pthread.h>

#include "check.h"

/* Seeded Monte-Carlo dropout from several threads on one handle (ABI 4): each thread's draws
   must equal what its seed gives alone. */
#define MC_THREADS 4
typedef struct {
  const matnn_model* model;
  const int *natoms, *atoms;
  const double* xyz;
  uint64_t seed;
  double values[3], sigmas[3];
  matnn_status status;
} mc_job;

static void* mc_worker(void* argument) {
  mc_job* j = (mc_job*)argument;
  int k;
  for (k = 0; k < 5 && j->status == MATNN_SUCCESS; ++k)
    j->status = matnn_property_predict_atoms_mc(j->model, 3, j->natoms, j->atoms, j->xyz, NULL, NULL, 8, j->seed,
                                                j->values, j->sigmas, NULL, NULL);
  return NULL;
}

int main(int argc, char** argv) {
  char path[4096];
  matnn_model* model = NULL;
  const char *name = NULL, *unit = NULL;
  matnn_task task;
  matnn_model_kind kind;
  int n_classes = -1, n_species = 0, species[8] = {0}, members = 0, i;
  unsigned flags = 0;
  /* Cu, Ni and Au columns; the last point holds gold, which the model never saw. */
  const int z[3] = {29, 28, 79};
  const double fractions[4 * 3] = {1, 0, 0, 0.5, 0.5, 0, 3, 1, 0, 0.5, 0, 0.5};
  double values[4], sigmas[4], again[4], mc[4], mc_sigmas[4];
  int ood[4];
  /* The first three points as structures: Cu, CuNi, Cu3Ni. */
  const int natoms[3] = {1, 2, 4};
  const int atoms[7] = {29, 29, 28, 29, 29, 28, 29};
  if (argc != 2) return 2;

  snprintf(path, sizeof path, "%s/property.h5", argv[1]);
  CHECK_OK(matnn_model_load(path, NULL, &model));
  CHECK_OK(matnn_model_kind_of(model, &kind));
  CHECK(kind == MATNN_MODEL_PROPERTY);
  CHECK_OK(matnn_property_name(model, &name));
  CHECK(name && strcmp(name, "formation_energy") == 0);
  CHECK_OK(matnn_property_unit(model, &unit));
  CHECK(unit && strcmp(unit, "eV/atom") == 0);
  CHECK_OK(matnn_property_task(model, &task));
  CHECK(task == MATNN_TASK_REGRESSION);
  CHECK_OK(matnn_property_num_classes(model, &n_classes));
  CHECK(n_classes == 0);
  CHECK_OK(matnn_model_num_species(model, &n_species));
  CHECK(n_species == 2);
  CHECK_OK(matnn_model_species(model, species));
  CHECK((species[0] == 28 && species[1] == 29) || (species[0] == 29 && species[1] == 28));
  CHECK_OK(matnn_model_ensemble_size(model, &members));
  CHECK(members == 1);
  CHECK_OK(matnn_model_outputs(model, &flags));
  CHECK((flags & MATNN_OUTPUT_PROPERTY_VALUE) && (flags & MATNN_OUTPUT_PROPERTY_OOD));
  CHECK(!(flags & MATNN_OUTPUT_PROPERTY_PROBABILITIES) && !(flags & MATNN_OUTPUT_FORCES));

  CHECK_OK(matnn_property_predict_compositions(model, 4, 3, z, fractions, 0, values, sigmas, ood, NULL));
  for (i = 0; i < 4; ++i) CHECK(isfinite(values[i]) && sigmas[i] == 0); /* one member, no draws */
  CHECK(ood[1] == 0 && ood[2] == 0); /* mixtures like the training data (pure Cu sits at its edge) */
  CHECK(ood[3] == 1);
  /* Deterministic without MC dropout; counts and fractions are the same composition. */
  CHECK_OK(matnn_property_predict_structures(model, 3, natoms, atoms, 0, again, NULL, NULL, NULL));
  for (i = 0; i < 3; ++i) CHECK_CLOSE(again[i], values[i], 1e-6, 1e-6);
  /* MC dropout (the model was trained with dropout 0.1): a spread, which a one-member model can
     only get from the dropout draws. */
  CHECK_OK(matnn_property_predict_compositions(model, 4, 3, z, fractions, 8, mc, mc_sigmas, NULL, NULL));
  for (i = 0; i < 4; ++i) CHECK(isfinite(mc[i]) && mc_sigmas[i] > 0);
  /* The draws also move the mean away from the deterministic prediction. */
  for (i = 0; i < 4; ++i) CHECK(fabs(mc[i] - values[i]) > 1e-6 * (1 + fabs(values[i])));
  /* Full structures: the composition model reads only their atoms. */
  {
    double full[3], embedding[3 * 8];
    int width = 0;
    double xyz[7 * 3] = {0};
    for (i = 0; i < 7; ++i) xyz[3 * i] = 2.5 * i;
    CHECK_OK(matnn_property_predict_atoms(model, 3, natoms, atoms, xyz, NULL, NULL, 0, full, NULL, NULL, NULL));
    for (i = 0; i < 3; ++i) CHECK_CLOSE(full[i], values[i], 1e-6, 1e-6);
    CHECK_OK(matnn_property_embedding_width(model, &width));
    CHECK(width == 8); /* the last hidden layer */
    CHECK_OK(matnn_property_embed_atoms(model, 3, natoms, atoms, xyz, NULL, NULL, embedding));
    for (i = 0; i < 3 * 8; ++i) CHECK(isfinite(embedding[i]));

    /* Seeded MC dropout: a seed reproduces its draws, another seed differs, the plain call is
       seed 0, and mc_samples must be positive. */
    {
      double a[3], b[3], other[3], plain[3];
      mc_job jobs[MC_THREADS], alone[MC_THREADS];
      pthread_t threads[MC_THREADS];
      int t;
      CHECK_OK(matnn_property_predict_atoms_mc(model, 3, natoms, atoms, xyz, NULL, NULL, 8, 42, a, NULL, NULL, NULL));
      CHECK_OK(matnn_property_predict_atoms_mc(model, 3, natoms, atoms, xyz, NULL, NULL, 8, 42, b, NULL, NULL, NULL));
      CHECK_OK(matnn_property_predict_atoms_mc(model, 3, natoms, atoms, xyz, NULL, NULL, 8, 43, other, NULL, NULL, NULL));
      CHECK_OK(matnn_property_predict_atoms(model, 3, natoms, atoms, xyz, NULL, NULL, 8, plain, NULL, NULL, NULL));
      CHECK(memcmp(a, b, sizeof a) == 0);
      CHECK(memcmp(a, other, sizeof a) != 0);
      CHECK_OK(matnn_property_predict_atoms_mc(model, 3, natoms, atoms, xyz, NULL, NULL, 8, 0, b, NULL, NULL, NULL));
      CHECK(memcmp(plain, b, sizeof b) == 0);
      CHECK_FAILS(matnn_property_predict_atoms_mc(model, 3, natoms, atoms, xyz, NULL, NULL, 0, 1, a, NULL, NULL, NULL),
                  MATNN_ERROR_INVALID_ARGUMENT, "mc_samples");
      for (t = 0; t < MC_THREADS; ++t) {
        mc_job j = {model, natoms, atoms, xyz, (uint64_t)(100 + t), {0}, {0}, MATNN_SUCCESS};
        alone[t] = j;
        jobs[t] = j;
        mc_worker(&alone[t]);
        CHECK(alone[t].status == MATNN_SUCCESS);
      }
      for (t = 0; t < MC_THREADS; ++t) CHECK(pthread_create(&threads[t], NULL, mc_worker, &jobs[t]) == 0);
      for (t = 0; t < MC_THREADS; ++t) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        CHECK(jobs[t].status == MATNN_SUCCESS);
        CHECK(memcmp(jobs[t].values, alone[t].values, sizeof jobs[t].values) == 0);
        CHECK(memcmp(jobs[t].sigmas, alone[t].sigmas, sizeof jobs[t].sigmas) == 0);
      }
    }
  }
  matnn_model_destroy(model);

  /* CGCNN: an fcc Cu3Ni cell, strained so that no two distances tie. */
  snprintf(path, sizeof path, "%s/cgcnn.h5", argv[1]);
  CHECK_OK(matnn_model_load(path, NULL, &model));
  {
    const double a = 3.6, bohr = 0.529177210903;
    const int n[1] = {4}, cu3ni[4] = {28, 29, 29, 29}, periodic[3] = {1, 1, 1};
    double cell[9] = {a, 0.05, 0, 0, a * 1.01, 0, 0, 0, a * 0.99};
    double xyz[12] = {0, 0, 0, 0, a / 2, a / 2, a / 2, 0, a / 2, a / 2, a / 2, 0};
    double rotated_cell[9], rotated_xyz[12], cell_bohr[9], xyz_bohr[12];
    double y[1], y_rotated[1], y_bohr[1], s[1], e[8], e_rotated[8];
    int flag[1], width = 0;
    matnn_model* atomic = NULL;
    matnn_load_options options;
    /* A rotation by 90 degrees about z: (x, y, z) -> (-y, x, z). */
    for (i = 0; i < 3; ++i) {
      rotated_cell[3 * i] = -cell[3 * i + 1];
      rotated_cell[3 * i + 1] = cell[3 * i];
      rotated_cell[3 * i + 2] = cell[3 * i + 2];
    }
    for (i = 0; i < 4; ++i) {
      rotated_xyz[3 * i] = -xyz[3 * i + 1];
      rotated_xyz[3 * i + 1] = xyz[3 * i];
      rotated_xyz[3 * i + 2] = xyz[3 * i + 2];
    }
    for (i = 0; i < 9; ++i) cell_bohr[i] = cell[i] / bohr;
    for (i = 0; i < 12; ++i) xyz_bohr[i] = xyz[i] / bohr;

    CHECK_OK(matnn_property_predict_atoms(model, 1, n, cu3ni, xyz, cell, periodic, 0, y, s, flag, NULL));
    /* Two members give a spread. The flag here comes from the embedding distance of a model
       trained for two epochs, so only its range is checked; an unseen element must set it. */
    CHECK(isfinite(y[0]) && s[0] > 0 && (flag[0] == 0 || flag[0] == 1));
    {
      const int cu3au[4] = {79, 29, 29, 29};
      double y_au[1];
      int flag_au[1] = {0};
      CHECK_OK(matnn_property_predict_atoms(model, 1, n, cu3au, xyz, cell, periodic, 0, y_au, NULL, flag_au, NULL));
      CHECK(flag_au[0] == 1);
    }
    CHECK_OK(matnn_property_predict_atoms(model, 1, n, cu3ni, rotated_xyz, rotated_cell, periodic, 0, y_rotated, NULL,
                                          NULL, NULL));
    CHECK_CLOSE(y_rotated[0], y[0], 1e-6, 1e-6);
    matnn_load_options_init(&options);
    options.units = MATNN_UNITS_ATOMIC;
    CHECK_OK(matnn_model_load(path, &options, &atomic));
    CHECK_OK(matnn_property_predict_atoms(atomic, 1, n, cu3ni, xyz_bohr, cell_bohr, periodic, 0, y_bohr, NULL, NULL, NULL));
    CHECK_CLOSE(y_bohr[0], y[0], 1e-6, 1e-6);
    matnn_model_destroy(atomic);
    /* The crystal vector, and the same for the rotated cell. */
    CHECK_OK(matnn_property_embedding_width(model, &width));
    CHECK(width == 8);
    CHECK_OK(matnn_property_embed_atoms(model, 1, n, cu3ni, xyz, cell, periodic, e));
    CHECK_OK(matnn_property_embed_atoms(model, 1, n, cu3ni, rotated_xyz, rotated_cell, periodic, e_rotated));
    for (i = 0; i < 8; ++i) CHECK_CLOSE(e_rotated[i], e[i], 1e-5, 1e-5);
    /* Atoms alone are not enough for it; periodic flags need cells. */
    CHECK_FAILS(matnn_property_predict_structures(model, 1, n, cu3ni, 0, y, NULL, NULL, NULL), MATNN_ERROR_UNSUPPORTED,
                "positions");
    CHECK_FAILS(matnn_property_predict_atoms(model, 1, n, cu3ni, xyz, NULL, periodic, 0, y, NULL, NULL, NULL),
                MATNN_ERROR_INVALID_ARGUMENT, "cells is NULL");
  }
  matnn_model_destroy(model);
  printf("%d failures\n", check_failures);
  return check_failures;
}
