// matnn similar MODEL DATASET (QUERY | --index I) [-k N]: the dataset's structures nearest to a
// query structure in a property model's learned embedding space (workflows/similarity_job.hpp).
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/extxyz.hpp"
#include "models/property_model.hpp"
#include "workflows/similarity_job.hpp"

namespace matnn::cli {
namespace {

struct SimilarOptions {
  std::string model, dataset, query;
  long long index = -1;
  std::size_t k = 5;
};

std::string tag_of(const Record& r, const std::string& name) {
  const auto it = r.tags.find(name);
  return it == r.tags.end() ? "" : it->second;
}

void run_similar(const SimilarOptions& o) {
  if (o.query.empty() == (o.index < 0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "give either a QUERY structure file or --index of a dataset structure");
  const std::unique_ptr<models::PropertyModel> model = models::load_property_model(o.model);
  const std::vector<Record> records = DatasetReader(o.dataset).read_all();

  std::vector<Record> queries;
  std::string source;
  if (o.index >= 0) {
    if (static_cast<std::size_t>(o.index) >= records.size())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "--index {} is beyond the {} structures of {}", o.index, records.size(), o.dataset);
    queries.push_back(records[static_cast<std::size_t>(o.index)]);
    source = fmt::format("{} structure {}", o.dataset, o.index);
  } else {
    queries = resolve_format(o.query, "") == FileFormat::extxyz ? read_extxyz(o.query) : DatasetReader(o.query).read_all();
    source = o.query;
  }
  const workflows::SampleSet searched = workflows::samples_of(records, model->input_signal(), o.dataset);
  const workflows::SampleSet query_samples = workflows::samples_of(queries, model->input_signal(), source);
  // A dataset entry asks for the others: it would be its own nearest neighbour.
  const std::size_t extra = o.index >= 0 ? 1 : 0;
  const auto found = workflows::nearest_samples(*model, searched, query_samples, o.k + extra);

  const std::string& target = model->target().name;
  fmt::print("nearest structures of {} by {} ({} model)\n", o.dataset, workflows::similarity_metric(*model), model->kind());
  for (std::size_t q = 0; q < queries.size(); ++q) {
    fmt::print("query {} ({}, {}{}):\n", q, queries[q].structure.composition().formula(), source,
               o.index >= 0 ? "" : fmt::format(" frame {}", q));
    fmt::print("  {:>4} {:>7} {:>10}  {:<16} {:<12} {:<14} {}\n", "rank", "index", "distance", "formula", "prototype",
               target, "id");
    std::size_t rank = 0;
    for (const workflows::Neighbour& n : found[q]) {
      if (o.index >= 0 && n.index == static_cast<std::size_t>(o.index)) continue;
      if (rank == o.k) break;
      const Record& r = records[n.index];
      const auto label = r.properties.find(target);
      fmt::print("  {:>4} {:>7} {:>10.4g}  {:<16} {:<12} {:<14} {}\n", ++rank, n.index, n.distance,
                 r.structure.composition().formula(), tag_of(r, "prototype"),
                 label == r.properties.end() ? "" : fmt::format("{:.6g}", label->second.front()), tag_of(r, "id"));
    }
  }
}

}  // namespace

void add_similar_command(CLI::App& app) {
  auto options = std::make_shared<SimilarOptions>();
  CLI::App* cmd = app.add_subcommand(
      "similar", "List the dataset structures nearest to a query in a property model's embedding space");
  cmd->add_option("model", options->model, "Property model file written by matnn train")->required();
  cmd->add_option("dataset", options->dataset, "matnn HDF5 dataset to search")->required();
  cmd->add_option("query", options->query, "Query structures (.xyz/.extxyz or .h5), each searched for in turn");
  cmd->add_option("--index", options->index, "Instead of QUERY: this structure of the dataset (0-based)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-k", options->k, "Structures to list per query")->check(CLI::Range(std::size_t{1}, std::size_t{100000}))->capture_default_str();
  cmd->callback([options] { run_similar(*options); });
}

}  // namespace matnn::cli
