// Property models: one number (regression) or one class (classification) per structure, the
// property-side twin of the interatomic potentials. Every kind (the composition MLP, the crystal
// graph network CGCNN) answers the same questions: the value with its uncertainty and class
// probabilities, an out-of-distribution flag, and a learned embedding of the structure for
// similarity search. The command line, the C ABI and the bindings see only this interface and
// load_property_model(), so a new kind is added in one place (property_model_factory.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "matnn/signal.hpp"
#include "matnn/structure.hpp"
#include "models/property_uncertainty.hpp"
#include "models/state_file.hpp"
#include "nn/module.hpp"

namespace matnn::models {

enum class TaskKind { regression, classification };

const char* task_name(TaskKind task) noexcept;
/// "regression" / "classification"; anything else is MATNN_ERROR_INVALID_ARGUMENT.
TaskKind task_from_name(const std::string& name);

/// What a property model predicts.
struct PropertyTarget {
  TaskKind task = TaskKind::regression;
  std::string name;   ///< the dataset label, e.g. "formation_energy"
  std::string unit;   ///< its unit as the dataset records it (regression)
  int n_classes = 0;  ///< classification: classes 0 .. n_classes - 1
};

struct PropertyPrediction {
  Eigen::VectorXd value;          ///< regression: ensemble mean (target unit); classification: class index
  Eigen::VectorXd sigma;          ///< regression: std over members/samples; classification: std of the class probability
  Eigen::MatrixXd probabilities;  ///< classification: n x n_classes mean probabilities (empty for regression)
  /// Larger is further from the training data: the embedding distance to the nearest training
  /// structures (UncertaintyCalibration::distance) when the model has an embedding reference,
  /// otherwise the kind's own score (each kind says how it is measured).
  Eigen::VectorXd ood_score;
  /// Out of the training distribution: the kind's own test (an element never trained on, ...),
  /// or an embedding distance above the model's threshold.
  std::vector<bool> ood;
  Eigen::MatrixXd embedding;      ///< n x embedding_width(), when PredictOptions::embeddings
};

struct PredictOptions {
  /// Monte-Carlo dropout passes per ensemble member (0: off; needs supports_mc_dropout()).
  int mc_samples = 0;
  /// Also return each structure's learned embedding.
  bool embeddings = false;
  /// The Monte-Carlo dropout stream: the same seed gives the same samples, and each call draws
  /// from a stream of its own, so calls may run concurrently on one model.
  std::uint64_t seed = 0;
  /// The number of the first sample in the caller's numbering. A sample's Monte-Carlo masks
  /// depend on the seed and its number only (nn::McDropoutStream), so a dataset predicted in
  /// blocks, each with its first sample's number here, gets the samples of one whole call.
  std::uint64_t first_row = 0;
};

/// The inputs of a batch: structures for the kinds that read atoms (composition, crystal graph),
/// signals for the kinds that read a spectrum or an image (input_signal() names which). A kind
/// reads the one it needs and refuses a batch without it (MATNN_ERROR_INVALID_ARGUMENT).
struct Samples {
  std::span<const Structure> structures;
  std::span<const Signal> signals;

  Samples() = default;
  Samples(std::span<const Structure> s) : structures(s) {}  // NOLINT: a batch of structures is samples
  Samples(const std::vector<Structure>& s) : structures(s) {}  // NOLINT
  Samples(std::span<const Signal> s) : signals(s) {}  // NOLINT
  Samples(const std::vector<Signal>& s) : signals(s) {}  // NOLINT
  Samples(std::span<const Structure> s, std::span<const Signal> g) : structures(s), signals(g) {}
  std::size_t size() const noexcept { return std::max(structures.size(), signals.size()); }
  /// Samples [first, first + count) of both inputs (those that are given).
  Samples slice(std::size_t first, std::size_t count) const;
};

class PropertyModel {
 public:
  virtual ~PropertyModel() = default;

