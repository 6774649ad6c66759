/*
 * matnn status codes.
 *
 * One list serves every interface: the C ABI returns these values, the C++ engine throws
 * matnn::Error carrying one of them, and the `matnn` command line exits with the same number.
 * The numbers are part of the stable ABI: a value is never renumbered or reused, new codes
 * are only appended.
 *
 * This header compiles as C99 and as C++.
 */
#ifndef MATNN_STATUS_H
#define MATNN_STATUS_H

typedef enum matnn_status {
  MATNN_SUCCESS = 0,
  /* A NULL pointer, a negative or zero size, an option with an impossible value,
     or a command line that cannot be parsed. */
  MATNN_ERROR_INVALID_ARGUMENT = 1,
  /* A file that cannot be opened, read, written or renamed. */
  MATNN_ERROR_IO = 2,
  /* A file that opens but whose content is malformed: a bad extxyz line, a truncated or
     corrupt HDF5 file, arrays of inconsistent lengths, a missing required field. */
  MATNN_ERROR_FORMAT = 3,
  /* An element symbol or atomic number that matnn does not know, or that a model was not
     trained on. */
  MATNN_ERROR_UNKNOWN_ELEMENT = 4,
  /* NaN or infinite values where finite numbers are required (positions, cell, labels). */
  MATNN_ERROR_NON_FINITE = 5,
  /* A cell whose periodic lattice vectors are linearly dependent (zero volume). */
  MATNN_ERROR_SINGULAR_CELL = 6,
  /* A geometry a model cannot evaluate: overlapping atoms, a cell too small for the cutoff. */
  MATNN_ERROR_GEOMETRY = 7,
  /* A model file of the wrong kind, of a newer format version, or with inconsistent content. */
  MATNN_ERROR_MODEL = 8,
  /* A request the model or build does not support (an output the model cannot give). */
  MATNN_ERROR_UNSUPPORTED = 9,
  /* A long operation (training) stopped on the host's request. */
  MATNN_ERROR_CANCELLED = 10,
  /* An MPI call failed. */
  MATNN_ERROR_MPI = 11,
  /* Out of memory. */
  MATNN_ERROR_OUT_OF_MEMORY = 12,
  /* A bug in matnn: please report it with the message. */
  MATNN_ERROR_INTERNAL = 99
} matnn_status;

#endif /* MATNN_STATUS_H */
