// oneDNN's convolution and average-pooling primitives on matnn's dense channels-first tensors.
//
// Convolutions let oneDNN choose its memory layouts (format_tag::any): its direct AVX-512 and
// AVX2 kernels want channels blocked by 8 or 16 (nCw16c, OIw16i16o), which a plain ncw/oihw
// descriptor rules out, leaving only its gemm-based kernels. Where the chosen layout differs
// from matnn's plain one, inputs are reordered into a buffer the cached primitive owns and
// outputs reordered back, so callers still see plain tensors. Pooling is memory-bound and stays
// plain.
//
// Creating a primitive costs far more than running a small one, so each thread keeps the
// primitives it made (with their reorders and buffers), keyed by pass and geometry; training
// repeats the same few shapes every step. Per-thread caches and streams also keep concurrent
// callers (several model handles used from host threads) apart. oneDNN reports failures as
// dnnl::error, which becomes a matnn::Error.
#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <unordered_map>
#include <vector>

#include "autodiff/conv_kernels.hpp"
#include "matnn/error.hpp"

namespace matnn::ad::detail {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

memory::desc plain_desc(int64_t a, int64_t b, int64_t h, int64_t w, Tag tag) {
  return memory::desc({a, b, h, w}, memory::data_type::f32, tag);
}

struct ConvDescs {
  memory::desc src, weights, dst;
  memory::dims strides, dilates, padding;
};

/// The descriptors with every layout left to oneDNN, for creating the primitives.
ConvDescs any_layout(ConvDescs d) {
  d.src = memory::desc(d.src.dims(), memory::data_type::f32, Tag::any);
  d.weights = memory::desc(d.weights.dims(), memory::data_type::f32, Tag::any);
  d.dst = memory::desc(d.dst.dims(), memory::data_type::f32, Tag::any);
  return d;
}

ConvDescs conv_descs(const Geometry2d& g) {
  return {plain_desc(g.batch, g.in_channels, g.in[0], g.in[1], Tag::nchw),
          plain_desc(g.out_channels, g.in_channels, g.kernel[0], g.kernel[1], Tag::oihw),
          plain_desc(g.batch, g.out_channels, g.out[0], g.out[1], Tag::nchw),
          {g.stride[0], g.stride[1]},
          {g.dilation[0] - 1, g.dilation[1] - 1},  // oneDNN counts the gaps between taps
          {g.padding[0], g.padding[1]}};
}

dnnl::convolution_forward::primitive_desc conv_forward_pd(const Geometry2d& g) {
  const ConvDescs d = any_layout(conv_descs(g));
  return {dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                          d.src, d.weights, d.dst, d.strides, d.dilates, d.padding, d.padding),
          cpu_engine()};
}

dnnl::pooling_forward::primitive_desc pool_forward_pd(const Geometry2d& g) {
  const memory::dims kernel{g.kernel[0], g.kernel[1]}, strides{g.stride[0], g.stride[1]},
      padding{g.padding[0], g.padding[1]};
  return {dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_avg_exclude_padding,
                                      plain_desc(g.batch, g.in_channels, g.in[0], g.in[1], Tag::nchw),
                                      plain_desc(g.batch, g.in_channels, g.out[0], g.out[1], Tag::nchw), strides,
                                      kernel, padding, padding),
          cpu_engine()};
}

enum class Pass { conv_forward, conv_backward_data, conv_backward_weights, pool_forward, pool_backward };

const char* pass_name(Pass pass) {
  switch (pass) {
    case Pass::conv_forward: return "forward";
    case Pass::conv_backward_data: return "backward_data";
    case Pass::conv_backward_weights: return "backward_weights";
    case Pass::pool_forward: return "avg_pool_forward";
    case Pass::pool_backward: return "avg_pool_backward";
  }
  return "?";
}

/// One argument of a primitive whose chosen layout is not the plain one: the buffer in the
/// chosen layout and the reorder between it and the caller's plain tensor.
struct Staged {
  int arg = 0;
  bool input = true;  ///< reordered into the buffer before the primitive, else out of it after
  memory buffer;
  dnnl::reorder reorder;
};

struct Cached {
  dnnl::primitive primitive;
  std::string implementation;
  std::vector<Staged> staged;
};

