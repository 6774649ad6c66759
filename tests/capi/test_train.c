/* matnn_train from C, which also makes the models the other C tests use (CTest fixture
   capi_models): a Behler-Parrinello potential and a composition property model, each trained
   for a few epochs on the data written by `capi_fixture data DIR`.
   Usage: test_capi_train DIR */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

typedef struct {
  int calls;
  int last_epoch;
  int epochs;
  int cancel_at;  /* cancel when epoch reaches this (0 = never) */
  int bad_loss;
} progress;

static int on_epoch(int epoch, int epochs, double train_loss, double validation_loss, void* user_data) {
  progress* p = (progress*)user_data;
  ++p->calls;
  p->last_epoch = epoch;
  p->epochs = epochs;
  if (!(train_loss >= 0) || !(validation_loss >= 0)) p->bad_loss = 1;
  return p->cancel_at > 0 && epoch >= p->cancel_at;
}

static int file_exists(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f) fclose(f);
  return f != NULL;
}

int main(int argc, char** argv) {
  char config[4096], model_path[4096], missing[4096];
  progress p = {0, 0, 0, 0, 0};
  matnn_model* model = NULL;
  matnn_model_kind kind;
  if (argc != 2) return 2;

  /* Cancelled on the first epoch: CANCELLED, and no model file. */
  snprintf(config, sizeof config, "%s/potential.json", argv[1]);
  snprintf(model_path, sizeof model_path, "%s/cancelled.h5", argv[1]);
  remove(model_path);
  p.cancel_at = 1;
  CHECK_FAILS(matnn_train(config, model_path, on_epoch, &p), MATNN_ERROR_CANCELLED, "matnn_train");
  CHECK(p.calls == 1);
  CHECK(!file_exists(model_path));

  /* The potential: two members x two epochs, the output path overriding the config's. */
  snprintf(model_path, sizeof model_path, "%s/potential.h5", argv[1]);
  p.calls = 0;
  p.cancel_at = 0;
  CHECK_OK(matnn_train(config, model_path, on_epoch, &p));
  CHECK(p.calls == 4);
  CHECK(p.epochs == 2);
  CHECK(p.last_epoch == 2);
  CHECK(!p.bad_loss);
  CHECK_OK(matnn_model_load(model_path, NULL, &model));
  CHECK_OK(matnn_model_kind_of(model, &kind));
  CHECK(kind == MATNN_MODEL_POTENTIAL);
  matnn_model_destroy(model);

  /* The property model, written where its config says; no callback. */
  snprintf(config, sizeof config, "%s/property.json", argv[1]);
  CHECK_OK(matnn_train(config, NULL, NULL, NULL));
  snprintf(model_path, sizeof model_path, "%s/property.h5", argv[1]);
  CHECK(file_exists(model_path));
  /* And the structure-based one (CGCNN), through the same call. */
  snprintf(config, sizeof config, "%s/cgcnn.json", argv[1]);
  CHECK_OK(matnn_train(config, NULL, NULL, NULL));
  snprintf(model_path, sizeof model_path, "%s/cgcnn.h5", argv[1]);
  CHECK(file_exists(model_path));

  /* Mistakes. */
  CHECK_FAILS(matnn_train(NULL, NULL, NULL, NULL), MATNN_ERROR_INVALID_ARGUMENT, "config_path");
  snprintf(missing, sizeof missing, "%s/no-such-config.json", argv[1]);
  CHECK_FAILS(matnn_train(missing, NULL, NULL, NULL), MATNN_ERROR_IO, "no-such-config.json");

  return check_failures;
}
