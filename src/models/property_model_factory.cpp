// The one place that maps a model file's kind to a property-model class.
#include "matnn/error.hpp"
#include "models/cgcnn/cgcnn_model.hpp"
#include "models/cnn/signal_model.hpp"
#include "models/composition_model.hpp"
#include "models/property_model.hpp"
#include "models/state_file.hpp"

namespace matnn::models {

bool is_property_model_kind(std::string_view kind) noexcept {
  return kind == CompositionModel::file_kind || kind == cgcnn::CgcnnModel::file_kind ||
         kind == cnn::SignalModel::spectrum_kind || kind == cnn::SignalModel::image_kind;
}

std::unique_ptr<PropertyModel> load_property_model(const std::string& path) {
  const std::string kind = read_model_kind(path);
  if (kind == CompositionModel::file_kind) return std::make_unique<CompositionModel>(CompositionModel::load(path));
  if (kind == cgcnn::CgcnnModel::file_kind) return std::make_unique<cgcnn::CgcnnModel>(cgcnn::CgcnnModel::load(path));
  if (kind == cnn::SignalModel::spectrum_kind || kind == cnn::SignalModel::image_kind)
    return std::make_unique<cnn::SignalModel>(cnn::SignalModel::load(path));
  fail(MATNN_ERROR_MODEL, "{}: model kind \"{}\" is not a property model (use composition_mlp, cgcnn, cnn1d or cnn2d)",
       path, kind);
}

}  // namespace matnn::models
