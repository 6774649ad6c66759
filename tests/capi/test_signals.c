/* Spectrum models through the C interface (ABI 7): train one with matnn_train() on the fixture's
   patterns, query what it reads, predict patterns on its own grid and on a finer grid (the
   same answers), embeddings, Monte-Carlo dropout from a seed, and the calls it must refuse.
   Usage: test_capi_signals DIR */
#include <stdlib.h>

#include "check.h"

#define POINTS 201
#define FINE 841

/* One pattern as the fixture draws them, without noise: a peak at `centre`, a weaker one at 20. */
static void pattern(const double* axis, int n, double centre, double* out) {
  int i;
  for (i = 0; i < n; ++i)
    out[i] = exp(-0.5 * pow((axis[i] - centre) / 0.4, 2)) + 0.3 * exp(-0.5 * pow((axis[i] - 20.0) / 0.4, 2));
}

int main(int argc, char** argv) {
  char config[4096], path[4096];
  matnn_model *model = NULL, *potential = NULL;
  matnn_input input;
  int channels = 0, points = 0, width = -1, i, width_e = 0, correct = 0;
  const char *name = NULL, *unit = NULL;
  static double axis[POINTS], fine[FINE], coarse[8][POINTS], dense[8][FINE], embeddings[8 * 64];
  double values[8], again[8], sigmas[8], probabilities[8 * 2], mc[8], mc_again[8];
  int ood[8];
  const double centres[8] = {15, 18, 24, 28, 33, 37, 41, 45};
  if (argc != 2) return 2;

  snprintf(config, sizeof config, "%s/cnn1d.json", argv[1]);
  CHECK_OK(matnn_train(config, NULL, NULL, NULL));
  snprintf(path, sizeof path, "%s/cnn1d.h5", argv[1]);
  CHECK_OK(matnn_model_load(path, NULL, &model));
  CHECK_OK(matnn_property_input(model, &input, &channels, &points, &width));
  CHECK(input == MATNN_INPUT_SPECTRA && channels == 1 && points == POINTS && width == 0);
  CHECK_OK(matnn_property_spectrum_axis(model, axis, &name, &unit));
  CHECK(name && strcmp(name, "2theta") == 0 && unit && strcmp(unit, "degree") == 0);
  CHECK(fabs(axis[0] - 10.0) < 1e-12 && fabs(axis[POINTS - 1] - 50.0) < 1e-12);

  /* The same patterns on the model's grid and on a four times finer one over a wider range
     (9 to 51 degrees). */
  for (i = 0; i < FINE; ++i) fine[i] = 9.0 + 0.05 * i;
  for (i = 0; i < 8; ++i) {
    pattern(axis, POINTS, centres[i], coarse[i]);
    pattern(fine, FINE, centres[i], dense[i]);
  }
  CHECK_OK(matnn_property_predict_spectra(model, 8, 1, POINTS, axis, &coarse[0][0], 0, 0, values, sigmas, ood,
                                          probabilities, NULL));
  for (i = 0; i < 8; ++i) correct += (int)values[i] == (centres[i] > 30 ? 1 : 0);
  CHECK(correct >= 7);
  for (i = 0; i < 8; ++i) {
    CHECK(fabs(probabilities[2 * i] + probabilities[2 * i + 1] - 1.0) < 1e-6); /* float32 softmax */
    CHECK(sigmas[i] >= 0);
  }
  /* Intensities in another scale (counts) and on the finer grid: the same classes. */
  for (i = 0; i < 8 * FINE; ++i) (&dense[0][0])[i] *= 5000.0;
  CHECK_OK(matnn_property_predict_spectra(model, 8, 1, FINE, fine, &dense[0][0], 0, 0, again, NULL, NULL, NULL, NULL));
  for (i = 0; i < 8; ++i) CHECK(again[i] == values[i]);

  CHECK_OK(matnn_property_embedding_width(model, &width_e));
  CHECK(width_e == 8);
  CHECK_OK(matnn_property_predict_spectra(model, 8, 1, POINTS, axis, &coarse[0][0], 0, 0, again, NULL, NULL, NULL,
                                          embeddings));
  CHECK(embeddings[0] == embeddings[0] && (embeddings[0] != 0 || embeddings[1] != 0 || embeddings[2] != 0));

  /* Monte-Carlo dropout: a seed reproduces its draws. */
  CHECK_OK(matnn_property_predict_spectra(model, 8, 1, POINTS, axis, &coarse[0][0], 16, 7, mc, NULL, NULL, NULL, NULL));
  CHECK_OK(matnn_property_predict_spectra(model, 8, 1, POINTS, axis, &coarse[0][0], 16, 7, mc_again, NULL, NULL, NULL,
                                          NULL));
  for (i = 0; i < 8; ++i) CHECK(mc[i] == mc_again[i]);

  /* Refused: a grid that does not cover the model's, a NaN, images to a spectrum model, counts. */
  CHECK_FAILS(matnn_property_predict_spectra(model, 8, 1, FINE - 40, fine + 40, &dense[0][0], 0, 0, values, NULL,
                                             NULL, NULL, NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "covers");
  coarse[3][7] = NAN;
  CHECK_FAILS(matnn_property_predict_spectra(model, 8, 1, POINTS, axis, &coarse[0][0], 0, 0, values, NULL, NULL, NULL,
                                             NULL),
              MATNN_ERROR_NON_FINITE, "intensities");
  coarse[3][7] = 0.0;
  CHECK_FAILS(matnn_property_predict_images(model, 1, 1, 4, 4, values, &coarse[0][0], 0, 0, values, NULL, NULL, NULL,
                                            NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "does not read images");
  CHECK_FAILS(matnn_property_predict_spectra(model, 0, 1, POINTS, axis, &coarse[0][0], 0, 0, values, NULL, NULL, NULL,
                                             NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "n_spectra");
  /* The same buffer read as four spectra of two channels: the model reads one. */
  CHECK_FAILS(matnn_property_predict_spectra(model, 4, 2, POINTS, axis, &coarse[0][0], 0, 0, values, NULL, NULL, NULL,
                                             NULL),
              MATNN_ERROR_INVALID_ARGUMENT, "channel");

  /* A potential reads structures: the signal calls are the wrong kind of model. */
  snprintf(path, sizeof path, "%s/potential.h5", argv[1]);
  CHECK_OK(matnn_model_load(path, NULL, &potential));
  CHECK_FAILS(matnn_property_input(potential, &input, NULL, NULL, NULL), MATNN_ERROR_MODEL, "potential");
  matnn_model_destroy(potential);
  /* A composition model reads structures. */
  snprintf(path, sizeof path, "%s/property.h5", argv[1]);
  CHECK_OK(matnn_model_load(path, NULL, &potential));
  CHECK_OK(matnn_property_input(potential, &input, &channels, &points, &width));
  CHECK(input == MATNN_INPUT_STRUCTURES && channels == 0 && points == 0 && width == 0);
  CHECK_FAILS(matnn_property_spectrum_axis(potential, axis, NULL, NULL), MATNN_ERROR_INVALID_ARGUMENT, "spectra");
  matnn_model_destroy(potential);
  matnn_model_destroy(model);
  return check_failures;
}
