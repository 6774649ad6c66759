#include "matnn/error.hpp"

namespace matnn {

const char* status_name(matnn_status status) noexcept {
  switch (status) {
    case MATNN_SUCCESS: return "MATNN_SUCCESS";
    case MATNN_ERROR_INVALID_ARGUMENT: return "MATNN_ERROR_INVALID_ARGUMENT";
    case MATNN_ERROR_IO: return "MATNN_ERROR_IO";
    case MATNN_ERROR_FORMAT: return "MATNN_ERROR_FORMAT";
    case MATNN_ERROR_UNKNOWN_ELEMENT: return "MATNN_ERROR_UNKNOWN_ELEMENT";
    case MATNN_ERROR_NON_FINITE: return "MATNN_ERROR_NON_FINITE";
    case MATNN_ERROR_SINGULAR_CELL: return "MATNN_ERROR_SINGULAR_CELL";
    case MATNN_ERROR_GEOMETRY: return "MATNN_ERROR_GEOMETRY";
    case MATNN_ERROR_MODEL: return "MATNN_ERROR_MODEL";
    case MATNN_ERROR_UNSUPPORTED: return "MATNN_ERROR_UNSUPPORTED";
    case MATNN_ERROR_CANCELLED: return "MATNN_ERROR_CANCELLED";
    case MATNN_ERROR_MPI: return "MATNN_ERROR_MPI";
    case MATNN_ERROR_OUT_OF_MEMORY: return "MATNN_ERROR_OUT_OF_MEMORY";
    case MATNN_ERROR_INTERNAL: return "MATNN_ERROR_INTERNAL";
  }
  return "MATNN_ERROR_UNKNOWN_STATUS";
}

}  // namespace matnn
