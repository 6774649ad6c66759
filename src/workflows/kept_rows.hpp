// Values made per row (records read from a file, Behler-Parrinello descriptors) that a rank
// keeps for rows it does not hold, within a budget of atoms: the first ones asked for are kept
// while their atoms fit, and any beyond the budget are made again each time they are asked for,
// held only until the next call. With rows drawn at random this is as good as any eviction,
// and it bounds what a rank holds (dataset_rows.hpp, described_rows.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <span>
#include <unordered_map>
#include <vector>

namespace matnn::workflows {

template <typename T>
class KeptRows {
 public:
  /// Forgets every kept value; `room` atoms may be kept from now on.
  void reset(double room) {
    kept_.clear();
    transient_.clear();
    room_ = room;
  }
  /// Keeps `value` for `row` whatever the room (a rank's own rows).
  void keep_always(std::size_t row, T value) { kept_.insert_or_assign(row, std::move(value)); }
  std::size_t size() const noexcept { return kept_.size(); }
  const std::map<std::size_t, T>& kept() const noexcept { return kept_; }

  /// The values of `rows` (duplicates allowed), in order, valid until the next call: held(row)
  /// where it is not null, else the kept value, else made once per distinct row by
  /// make(positions), which returns the values of rows[positions[j]] in that order; a made
  /// value is kept while atoms(row) fits in the room.
  template <typename Held, typename Make, typename Atoms>
  std::vector<const T*> get(std::span<const std::size_t> rows, Held held, Make make, Atoms atoms) {
    transient_.clear();
    std::vector<const T*> out(rows.size(), nullptr);
    std::vector<std::size_t> missing;  // positions in rows, one per distinct row
    for (std::size_t k = 0; k < rows.size(); ++k) {
      if (const T* h = held(rows[k])) {
        out[k] = h;
      } else if (const auto it = kept_.find(rows[k]); it != kept_.end()) {
        out[k] = &it->second;
      } else if (std::none_of(missing.begin(), missing.end(), [&](std::size_t j) { return rows[j] == rows[k]; })) {
        missing.push_back(k);
      }
    }
    if (missing.empty()) return out;
    std::vector<T> made = make(missing);
    transient_.reserve(made.size());  // pointers into it must stay valid while it fills
    std::unordered_map<std::size_t, const T*> by_row;
    for (std::size_t j = 0; j < missing.size(); ++j) {
      const std::size_t row = rows[missing[j]];
      const double a = atoms(row);
      if (a <= room_) {
        room_ -= a;
        by_row[row] = &kept_.emplace(row, std::move(made[j])).first->second;
      } else {
        transient_.push_back(std::move(made[j]));
        by_row[row] = &transient_.back();
      }
    }
    for (std::size_t k = 0; k < rows.size(); ++k)
      if (!out[k]) out[k] = by_row.at(rows[k]);
    return out;
  }

 private:
  std::map<std::size_t, T> kept_;
  std::vector<T> transient_;
  double room_ = 0.0;  // atoms that may still be kept
};

}  // namespace matnn::workflows
