/* matnn's C interface for hosts that use MPI: matnn_train_comm() with the host's MPI_Comm.
 *
 * libmatnn.so itself takes a communicator as its Fortran handle (an int), so that matnn.h and the
 * library's ABI name no MPI type; this header, which needs the host's mpi.h, converts. Include it
 * after mpi.h, in a host that runs the MPI matnn was built with. */
#ifndef MATNN_MATNN_MPI_H
#define MATNN_MATNN_MPI_H

#include <mpi.h>

#include "matnn/matnn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* matnn_train_comm() on `comm`. Since ABI 5. */
static inline matnn_status matnn_train_mpi(const char* config_path, const char* output_model_path, MPI_Comm comm,
                                           matnn_progress_callback callback, void* user_data) {
  return matnn_train_comm(config_path, output_model_path, (int)MPI_Comm_c2f(comm), callback, user_data);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MATNN_MATNN_MPI_H */