  /// The model-file kind, e.g. "composition_mlp" or "cgcnn".
  virtual const char* kind() const noexcept = 0;
  virtual const PropertyTarget& target() const noexcept = 0;
  /// The elements of the training data, ascending (others are predicted but flagged OOD).
  virtual const std::vector<int>& elements() const noexcept = 0;
  /// False for models that read only the composition (positions and cell are ignored).
  virtual bool uses_geometry() const noexcept = 0;
  /// The name of the dataset signal the model reads (a spectrum or image kind), or "" for the
  /// kinds that read structures.
  virtual std::string input_signal() const { return {}; }
  virtual bool supports_mc_dropout() const noexcept = 0;
  virtual std::int64_t embedding_width() const noexcept = 0;
  virtual std::size_t ensemble_size() const noexcept = 0;

  /// Predictions for samples (validated first: a bad structure or signal is an error naming its
  /// index), with the model's uncertainty calibration applied. Safe to call from several threads.
  virtual PropertyPrediction predict(const Samples& samples, const PredictOptions& options = {}) const = 0;

  /// Atomic write of the model file (models/state_file.hpp layout, this kind).
  virtual void save(const std::string& path) const = 0;

  /// Where the model came from (dataset, split, training options): saved with the model, so
  /// `matnn eval --subset test` can rebuild the held-out split.
  nlohmann::json& provenance() noexcept { return provenance_; }
  const nlohmann::json& provenance() const noexcept { return provenance_; }

  /// The sigma recalibration and embedding OOD reference (property_uncertainty.hpp), fitted by
  /// the training job after the members are trained; saved with the model.
  const UncertaintyCalibration& calibration() const noexcept { return calibration_; }
  void set_calibration(UncertaintyCalibration calibration) { calibration_ = std::move(calibration); }

  /// The Monte-Carlo dropout stream seed of one pass of one member (its rows numbered from
  /// options.first_row by the stream).
  static std::uint64_t mc_seed(const PredictOptions& options, std::size_t member, int pass);

 protected:
  /// The structures of a batch for the kinds that read atoms; MATNN_ERROR_INVALID_ARGUMENT
  /// naming the kind when the batch holds only signals. signals_of: the same for signal kinds.
  std::span<const Structure> structures_of(const Samples& samples) const;
  std::span<const Signal> signals_of(const Samples& samples) const;
  /// Whether predict() must compute embeddings: asked for, or needed by the OOD reference.
  bool wants_embeddings(const PredictOptions& options) const noexcept {
    return options.embeddings || calibration_.has_reference();
  }
  /// The last step of every kind's predict(): applies the calibration (sigma scale for
  /// deterministic regression, embedding OOD score and flag) and drops embeddings not asked for.
  void finish_prediction(PropertyPrediction& prediction, const PredictOptions& options) const;
  /// Reads what model_file() wrote besides the members: the provenance and the calibration.
  void load_common(const StateFile& file, const std::string& path);
  /// The model file of this kind every kind starts from: `config` with the provenance, and each
  /// ensemble member's parameters and buffers under member.K; the kind adds its own groups.
  StateFile model_file(nlohmann::json config, const std::vector<const nn::Module*>& members) const;
  template <typename Pointer>
  static std::vector<const nn::Module*> modules_of(const std::vector<Pointer>& members) {
    std::vector<const nn::Module*> out;
    for (const Pointer& m : members) out.push_back(m.get());
    return out;
  }

  nlohmann::json provenance_ = nlohmann::json::object();
  UncertaintyCalibration calibration_;
};

/// Fills value, sigma and (classification) probabilities of `prediction` from the samples of
/// an ensemble (members times Monte-Carlo passes), each n x outputs: values in the target unit
/// (regression) or class probabilities (classification). Classification takes the class of the
/// largest mean probability, with the spread of that probability over the samples as sigma.
void summarize_samples(const std::vector<Eigen::MatrixXd>& samples, TaskKind task, PropertyPrediction& prediction);

/// The property-model kinds a model file may hold.
bool is_property_model_kind(std::string_view kind) noexcept;

/// Loads any property model file; MATNN_ERROR_MODEL for a potential or an unknown kind.
std::unique_ptr<PropertyModel> load_property_model(const std::string& path);

}  // namespace matnn::models
