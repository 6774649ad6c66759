// Spectrum and image models (cnn1d, cnn2d): the network's gradients against finite differences,
// per-channel batch normalisation, input checks and resampling, save and load, and training
// jobs that must learn where a diffraction-like peak sits.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/dataset.hpp"
#include "models/cnn/signal_model.hpp"
#include "test_helpers.hpp"
#include "workflows/property_job.hpp"

namespace matnn {
namespace {

using matnn::testing::status_of;
using matnn::testing::TempDir;
using models::cnn::SignalArchitecture;
using models::cnn::SignalModel;
using models::cnn::SignalModelConfig;
using models::cnn::SignalNetwork;

TEST(SignalNetwork, ParameterGradientsMatchFiniteDifferences) {
  for (const int rank : {1, 2}) {
    for (const bool residual : {false, true}) {
      SCOPED_TRACE(std::string(rank == 1 ? "spectra" : "images") + (residual ? ", residual" : ""));
      SignalArchitecture a;
      a.spatial_rank = rank;
      a.in_channels = 2;
      a.channels = {3, 4};
      a.kernel = 3;
      a.residual = residual;
      a.input_size = rank == 1 ? std::vector<std::int64_t>{9} : std::vector<std::int64_t>{5, 6};
      a.flatten = !residual;  // both heads
      a.hidden = 5;
      a.outputs = 2;
      a.scale_input = rank == 2;  // images read their pixel scale
      SignalNetwork net(a, 11);
      net.to(ad::DType::f64);  // training mode: batch statistics, a smooth function of the weights
      std::mt19937_64 rng(3);
      const ad::Tensor x = ad::randn(rank == 1 ? ad::Shape{3, 2, 9} : ad::Shape{3, 2, 5, 6}, rng, ad::DType::f64);
      const ad::Tensor w = ad::randn({3, 2}, rng, ad::DType::f64);
      const ad::Tensor scale = rank == 2 ? ad::randn({3, 1}, rng, ad::DType::f64) : ad::Tensor();
      auto loss = [&] { return ad::sum(ad::mul(ad::tanh(net.forward_all(x, scale).value), w)); };
      const std::vector<ad::Tensor> params = net.parameters();
      const std::vector<ad::Tensor> grads = ad::grad({loss()}, params);
      for (std::size_t p = 0; p < params.size(); p += 3) {  // a sample of the tensors, first entry of each
        double* v = params[p].data<double>();
        const double keep = v[0], eps = 1e-6;
        v[0] = keep + eps;
        const double up = loss().item();
        v[0] = keep - eps;
        const double down = loss().item();
        v[0] = keep;
        EXPECT_NEAR(grads[p].to_vector()[0], (up - down) / (2 * eps), 1e-6 + 1e-5 * std::abs(up - down) / eps)
            << net.named_parameters()[p].first;
      }
    }
  }
}

TEST(ChannelBatchNorm, NormalisesEveryChannelOverBatchAndPositions) {
  nn::ChannelBatchNorm norm(3);
  std::mt19937_64 rng(5);
  const ad::Tensor x = ad::add(ad::mul(ad::randn({4, 3, 5, 6}, rng, ad::DType::f32), 3.0), 7.0);
  const std::vector<double> y = norm.forward(x).to_vector();
  for (int c = 0; c < 3; ++c) {
    double sum = 0, squares = 0;
    for (int n = 0; n < 4; ++n)
      for (int i = 0; i < 30; ++i) {
        const double v = y[static_cast<std::size_t>((n * 3 + c) * 30 + i)];
        sum += v;
        squares += v * v;
      }
    EXPECT_NEAR(sum / 120, 0.0, 1e-5) << "channel " << c;
    EXPECT_NEAR(squares / 120, 1.0, 1e-3) << "channel " << c;
  }
}

std::vector<double> grid(double start, double stop, int points) {
  std::vector<double> g(static_cast<std::size_t>(points));
  for (int i = 0; i < points; ++i) g[static_cast<std::size_t>(i)] = start + (stop - start) * i / (points - 1);
  return g;
}

/// A pattern with one Gaussian peak of unit height at `centre` (and a weaker one at 30) on `axis`.
Signal peak_pattern(const std::vector<double>& axis, double centre, double height = 1.0) {
  std::vector<float> v;
  for (double t : axis)
    v.push_back(static_cast<float>(height * (std::exp(-0.5 * std::pow((t - centre) / 0.3, 2)) +
                                             0.3 * std::exp(-0.5 * std::pow((t - 30) / 0.3, 2)))));
  return make_spectrum(axis, std::move(v), "2theta", "degree");
}

SignalModelConfig spectrum_config(const std::vector<double>& axis) {
  SignalModelConfig c;
  c.target.name = "a";
  c.signal = "xrd";
  c.shape = {1, static_cast<std::int64_t>(axis.size())};
  c.axis = axis;
  c.axis_name = "2theta";
  c.axis_unit = "degree";
  c.channels = {4, 8};
  c.kernel = 5;
  c.hidden = 8;
  c.ensemble = 2;
  return c;
}

TEST(SignalModel, InputsArePutOnTheModelGridAndNormalised) {
  const std::vector<double> axis = grid(10, 50, 161);
  const SignalModel model(spectrum_config(axis));
  // The same pattern measured five times higher on a finer grid that covers the model's range.
  const std::vector<double> fine = grid(8, 52, 881);
  const std::vector<Signal> signals{peak_pattern(axis, 25.0), peak_pattern(fine, 25.0, 5.0)};
  const std::vector<double> x = model.inputs(signals).to_vector();
  ASSERT_EQ(x.size(), 2u * 161u);
  double largest = 0;
  for (std::size_t i = 0; i < 161; ++i) {
    largest = std::max(largest, x[i]);
    EXPECT_NEAR(x[161 + i], x[i], 2e-3) << "point " << i;  // linear interpolation of a 0.3-wide peak
  }
  EXPECT_DOUBLE_EQ(largest, 1.0);

  const std::vector<Signal> short_range{peak_pattern(axis, 25.0), peak_pattern(grid(12, 50, 100), 25.0)};
  try {
    model.inputs(short_range);
    ADD_FAILURE() << "a pattern that does not cover the grid was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("sample 1"), std::string::npos) << e.what();
  }
  const std::vector<Signal> image{make_image(1, 4, 4, std::vector<float>(16, 1.0f), 1.0, "nm")};
  EXPECT_EQ(status_of([&] { model.inputs(image); }), MATNN_ERROR_INVALID_ARGUMENT);
  // A structure batch is not what a spectrum model reads.
  const std::vector<Structure> structures(2);
  EXPECT_EQ(status_of([&] { model.predict(structures); }), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(SignalModel, SavedModelsPredictTheSameBits) {
  TempDir dir;
  const std::vector<double> axis = grid(10, 50, 161);
  SignalModelConfig config = spectrum_config(axis);
  config.dropout = 0.2;
  SignalModel model(config);
  std::vector<Signal> signals;
  for (int k = 0; k < 5; ++k) signals.push_back(peak_pattern(axis, 15.0 + 6 * k));
  model.fit_normalization(signals, Eigen::VectorXd::LinSpaced(5, 3.0, 4.0));
  model.save(dir / "m.h5");
  const std::unique_ptr<models::PropertyModel> back = models::load_property_model(dir / "m.h5");
  EXPECT_STREQ(back->kind(), "cnn1d");
  EXPECT_EQ(back->input_signal(), "xrd");
  models::PredictOptions options;
  options.embeddings = true;
  const models::PropertyPrediction a = model.predict(signals, options), b = back->predict(signals, options);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.sigma, b.sigma);
  EXPECT_EQ(a.embedding, b.embedding);
  EXPECT_EQ(a.embedding.cols(), 8);
  options.mc_samples = 4;
  options.seed = 9;
  EXPECT_EQ(model.predict(signals, options).value, back->predict(signals, options).value);
}

/// Peaks whose position sets the label: "a" (regression) is the peak position over 10, and
/// "system" (classification) is whether it lies above 30 degrees.
void write_peak_dataset(const std::string& path, int rows) {
  const std::vector<double> axis = grid(10, 50, 201);
  std::mt19937_64 rng(17);
  std::vector<Record> records;
  for (int k = 0; k < rows; ++k) {
    const double centre = 14 + 32 * static_cast<double>(rng() % 10000) / 10000.0;
    Record r;
    Signal s = peak_pattern(axis, centre, 0.5 + static_cast<double>(rng() % 100) / 100.0);
    for (float& v : s.values) v += 0.02f * static_cast<float>(rng() % 100) / 100.0f;
    r.signals.emplace("xrd", std::move(s));
    r.properties["a"] = {centre / 10.0};
    r.properties["system"] = {centre > 30 ? 1.0 : 0.0};
    r.tags["id"] = "peak-" + std::to_string(k);
    records.push_back(std::move(r));
  }
  write_dataset(path, records, {{{"a", "Angstrom"}}});
}

train::Json peak_config(const TempDir& dir, const std::string& task, const std::string& target) {
  return {{"dataset", dir / "peaks.h5"},
          {"seed", 4},
          {"model",
           {{"kind", "cnn1d"}, {"signal", "xrd"}, {"task", task}, {"target", target}, {"channels", {8, 16, 16}},
            {"kernel", 5}, {"hidden", 16}}},
          {"split", {{"kind", "random"}, {"validation", 0.1}, {"test", 0.2}}},
          {"training", {{"epochs", 25}, {"batch_size", 16}}},
          {"optimizer", {{"name", "adam"}, {"lr", 3e-3}}},
          {"output", {{"model", dir / (target + ".h5")}}}};
}

TEST(SignalModel, TrainingLearnsWhereThePeakIs) {
  TempDir dir;
  write_peak_dataset(dir / "peaks.h5", 160);
  workflows::TrainJobOptions quiet;
  quiet.print_progress = false;
  const workflows::TrainJobResult classes =
      workflows::train_property_model(peak_config(dir, "classification", "system"), quiet);
  const workflows::TrainJobResult values = workflows::train_property_model(peak_config(dir, "regression", "a"), quiet);
  std::printf("peaks: test accuracy %.3f; position MAE %.3f against %.3f for the mean\n",
              classes.test_metrics.at("accuracy"), values.test_metrics.at("mae"), values.test_metrics.at("baseline_mae"));
  EXPECT_GE(classes.test_metrics.at("accuracy"), 0.9);
  EXPECT_LT(values.test_metrics.at("mae"), 0.3 * values.test_metrics.at("baseline_mae"));
  // `matnn eval --subset test` rebuilds the same numbers from the model file.
  const auto test = workflows::evaluate_property_model(*models::load_property_model(dir / "a.h5"), dir / "peaks.h5", "test");
  EXPECT_DOUBLE_EQ(test.at("mae"), values.test_metrics.at("mae"));
}

/// Powder patterns of fcc crystals (the 111 and 200 lines by Bragg's law at Cu K-alpha, 30 to 60
/// degrees) labelled with the lattice parameter "a" in Angstrom, spread evenly over [3.5, 3.9].
void write_fcc_dataset(const std::string& path, int rows) {
  const std::vector<double> axis = grid(30, 60, 301);
  std::vector<Record> records;
  for (int k = 0; k < rows; ++k) {
    const double a = 3.5 + 0.4 * (k + 0.5) / rows, lambda = 1.5406;
    std::vector<float> v(axis.size());
    for (const double d : {a / std::sqrt(3.0), a / 2}) {
      const double centre = 2 * std::asin(lambda / (2 * d)) * 180 / M_PI;
      for (std::size_t i = 0; i < axis.size(); ++i)
        v[i] += static_cast<float>((d == a / 2 ? 0.5 : 1.0) * std::exp(-0.5 * std::pow((axis[i] - centre) / 0.25, 2)));
    }
    Record r;
    r.signals.emplace("xrd", make_spectrum(axis, std::move(v), "2theta", "degree"));
    r.properties["a"] = {a};
    records.push_back(std::move(r));
  }
  write_dataset(path, records, {{{"a", "Angstrom"}}});
}

TEST(SignalModel, StrainAugmentationTeachesLatticeParametersBeyondTheTrainingRange) {
  // Trained on a in [3.62, 3.78], tested on a below 3.56 and above 3.84: a 5 % strain with the
  // label strained alike shows the network those lattices, correctly labelled; with the label
  // kept fixed it does not.
  TempDir dir;
  const int rows = 200;
  write_fcc_dataset(dir / "fcc.h5", rows);
  std::vector<std::size_t> train, validation, test;
  for (int k = 0; k < rows; ++k) {
    const double a = 3.5 + 0.4 * (k + 0.5) / rows;
    if (a > 3.62 && a < 3.78) (k % 8 == 0 ? validation : train).push_back(static_cast<std::size_t>(k));
    if (a < 3.56 || a > 3.84) test.push_back(static_cast<std::size_t>(k));
  }
  train::Json config = {{"dataset", dir / "fcc.h5"},
                        {"seed", 3},
                        {"model",
                         {{"kind", "cnn1d"}, {"signal", "xrd"}, {"target", "a"}, {"channels", {8, 16, 16}},
                          {"kernel", 5}, {"hidden", 16},
                          {"augment", {{"strain", 0.05}, {"strain_target", "length"}}}}},
                        {"split", {{"train", train}, {"validation", validation}, {"test", test}}},
                        {"training", {{"epochs", 40}, {"batch_size", 16}}},
                        {"optimizer", {{"name", "adam"}, {"lr", 3e-3}}},
                        {"output", {{"model", dir / "fcc.model.h5"}}}};
  workflows::TrainJobOptions quiet;
  quiet.print_progress = false;
  const double strained = workflows::train_property_model(config, quiet).test_metrics.at("mae");
  config["model"]["augment"]["strain_target"] = "fixed";
  const double fixed = workflows::train_property_model(config, quiet).test_metrics.at("mae");
  std::printf("fcc lattice parameter outside the training range: MAE %.4f A (label strained), %.4f A (fixed)\n",
              strained, fixed);
  EXPECT_LT(strained, 0.5 * fixed);
  EXPECT_LT(strained, 0.02);
  // Strain needs a 2theta axis and, for a regression target, a choice of what the label does.
  config["model"]["augment"].erase("strain_target");
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
}

/// 16 x 16 images of bright discs on a noisy background, labelled with the disc area fraction
/// ("fraction"), pixel size 10 nm.
void write_disc_dataset(const std::string& path, int rows) {
  std::mt19937_64 rng(29);
  std::vector<Record> records;
  for (int k = 0; k < rows; ++k) {
    const double radius = 2.0 + 5.0 * static_cast<double>(rng() % 1000) / 1000.0;
    const double cx = 6 + static_cast<double>(rng() % 5), cy = 6 + static_cast<double>(rng() % 5);
    std::vector<float> v(256);
    int inside = 0;
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x) {
        const bool in = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius;
        inside += in;
        v[static_cast<std::size_t>(y * 16 + x)] = (in ? 1.0f : 0.2f) + 0.05f * static_cast<float>(rng() % 100) / 100.0f;
      }
    Record r;
    r.signals.emplace("sem", make_image(1, 16, 16, std::move(v), 10.0, "nm"));
    r.properties["fraction"] = {inside / 256.0};
    records.push_back(std::move(r));
  }
  write_dataset(path, records);
}

TEST(SignalModel, ImageModelLearnsAnAreaFraction) {
  TempDir dir;
  write_disc_dataset(dir / "discs.h5", 120);
  train::Json config = {{"dataset", dir / "discs.h5"},
                        {"seed", 6},
                        {"model",
                         {{"kind", "cnn2d"}, {"signal", "sem"}, {"target", "fraction"}, {"channels", {8, 16}},
                          {"hidden", 16}, {"augment", {{"flip", true}, {"crop", 0.9}}}}},
                        {"split", {{"kind", "random"}, {"validation", 0.1}, {"test", 0.2}}},
                        {"training", {{"epochs", 15}, {"batch_size", 16}}},
                        {"optimizer", {{"name", "adam"}, {"lr", 3e-3}}},
                        {"output", {{"model", dir / "discs.model.h5"}}}};
  workflows::TrainJobOptions quiet;
  quiet.print_progress = false;
  const workflows::TrainJobResult result = workflows::train_property_model(config, quiet);
  std::printf("discs: area fraction MAE %.4f against %.4f for the mean\n", result.test_metrics.at("mae"),
              result.test_metrics.at("baseline_mae"));
  EXPECT_LT(result.test_metrics.at("mae"), 0.35 * result.test_metrics.at("baseline_mae"));
  // The same images at another magnification are flagged out of distribution.
  const std::unique_ptr<models::PropertyModel> model = models::load_property_model(dir / "discs.model.h5");
  std::vector<Signal> images;
  for (const Record& r : DatasetReader(dir / "discs.h5").read(0, 4)) images.push_back(r.signals.at("sem"));
  EXPECT_FALSE(model->predict(images).ood[0]);
  images[0].pixel_size = 30.0;
  EXPECT_TRUE(model->predict(images).ood[0]);
}

TEST(SignalModel, RefusesConfigsThatDoNotFitTheData) {
  TempDir dir;
  write_peak_dataset(dir / "peaks.h5", 20);
  workflows::TrainJobOptions quiet;
  quiet.print_progress = false;
  train::Json config = peak_config(dir, "regression", "a");
  config["model"]["signal"] = "xafs";  // no row has it
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = peak_config(dir, "regression", "a");
  config["model"]["kind"] = "cnn2d";  // the signal holds spectra
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = peak_config(dir, "regression", "a");
  config["model"]["kernel"] = 4;
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = peak_config(dir, "regression", "a");
  config["model"]["augment"] = {{"flip", true}};
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = peak_config(dir, "regression", "a");
  config["model"]["augment"] = {{"shift", 0.05}};  // below the 0.2 degree step: would do nothing
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = peak_config(dir, "regression", "a");
  config["model"]["augment"] = {{"crop", 0.8}};  // spectra are not cropped
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = peak_config(dir, "regression", "a");
  config["model"]["augment"] = {{"shfit", 0.1}};  // misspelt: an error, not a run without it
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace matnn