/// Stages argument `arg` when the primitive chose another layout than `plain` for it.
void stage(Cached& c, int arg, bool input, const memory::desc& plain, const memory::desc& chosen) {
  if (chosen == plain) return;
  memory buffer(chosen, cpu_engine());
  const memory::desc& from = input ? plain : chosen;
  const memory::desc& to = input ? chosen : plain;
  c.staged.push_back({arg, input, buffer, dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), from,
                                                                                      cpu_engine(), to))});
}

Cached make_primitive(Pass pass, const Geometry2d& g) {
  const ConvDescs plain = conv_descs(g), any = any_layout(plain);
  switch (pass) {
    case Pass::conv_forward: {
      const auto pd = conv_forward_pd(g);
      Cached c{dnnl::convolution_forward(pd), pd.impl_info_str(), {}};
      stage(c, DNNL_ARG_SRC, true, plain.src, pd.src_desc());
      stage(c, DNNL_ARG_WEIGHTS, true, plain.weights, pd.weights_desc());
      stage(c, DNNL_ARG_DST, false, plain.dst, pd.dst_desc());
      return c;
    }
    case Pass::conv_backward_data: {
      const dnnl::convolution_backward_data::primitive_desc pd(
          dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, any.src, any.weights, any.dst,
                                                any.strides, any.dilates, any.padding, any.padding),
          cpu_engine(), conv_forward_pd(g));
      Cached c{dnnl::convolution_backward_data(pd), pd.impl_info_str(), {}};
      stage(c, DNNL_ARG_DIFF_DST, true, plain.dst, pd.diff_dst_desc());
      stage(c, DNNL_ARG_WEIGHTS, true, plain.weights, pd.weights_desc());
      stage(c, DNNL_ARG_DIFF_SRC, false, plain.src, pd.diff_src_desc());
      return c;
    }
    case Pass::conv_backward_weights: {
      const dnnl::convolution_backward_weights::primitive_desc pd(
          dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any.src, any.weights,
                                                   any.dst, any.strides, any.dilates, any.padding, any.padding),
          cpu_engine(), conv_forward_pd(g));
      Cached c{dnnl::convolution_backward_weights(pd), pd.impl_info_str(), {}};
      stage(c, DNNL_ARG_SRC, true, plain.src, pd.src_desc());
      stage(c, DNNL_ARG_DIFF_DST, true, plain.dst, pd.diff_dst_desc());
      stage(c, DNNL_ARG_DIFF_WEIGHTS, false, plain.weights, pd.diff_weights_desc());
      return c;
    }
    case Pass::pool_forward: {
      const auto pd = pool_forward_pd(g);
      return {dnnl::pooling_forward(pd), pd.impl_info_str(), {}};
    }
    case Pass::pool_backward: {
      const memory::dims kernel{g.kernel[0], g.kernel[1]}, strides{g.stride[0], g.stride[1]},
          padding{g.padding[0], g.padding[1]};
      const dnnl::pooling_backward::primitive_desc pd(
          dnnl::pooling_backward::desc(dnnl::algorithm::pooling_avg_exclude_padding,
                                       plain_desc(g.batch, g.in_channels, g.in[0], g.in[1], Tag::nchw),
                                       plain_desc(g.batch, g.in_channels, g.out[0], g.out[1], Tag::nchw), strides,
                                       kernel, padding, padding),
          cpu_engine(), pool_forward_pd(g));
      return {dnnl::pooling_backward(pd), pd.impl_info_str(), {}};
    }
  }
  fail(MATNN_ERROR_INTERNAL, "oneDNN: unknown pass");
}

std::string cache_key(Pass pass, const Geometry2d& g) {
  return fmt::format("{} {} {} {} {}x{} {}x{} {}x{} {}x{} {}x{} {}x{}", static_cast<int>(pass), g.batch,
                     g.in_channels, g.out_channels, g.in[0], g.in[1], g.out[0], g.out[1], g.kernel[0], g.kernel[1],
                     g.stride[0], g.stride[1], g.padding[0], g.padding[1], g.dilation[0], g.dilation[1]);
}

