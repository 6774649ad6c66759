// Names and conventions of the on-disk dataset layout, shared by the reader and the writer.
// docs/dataset-format.md is the user-facing description; keep the two in step.
#pragma once

#include <cstdint>
#include <limits>

namespace matnn::layout {

inline constexpr const char* format_name = "matnn-dataset";

// Root attributes.
inline constexpr const char* attr_format = "format";
inline constexpr const char* attr_format_version = "format_version";
inline constexpr const char* attr_matnn_version = "matnn_version";
inline constexpr const char* attr_n_structures = "n_structures";
inline constexpr const char* attr_total_atoms = "total_atoms";
inline constexpr const char* attr_units = "units";

// Groups.
inline constexpr const char* structures = "structures";
inline constexpr const char* atoms = "atoms";
inline constexpr const char* properties = "properties";
inline constexpr const char* atom_properties = "atom_properties";
inline constexpr const char* tags = "tags";
inline constexpr const char* signals = "signals";

// Datasets of /structures and /atoms.
inline constexpr const char* n_atoms = "structures/n_atoms";
inline constexpr const char* atom_offset = "structures/atom_offset";
inline constexpr const char* cell = "structures/cell";
inline constexpr const char* pbc = "structures/pbc";
inline constexpr const char* timestamp = "structures/timestamp";
inline constexpr const char* timestamp_present = "structures/timestamp_present";
inline constexpr const char* numbers = "atoms/numbers";
inline constexpr const char* positions = "atoms/positions";

// Inside each /properties/<name> and /atom_properties/<name> group.
inline constexpr const char* values = "values";
inline constexpr const char* present = "present";

// Inside each /signals/<name> group: values and present as for labels, plus the spectrum axis
// (with its quantity in the "name" attribute) or the images' pixel sizes; the group's "kind"
// attribute says which.
inline constexpr const char* attr_kind = "kind";
inline constexpr const char* axis = "axis";
inline constexpr const char* attr_axis_name = "name";
inline constexpr const char* pixel_size = "pixel_size";

/// Stored in /structures/timestamp where a structure has no timestamp (numpy reads it as NaT
/// after .astype("datetime64[s]")); the mask timestamp_present is authoritative.
inline constexpr std::int64_t absent_timestamp = std::numeric_limits<std::int64_t>::min();

/// gzip level of the numeric datasets (0: none). See docs/dataset-format.md for the measurement.
inline constexpr int gzip_level = 0;

}  // namespace matnn::layout
