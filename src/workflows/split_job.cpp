#include "workflows/split_job.hpp"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "matnn/atomic_file.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "workflows/job_common.hpp"

namespace matnn::workflows {

SplitFileSummary write_split_file(const std::string& dataset_path, const data::SplitOptions& options,
                                  const std::string& target, const std::string& output_path) {
  const std::vector<Record> records = DatasetReader(dataset_path).read_all();
  std::vector<std::size_t> index;
  std::vector<data::SplitKey> keys;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!target.empty() && records[i].properties.count(target) == 0) continue;
    index.push_back(i);
    keys.push_back(split_key(records[i], options.kind));
  }
  if (index.size() < 2)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: {} structures{}; a split needs at least 2", dataset_path, index.size(),
         target.empty() ? "" : " have the label \"" + target + "\"");
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
                               {"n_structures", records.size()},
                               {"target", target},
                               {"options", split_to_json(options)}};
  AtomicFile atomic(output_path);
  {
    std::ofstream stream(atomic.temp_path());
    stream << file.dump(1) << '\n';
    stream.flush();
    if (!stream) fail(MATNN_ERROR_IO, "{}: cannot write the split", output_path);
  }
  atomic.commit();
  return summary;
}

}  // namespace matnn::workflows