const Cached& primitive_for(Pass pass, const Geometry2d& g) {
  // A model sees a few shapes (its layers, full and last batches, one-structure predictions);
  // the bound only stops a stream of ever-new shapes from growing the cache without end.
  constexpr std::size_t kMaxCached = 256;
  thread_local std::unordered_map<std::string, Cached> cache;
  std::string key = cache_key(pass, g);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kMaxCached) cache.clear();
  try {
    return cache.emplace(std::move(key), make_primitive(pass, g)).first->second;
  } catch (const dnnl::error& e) {
    fail(MATNN_ERROR_INTERNAL, "oneDNN could not create the {} primitive for {}: {}", pass_name(pass),
         cache_key(pass, g), e.what());
  }
}

memory wrap(const memory::desc& desc, const float* data) {
  return memory(desc, cpu_engine(), const_cast<float*>(data));  // oneDNN's handles are not const
}

void run(Pass pass, const Geometry2d& g, std::unordered_map<int, memory> args) {
  const Cached& cached = primitive_for(pass, g);
  try {
    dnnl::stream& stream = thread_stream();
    std::unordered_map<int, memory> plain;  // the caller's tensors of the staged arguments
    for (const Staged& s : cached.staged) {
      memory buffer = s.buffer;  // a handle: oneDNN's execute takes non-const ones
      plain.emplace(s.arg, args.at(s.arg));
      if (s.input) s.reorder.execute(stream, args.at(s.arg), buffer);
      args[s.arg] = buffer;
    }
    cached.primitive.execute(stream, args);
    for (const Staged& s : cached.staged) {
      memory buffer = s.buffer;
      if (!s.input) s.reorder.execute(stream, buffer, plain.at(s.arg));
    }
    stream.wait();
  } catch (const dnnl::error& e) {
    fail(MATNN_ERROR_INTERNAL, "oneDNN {} ({}) failed for {}: {}", pass_name(pass), cached.implementation,
         cache_key(pass, g), e.what());
  }
}

}  // namespace

void onednn_conv_forward(const Geometry2d& g, const float* x, const float* w, float* y) {
  const ConvDescs d = conv_descs(g);
  run(Pass::conv_forward, g, {{DNNL_ARG_SRC, wrap(d.src, x)}, {DNNL_ARG_WEIGHTS, wrap(d.weights, w)},
                              {DNNL_ARG_DST, wrap(d.dst, y)}});
}

void onednn_conv_backward_data(const Geometry2d& g, const float* gy, const float* w, float* gx) {
  const ConvDescs d = conv_descs(g);
  run(Pass::conv_backward_data, g, {{DNNL_ARG_DIFF_DST, wrap(d.dst, gy)}, {DNNL_ARG_WEIGHTS, wrap(d.weights, w)},
                                    {DNNL_ARG_DIFF_SRC, wrap(d.src, gx)}});
}

void onednn_conv_backward_weights(const Geometry2d& g, const float* x, const float* gy, float* gw) {
  const ConvDescs d = conv_descs(g);
  run(Pass::conv_backward_weights, g, {{DNNL_ARG_SRC, wrap(d.src, x)}, {DNNL_ARG_DIFF_DST, wrap(d.dst, gy)},
                                       {DNNL_ARG_DIFF_WEIGHTS, wrap(d.weights, gw)}});
}

void onednn_avg_pool_forward(const Geometry2d& g, const float* x, float* y) {
  run(Pass::pool_forward, g,
      {{DNNL_ARG_SRC, wrap(plain_desc(g.batch, g.in_channels, g.in[0], g.in[1], Tag::nchw), x)},
       {DNNL_ARG_DST, wrap(plain_desc(g.batch, g.in_channels, g.out[0], g.out[1], Tag::nchw), y)}});
}

void onednn_avg_pool_backward(const Geometry2d& g, const float* gy, float* gx) {
  run(Pass::pool_backward, g,
      {{DNNL_ARG_DIFF_DST, wrap(plain_desc(g.batch, g.in_channels, g.out[0], g.out[1], Tag::nchw), gy)},
       {DNNL_ARG_DIFF_SRC, wrap(plain_desc(g.batch, g.in_channels, g.in[0], g.in[1], Tag::nchw), gx)}});
}

std::string onednn_conv_implementation(const Geometry2d& g, const std::string& pass) {
  const Pass which = pass == "forward"         ? Pass::conv_forward
                     : pass == "backward_data" ? Pass::conv_backward_data
                                               : Pass::conv_backward_weights;
  return primitive_for(which, g).implementation;
}

}  // namespace matnn::ad::detail
