// Files that hold trained state: model files and training checkpoints share one HDF5 layout.
//
//   /                     attributes format ("matnn-model" | "matnn-checkpoint"), format_version,
//                         matnn_version, kind (e.g. "composition_mlp"), config (a JSON string:
//                         architecture, hyperparameters, units, element list, normalisation)
//   /tensors/<group>/<name>   float32 or float64 arrays in their natural shape; a rank-0 tensor
//                         is stored as one element with attribute rank = 0. Groups are e.g.
//                         "member.0" (ensemble member 0's parameters and buffers, dotted names
//                         as nn::Module gives them), "optimizer.0", "ema.0".
//   /scalars/<group>      one float64 attribute per scalar (step counts, learning rates).
//
// Readable with h5py: json.loads(f.attrs["config"]), f["tensors/member.0/layers.0.weight"][...].
// Written atomically (temporary file, then rename), so a crash mid-checkpoint keeps the previous
// checkpoint intact.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "autodiff/tensor.hpp"

namespace matnn::models {

/// Version of this layout; readers accept files with a version <= this one.
inline constexpr int state_file_version = 1;
inline constexpr const char* model_format = "matnn-model";
inline constexpr const char* checkpoint_format = "matnn-checkpoint";

struct StateFile {
  std::string format = model_format;  ///< model_format or checkpoint_format
  std::string kind;                   ///< model kind, e.g. "composition_mlp"
  nlohmann::json config = nlohmann::json::object();
  std::map<std::string, std::map<std::string, ad::Tensor>> tensors;  ///< group -> name -> tensor
  std::map<std::string, std::map<std::string, double>> scalars;      ///< group -> name -> value
};

/// Writes atomically; throws matnn::Error(MATNN_ERROR_IO) if the file cannot be written and
/// MATNN_ERROR_INVALID_ARGUMENT for names HDF5 cannot hold (empty, or containing '/').
void write_state_file(const std::string& path, const StateFile& state);

/// Reads and checks a state file. `expected_format` must match the file's format attribute and,
/// when not empty, `expected_kind` its kind; a mismatch, a newer format_version, or a file that is
/// not a matnn state file is MATNN_ERROR_MODEL with a message saying what was found; a missing or
/// unreadable file is MATNN_ERROR_IO; corrupt content MATNN_ERROR_MODEL.
StateFile read_state_file(const std::string& path, const std::string& expected_format,
                          const std::string& expected_kind = "");

/// The kind of a model file ("composition_mlp", "potential") without reading its tensors; the
/// same errors as read_state_file() for files that are not matnn model files.
std::string read_model_kind(const std::string& path);

}  // namespace matnn::models
