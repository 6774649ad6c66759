// What a run reports: one progress line per epoch on the terminal and a CSV log with the same
// numbers, rewritten atomically after each epoch so it always matches the latest checkpoint.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/trainer.hpp"

namespace matnn::train {

/// "member 1/3  epoch  12/200  train 1.234e-02  val 1.500e-02  mae 4.5e-02  lr 1.0e-03  0.21 s  left 0:00:40"
std::string progress_line(const EpochRecord& record, int epochs, double seconds_per_epoch, const std::string& label);

/// Columns: epoch, train_loss, val_<metric>... (sorted), lr, seconds.
void write_csv_log(const std::string& path, const std::vector<EpochRecord>& history);

/// History to and from JSON, for checkpoints.
nlohmann::json history_to_json(const std::vector<EpochRecord>& history);
std::vector<EpochRecord> history_from_json(const nlohmann::json& json);

}  // namespace matnn::train
