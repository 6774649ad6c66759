#include "workflows/split_job.hpp"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "matnn/atomic_file.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "workflows/job_common.hpp"

namespace matnn::workflows {

namespace {

// The structures a split covers (those with the target, when one is given) and their keys.
struct Eligible {
  std::size_t n_records = 0;
  std::vector<std::size_t> index;  ///< dataset indices
  std::vector<data::SplitKey> keys;
};

Eligible eligible_structures(const std::string& dataset_path, const data::SplitOptions& options, const std::string& target) {
  const std::vector<Record> records = DatasetReader(dataset_path).read_all();
  Eligible out;
  out.n_records = records.size();
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!target.empty() && records[i].properties.count(target) == 0) continue;
    out.index.push_back(i);
    out.keys.push_back(split_key(records[i], options.kind));
  }
  if (out.index.size() < 2)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: {} structures{}; a split needs at least 2", dataset_path, out.index.size(),
         target.empty() ? "" : " have the label \"" + target + "\"");
  if (options.kind == data::SplitKind::cluster) {
    std::vector<Composition> compositions;
    for (std::size_t i : out.index) compositions.push_back(records[i].structure.composition());
    assign_cluster_groups(out.keys, compositions, options.clusters, options.seed);
  }
  return out;
}

void write_json_atomically(const std::string& path, const nlohmann::json& document) {
  AtomicFile atomic(path);
  {
    std::ofstream stream(atomic.temp_path());
    stream << document.dump(1) << '\n';
    stream.flush();
    if (!stream) fail(MATNN_ERROR_IO, "{}: cannot write the split", path);
  }
  atomic.commit();
}

}  // namespace

SplitFileSummary write_split_file(const std::string& dataset_path, const data::SplitOptions& options,
                                  const std::string& target, const std::string& output_path) {
  const Eligible eligible = eligible_structures(dataset_path, options, target);
  const std::vector<std::size_t>& index = eligible.index;
  const std::vector<data::SplitKey>& keys = eligible.keys;
  const data::Split rows = data::make_split(keys, options);

  SplitFileSummary summary;
  summary.eligible = index.size();
  const std::array<const std::vector<std::size_t>*, 3> subsets{&rows.train, &rows.validation, &rows.test};
  const std::array<std::vector<std::size_t>*, 3> out{&summary.split.train, &summary.split.validation, &summary.split.test};
  for (std::size_t k = 0; k < 3; ++k) {
    for (std::size_t r : *subsets[k]) {
      out[k]->push_back(index[r]);
      ++summary.groups[keys[r].group][k];
    }
  }
  const nlohmann::json file = {{"train", summary.split.train},
                               {"validation", summary.split.validation},
                               {"test", summary.split.test},
                               {"dataset", std::filesystem::absolute(dataset_path).string()},
                               {"n_structures", eligible.n_records},
                               {"target", target},
                               {"options", split_to_json(options)}};
  write_json_atomically(output_path, file);
  return summary;
}

std::vector<std::vector<std::size_t>> write_fold_file(const std::string& dataset_path, const data::SplitOptions& options,
                                                      std::size_t folds, const std::string& target,
                                                      const std::string& output_path) {
  const Eligible eligible = eligible_structures(dataset_path, options, target);
  std::vector<std::vector<std::size_t>> out = data::make_folds(eligible.keys, options.kind, folds, options.seed);
  for (auto& fold : out) {
    for (std::size_t& r : fold) r = eligible.index[r];
  }
  nlohmann::json recorded = split_to_json(options);
  recorded.erase("validation");
  recorded.erase("test");
  recorded.erase("validation_grouped");
  write_json_atomically(output_path, {{"folds", out},
                                      {"dataset", std::filesystem::absolute(dataset_path).string()},
                                      {"n_structures", eligible.n_records},
                                      {"target", target},
                                      {"options", recorded}});
  return out;
}

}  // namespace matnn::workflows
