#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <hdf5.h>

#include "autodiff/tensor.hpp"
#include "io/hdf5_seal.hpp"
#include "models/state_file.hpp"
#include "test_helpers.hpp"

namespace matnn::models {
namespace {

using matnn::testing::status_of;
using matnn::testing::TempDir;

StateFile sample_state() {
  std::mt19937_64 rng(3);
  StateFile s;
  s.kind = "test_model";
  s.config = {{"hidden", {64, 32}}, {"activation", "silu"}, {"note", "ünïcode"}};
  s.tensors["member.0"]["layers.0.weight"] = ad::randn({5, 3}, rng, ad::DType::f32);
  s.tensors["member.0"]["layers.0.bias"] = ad::randn({3}, rng, ad::DType::f32);
  s.tensors["member.0"]["scale"] = ad::scalar(2.5, ad::DType::f64);
  s.tensors["member.0"]["rank4"] = ad::randn({2, 1, 3, 2}, rng, ad::DType::f64);
  s.tensors["member.0"]["empty"] = ad::zeros({0, 4}, ad::DType::f32);
  s.scalars["optimizer"] = {{"step", 1234}, {"lr", 1e-3}};
  return s;
}

TEST(StateFile, RoundTripIsExact) {
  TempDir dir;
  const StateFile in = sample_state();
  write_state_file(dir / "m.h5", in);
  const StateFile out = read_state_file(dir / "m.h5", model_format, "test_model");
  EXPECT_EQ(out.kind, in.kind);
  EXPECT_EQ(out.config, in.config);
  EXPECT_EQ(out.scalars, in.scalars);
  ASSERT_EQ(out.tensors.at("member.0").size(), in.tensors.at("member.0").size());
  for (const auto& [name, t] : in.tensors.at("member.0")) {
    const ad::Tensor& u = out.tensors.at("member.0").at(name);
    EXPECT_EQ(u.shape(), t.shape()) << name;
    EXPECT_EQ(u.dtype(), t.dtype()) << name;
    EXPECT_EQ(u.to_vector(), t.to_vector()) << name;
  }
}

TEST(StateFile, RejectsWrongFormatKindVersionAndCorruption) {
  TempDir dir;
  write_state_file(dir / "m.h5", sample_state());
  EXPECT_EQ(status_of([&] { read_state_file(dir / "m.h5", checkpoint_format); }), MATNN_ERROR_MODEL);
  EXPECT_EQ(status_of([&] { read_state_file(dir / "m.h5", model_format, "composition_mlp"); }), MATNN_ERROR_MODEL);
  EXPECT_EQ(status_of([&] { read_state_file(dir / "missing.h5", model_format); }), MATNN_ERROR_IO);

  std::ofstream(dir / "text.h5") << "not hdf5\n";
  EXPECT_EQ(status_of([&] { read_state_file(dir / "text.h5", model_format); }), MATNN_ERROR_MODEL);

  // Truncated file.
  std::filesystem::copy_file(dir / "m.h5", dir / "cut.h5");
  std::filesystem::resize_file(dir / "cut.h5", std::filesystem::file_size(dir / "cut.h5") / 2);
  EXPECT_EQ(status_of([&] { read_state_file(dir / "cut.h5", model_format); }), MATNN_ERROR_MODEL);

  // A newer format version: the message says so.
  {
    const hid_t f = H5Fopen((dir / "m.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    const long long newer = state_file_version + 1;
    H5Awrite(a, H5T_NATIVE_LLONG, &newer);
    H5Aclose(a);
    H5Fclose(f);
    h5::write_seal(dir / "m.h5", dir / "m.h5");  // as `matnn seal` would after the edit
  }
  try {
    read_state_file(dir / "m.h5", model_format);
    FAIL() << "a newer file was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_MODEL);
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST(StateFile, FailedWriteLeavesPreviousFile) {
  TempDir dir;
  write_state_file(dir / "m.h5", sample_state());
  const auto size = std::filesystem::file_size(dir / "m.h5");
  StateFile bad = sample_state();
  bad.tensors["member.0"]["a/b"] = ad::scalar(1.0);
  EXPECT_EQ(status_of([&] { write_state_file(dir / "m.h5", bad); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::filesystem::file_size(dir / "m.h5"), size);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

}  // namespace
}  // namespace matnn::models
