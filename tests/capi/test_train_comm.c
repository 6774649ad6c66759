/* matnn_train_comm() from a C host. In an MPI build this program is the host of an MPI job (run
   by mpirun on 2 ranks): it initialises MPI, trains the composition model of the capi fixture on
   MPI_COMM_WORLD through matnn_train_mpi() (matnn/matnn_mpi.h), and checks that every rank gets
   SUCCESS, its progress callbacks, and a model file that exists when the call returns; then the
   same for CGCNN (batch normalisation over all ranks), and a Kalman-filter config, which cannot
   train across ranks, must fail on every rank alike. In a
   build without MPI the call must fail with MATNN_ERROR_UNSUPPORTED and write nothing.
   Usage: test_capi_train_comm DIR */
#include <stdio.h>
#include <stdlib.h>

#ifdef MATNN_TEST_WITH_MPI
#include <mpi.h>

#include "matnn/matnn_mpi.h"
#endif
#include "check.h"

static int on_epoch(int epoch, int epochs, double train_loss, double validation_loss, void* user_data) {
  int* calls = (int*)user_data;
  (void)epoch;
  (void)epochs;
  (void)train_loss;
  (void)validation_loss;
  ++*calls;
  return 0;
}

static int file_exists(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f) fclose(f);
  return f != NULL;
}

int main(int argc, char** argv) {
  char config[4096], cgcnn[4096], kalman[4096], model_path[4096];
  int calls = 0;
  if (argc != 2) return 2;
  snprintf(config, sizeof config, "%s/property.json", argv[1]);
  snprintf(cgcnn, sizeof cgcnn, "%s/cgcnn.json", argv[1]);
  snprintf(kalman, sizeof kalman, "%s/kalman.json", argv[1]);
  snprintf(model_path, sizeof model_path, "%s/property_comm.h5", argv[1]);
#ifdef MATNN_TEST_WITH_MPI
  {
    int rank = 0, size = 0, failures = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) remove(model_path);
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK_OK(matnn_train_mpi(config, model_path, MPI_COMM_WORLD, on_epoch, &calls));
    CHECK(calls > 0);
    CHECK(file_exists(model_path));
    /* The progress callback ran as often on every rank. */
    {
      int fewest = 0, most = 0;
      MPI_Allreduce(&calls, &fewest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
      MPI_Allreduce(&calls, &most, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
      CHECK(fewest == most);
    }
    snprintf(model_path, sizeof model_path, "%s/cgcnn_comm.h5", argv[1]);
    CHECK_OK(matnn_train_mpi(cgcnn, model_path, MPI_COMM_WORLD, NULL, NULL));
    CHECK(file_exists(model_path));
    /* The Kalman filter trains on the host's ranks too (each measures its share). */
    snprintf(model_path, sizeof model_path, "%s/kalman_comm.h5", argv[1]);
    CHECK_OK(matnn_train_mpi(kalman, model_path, MPI_COMM_WORLD, NULL, NULL));
    CHECK(file_exists(model_path));
    (void)size;
    MPI_Allreduce(&check_failures, &failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
    return failures;
  }
#else
  remove(model_path);
  CHECK_FAILS(matnn_train_comm(config, model_path, 0, on_epoch, &calls), MATNN_ERROR_UNSUPPORTED, "has no MPI");
  CHECK(calls == 0);
  CHECK(!file_exists(model_path));
  return check_failures;
#endif
}
