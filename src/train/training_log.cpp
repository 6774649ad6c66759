#include "train/training_log.hpp"

#include <cmath>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "matnn/atomic_file.hpp"
#include "matnn/error.hpp"

namespace matnn::train {
namespace {

std::string duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(seconds, 0.0)));
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

}  // namespace

std::string progress_line(const EpochRecord& r, int epochs, double seconds_per_epoch, const std::string& label) {
  std::string line = label.empty() ? "" : label + "  ";
  const int width = static_cast<int>(std::to_string(epochs).size());
  line += fmt::format("epoch {:>{}}/{}  train {:.4e}", r.epoch + 1, width, epochs, r.train_loss);
  for (const auto& [name, value] : r.validation) {
    line += fmt::format("  {} {:.4e}", name == "loss" ? "val" : name, value);
  }
  line += fmt::format("  lr {:.2e}  {:.2f} s  left {}", r.learning_rate, r.seconds,
                      duration(seconds_per_epoch * (epochs - r.epoch - 1)));
  return line;
}

void write_csv_log(const std::string& path, const std::vector<EpochRecord>& history) {
  std::set<std::string> metrics;
  for (const auto& r : history) {
    for (const auto& entry : r.validation) metrics.insert(entry.first);
  }
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path());
    if (!out) fail(MATNN_ERROR_IO, "{}: cannot write the training log", path);
    out << "epoch,train_loss";
    for (const auto& m : metrics) out << ",val_" << m;
    out << ",lr,seconds\n";
    for (const auto& r : history) {
      out << fmt::format("{},{:.9g}", r.epoch, r.train_loss);
      for (const auto& m : metrics) {
        const auto it = r.validation.find(m);
        out << ',' << (it == r.validation.end() ? std::string() : fmt::format("{:.9g}", it->second));
      }
      out << fmt::format(",{:.6g},{:.4f}\n", r.learning_rate, r.seconds);
    }
    out.flush();
    if (!out) fail(MATNN_ERROR_IO, "{}: cannot write the training log", path);
  }
  file.commit();
}

nlohmann::json history_to_json(const std::vector<EpochRecord>& history) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : history) {
    out.push_back({{"epoch", r.epoch},
                   {"train_loss", r.train_loss},
                   {"validation", r.validation},
                   {"lr", r.learning_rate},
                   {"seconds", r.seconds}});
  }
  return out;
}

std::vector<EpochRecord> history_from_json(const nlohmann::json& json) {
  std::vector<EpochRecord> history;
  try {
    for (const auto& item : json) {
      EpochRecord r;
      r.epoch = item.at("epoch").get<int>();
      r.train_loss = item.at("train_loss").get<double>();
      // JSON has no NaN: nlohmann writes it as null (an R^2 of a constant target, say).
      for (const auto& [name, value] : item.at("validation").items()) {
        r.validation[name] = value.is_null() ? std::nan("") : value.get<double>();
      }
      r.learning_rate = item.at("lr").get<double>();
      r.seconds = item.at("seconds").get<double>();
      history.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    fail(MATNN_ERROR_MODEL, "checkpoint history is malformed: {}", e.what());
  }
  return history;
}

}  // namespace matnn::train
