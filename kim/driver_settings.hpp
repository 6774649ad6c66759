// The KIM driver's settings: the optional second parameter file of a matnn portable model
// (settings.txt, written by `matnn kim-install`), `key value` per line, # starts a comment.
//
//   precision float32|float64   network arithmetic (default float32, as matnn's C ABI)
//   deviation_file PATH         write the ensemble's model deviation there (kim/README.md)
//   deviation_every N           every N-th compute call (default 1)
//
// An unknown key, a repeated key or a bad value is an error naming the file and line: a
// misspelt setting never silently runs something else.
#pragma once

#include <string>

#include "matnn/matnn.h"

namespace matnn::kim {

struct DriverSettings {
  matnn_precision precision = MATNN_PRECISION_FLOAT32;
  std::string deviation_file;  ///< empty: no deviation output
  int deviation_every = 1;
};

/// Reads `path` into *settings; false with *problem set (naming path:line) on any error.
bool read_settings(const std::string& path, DriverSettings* settings, std::string* problem);

}  // namespace matnn::kim
