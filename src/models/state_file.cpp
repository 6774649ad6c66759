#include "models/state_file.hpp"

#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "io/hdf5_handle.hpp"
#include "matnn/atomic_file.hpp"
#include "matnn/error.hpp"
#include "matnn/input_file.hpp"
#include "matnn/version.hpp"

namespace matnn::models {
namespace {

constexpr const char* tensors_group = "tensors";
constexpr const char* scalars_group = "scalars";

void check_name(const std::string& name, const char* what) {
  if (name.empty() || name.find('/') != std::string::npos || name == ".") {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "state file: {} name \"{}\" is empty or contains '/'", what, name);
  }
}

template <typename T>
void write_tensor(const h5::Hdf5Context& ctx, hid_t group, const std::string& name, const ad::Tensor& t) {
  // Rank 0 is stored as one row: HDF5 chunked datasets need at least one dimension.
  const ad::Shape& shape = t.shape();
  const hsize_t rows = shape.empty() ? 1 : static_cast<hsize_t>(shape[0]);
  std::vector<hsize_t> row_shape;
  hsize_t row_elems = 1;
  for (std::size_t d = 1; d < shape.size(); ++d) {
    row_shape.push_back(static_cast<hsize_t>(shape[d]));
    row_elems *= static_cast<hsize_t>(shape[d]);
  }
  h5::CreateOptions options;
  options.min_chunk_rows = 1;
  h5::Dataset dataset = ctx.create_dataset<T>(group, name, rows, row_shape, T(0), options);
  ctx.write_rows<T>(dataset, name, 0, rows, row_elems, t.data<T>());
  if (shape.empty()) {
    const hid_t object = dataset.get();
    ctx.write_int_attribute(object, name, "rank", 0);
  }
}

ad::Tensor read_tensor(const h5::Hdf5Context& ctx, hid_t group, const std::string& name) {
  h5::Dataset dataset = ctx.open_dataset(group, name);
  if (ctx.type_class(dataset, name) != H5T_FLOAT) {
    ctx.raise_plain(MATNN_ERROR_MODEL, fmt::format("tensor {} is not floating point", name));
  }
  std::vector<hsize_t> dims = ctx.shape(dataset, name);
  ad::Shape shape(dims.begin(), dims.end());
  if (ctx.has_attribute(dataset.get(), "rank") && ctx.read_int_attribute(dataset.get(), name, "rank") == 0) {
    if (ad::shape_numel(shape) != 1) ctx.raise_plain(MATNN_ERROR_MODEL, fmt::format("scalar tensor {} has several values", name));
    shape.clear();
  }
  if (shape.size() > static_cast<std::size_t>(ad::kMaxRank)) {
    ctx.raise_plain(MATNN_ERROR_MODEL, fmt::format("tensor {} has rank {} (at most {})", name, shape.size(), ad::kMaxRank));
  }
  const hsize_t rows = dims.empty() ? 1 : dims[0];
  const hsize_t row_elems = rows == 0 ? 0 : static_cast<hsize_t>(ad::shape_numel(shape)) / rows;
  h5::Datatype type(ctx.check(H5Dget_type(dataset.get()), "cannot read the type of " + name));
  const bool single = H5Tget_size(type.get()) == 4;
  ad::Tensor t = ad::empty(shape, single ? ad::DType::f32 : ad::DType::f64);
  if (t.numel() > 0) {
    if (single) {
      ctx.read_rows<float>(dataset, name, h5::RowRange{0, rows}, row_elems, t.data<float>());
    } else {
      ctx.read_rows<double>(dataset, name, h5::RowRange{0, rows}, row_elems, t.data<double>());
    }
  }
  return t;
}

}  // namespace

