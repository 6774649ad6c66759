/* Tiny C test harness for the C interface tests: CHECK prints the failing expression and counts
   it; each test program returns the number of failures (0 = pass). */
#ifndef MATNN_TESTS_CAPI_CHECK_H
#define MATNN_TESTS_CAPI_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "matnn/matnn.h"

static int check_failures = 0;

#define CHECK(condition)                                                       \
  do {                                                                         \
    if (!(condition)) {                                                        \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #condition); \
      ++check_failures;                                                        \
    }                                                                          \
  } while (0)

/* A call that must succeed; prints the last error otherwise. */
#define CHECK_OK(call)                                                         \
  do {                                                                         \
    matnn_status check_status_ = (call);                                       \
    if (check_status_ != MATNN_SUCCESS) {                                      \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #call, \
              matnn_status_string(check_status_), matnn_last_error());          \
      ++check_failures;                                                        \
    }                                                                          \
  } while (0)

/* A call that must fail with `expected` and leave a message containing `needle`. */
#define CHECK_FAILS(call, expected, needle)                                    \
  do {                                                                         \
    matnn_status check_status_ = (call);                                       \
    if (check_status_ != (expected)) {                                         \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__, __LINE__, #call, \
              matnn_status_string(check_status_), matnn_status_string(expected), matnn_last_error()); \
      ++check_failures;                                                        \
    } else if (strstr(matnn_last_error(), (needle)) == NULL) {                 \
      fprintf(stderr, "%s:%d: %s: message \"%s\" does not name \"%s\"\n", __FILE__, __LINE__, #call, \
              matnn_last_error(), (needle));                                   \
      ++check_failures;                                                        \
    }                                                                          \
  } while (0)

/* |a - b| <= rel * max(|a|, |b|, floor). */
static inline int close_to(double a, double b, double rel, double floor_value) {
  double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
  if (scale < floor_value) scale = floor_value;
  return fabs(a - b) <= rel * scale;
}

/* CHECK(close_to(...)) that prints both numbers. */
#define CHECK_CLOSE(a, b, rel, floor_value)                                    \
  do {                                                                         \
    double check_a_ = (a), check_b_ = (b);                                     \
    if (!close_to(check_a_, check_b_, (rel), (floor_value))) {                 \
      fprintf(stderr, "%s:%d: %s = %.17g differs from %s = %.17g\n", __FILE__, __LINE__, #a, check_a_, #b, check_b_); \
      ++check_failures;                                                        \
    }                                                                          \
  } while (0)

#endif /* MATNN_TESTS_CAPI_CHECK_H */
