/* A composition property model through the C interface: queries, predictions at "material
   points" (a fraction table), the same compositions given as structures, MC dropout and OOD.
   Usage: test_capi_property DIR */
#include "check.h"

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
  matnn_model_destroy(model);
  printf("%d failures\n", check_failures);
  return check_failures;
}