void write_state_file(const std::string& path, const StateFile& state) {
  for (const auto& [group, tensors] : state.tensors) {
    check_name(group, "tensor group");
    for (const auto& entry : tensors) check_name(entry.first, "tensor");
  }
  for (const auto& [group, scalars] : state.scalars) {
    check_name(group, "scalar group");
    for (const auto& entry : scalars) check_name(entry.first, "scalar");
  }

  AtomicFile output(path);
  {
    h5::Hdf5ErrorSilencer silence;
    const h5::Hdf5Context ctx(path, MATNN_ERROR_IO, output.temp_path());
    h5::File file = ctx.create_file();
    const hid_t root = file.get();
    ctx.write_string_attribute(root, "/", "format", state.format);
    ctx.write_int_attribute(root, "/", "format_version", state_file_version);
    ctx.write_string_attribute(root, "/", "matnn_version", MATNN_VERSION_STRING);
    ctx.write_string_attribute(root, "/", "kind", state.kind);
    ctx.write_string_attribute(root, "/", "config", state.config.dump());

    {  // every group handle must be closed before the file is
    h5::Group tensors = ctx.create_group(root, tensors_group);
    for (const auto& [group_name, group_tensors] : state.tensors) {
      h5::Group group = ctx.create_group(tensors.get(), group_name);
      for (const auto& [name, tensor] : group_tensors) {
        if (tensor.dtype() == ad::DType::f32) {
          write_tensor<float>(ctx, group.get(), name, tensor);
        } else {
          write_tensor<double>(ctx, group.get(), name, tensor);
        }
      }
    }
    h5::Group scalars = ctx.create_group(root, scalars_group);
    for (const auto& [group_name, group_scalars] : state.scalars) {
      h5::Group group = ctx.create_group(scalars.get(), group_name);
      for (const auto& [name, value] : group_scalars) {
        h5::Dataspace space(ctx.check(H5Screate(H5S_SCALAR), "cannot create attribute " + name));
        h5::Attribute attribute(ctx.check(
            H5Acreate2(group.get(), name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
            "cannot create attribute " + name));
        ctx.check_status(H5Awrite(attribute.get(), H5T_NATIVE_DOUBLE, &value), "cannot write attribute " + name);
      }
    }
    }
    if (!file.close()) ctx.raise("cannot finish writing the file");
    ctx.seal();
  }
  output.commit();
}

namespace {

// Opens a state file and checks its format, version and kind attributes; fills format and kind.
h5::File open_checked(const h5::Hdf5Context& ctx, const std::string& expected_format, const std::string& expected_kind,
                      StateFile& state) {
  const std::string& path = ctx.path();
  check_input_file(path, fmt::format("a {} file", expected_format));
  h5::File file = ctx.open_file(false);
  const hid_t root = file.get();
  if (!ctx.has_attribute(root, "format")) {
    ctx.raise_plain(MATNN_ERROR_MODEL, fmt::format("not a matnn {} file (no format attribute)", expected_format));
  }
  state.format = ctx.read_string_attribute(root, "/", "format");
  if (state.format != expected_format) {
    ctx.raise_plain(MATNN_ERROR_MODEL, fmt::format("is a \"{}\" file, expected \"{}\"", state.format, expected_format));
  }
  const std::int64_t version = ctx.read_int_attribute(root, "/", "format_version");
  if (version > state_file_version) {
    ctx.raise_plain(MATNN_ERROR_MODEL,
                    fmt::format("was written by a newer matnn ({}, format version {}; this build reads up to {})",
                                ctx.read_string_attribute(root, "/", "matnn_version"), version, state_file_version));
  }
  state.kind = ctx.read_string_attribute(root, "/", "kind");
  if (!expected_kind.empty() && state.kind != expected_kind) {
    ctx.raise_plain(MATNN_ERROR_MODEL, fmt::format("holds a \"{}\" model, expected \"{}\"", state.kind, expected_kind));
  }
  return file;
}

}  // namespace

std::string read_model_kind(const std::string& path) {
  h5::Hdf5ErrorSilencer silence;
  const h5::Hdf5Context ctx(path, MATNN_ERROR_MODEL);
  StateFile state;
  open_checked(ctx, model_format, "", state);
  return state.kind;
}

StateFile read_state_file(const std::string& path, const std::string& expected_format,
                          const std::string& expected_kind) {
  h5::Hdf5ErrorSilencer silence;
  const h5::Hdf5Context ctx(path, MATNN_ERROR_MODEL);
  StateFile state;
  h5::File file = open_checked(ctx, expected_format, expected_kind, state);
  const hid_t root = file.get();
  try {
    state.config = nlohmann::json::parse(ctx.read_string_attribute(root, "/", "config"));
  } catch (const nlohmann::json::exception& e) {
    ctx.raise_plain(MATNN_ERROR_MODEL, fmt::format("config attribute is not valid JSON: {}", e.what()));
  }

  h5::Group tensors = ctx.open_group(root, tensors_group);
  for (const std::string& group_name : ctx.children(tensors.get(), tensors_group)) {
    h5::Group group = ctx.open_group(tensors.get(), group_name);
    auto& out = state.tensors[group_name];
    for (const std::string& name : ctx.children(group.get(), group_name)) out[name] = read_tensor(ctx, group.get(), name);
  }
  h5::Group scalars = ctx.open_group(root, scalars_group);
  for (const std::string& group_name : ctx.children(scalars.get(), scalars_group)) {
    h5::Group group = ctx.open_group(scalars.get(), group_name);
    auto& out = state.scalars[group_name];
    const int n = H5Aget_num_attrs(group.get());
    for (int i = 0; i < n; ++i) {
      h5::Attribute attribute(ctx.check(H5Aopen_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC,
                                                       static_cast<hsize_t>(i), H5P_DEFAULT, H5P_DEFAULT),
                                        "cannot open a scalar of " + group_name));
      const ssize_t length = H5Aget_name(attribute.get(), 0, nullptr);
      std::string name(static_cast<std::size_t>(std::max<ssize_t>(length, 0)), '\0');
      H5Aget_name(attribute.get(), name.size() + 1, name.data());
      double value = 0;
      ctx.check_status(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value), "cannot read scalar " + name);
      out[name] = value;
    }
  }
  return state;
}

}  // namespace matnn::models
