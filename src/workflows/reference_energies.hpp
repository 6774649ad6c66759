// Per-species reference energies E0 of a potential: what an atom contributes before any of its
// neighbours is counted, E = sum_i (E0[z_i] + scale * output_i). The network then learns only
// the binding part, whose spread is far smaller than the total energy's.
//
// Three sources, chosen by model.reference_energies (docs/training-config.md):
//   fit             least squares of E_s = sum_z n_sz E0[z] over the training structures (the
//                   default; minimum-norm where species never vary independently);
//   isolated_atoms  the energies of single-atom frames tagged config_type isolated_atom (or
//                   IsolatedAtom, as MACE writes them): one per species, as DFT users compute;
//   {Cu: -3.71}     given per element symbol, in eV.
#pragma once

#include <string>
#include <vector>

#include "matnn/record.hpp"
#include "train/config.hpp"
#include "workflows/dataset_rows.hpp"

namespace matnn::workflows {

struct ReferenceEnergies {
  std::vector<double> e0;  ///< eV, in the order of the species list
  std::string source;      ///< "fit", "isolated_atoms" or "given"
};

/// True for a frame that only defines an isolated atom's energy: one atom, config_type
/// isolated_atom or IsolatedAtom. Such frames are left out of training and evaluation.
bool is_isolated_atom(const Record& record);

/// Reads the spec (absent: "fit") and computes E0 for `species` from the row summaries of
/// `data`. `rows` are the training rows; isolated-atom frames are looked for in all rows. Every
/// message names the file (and structure) and the missing or unknown element.
ReferenceEnergies reference_energies(const train::Json* spec, const DatasetRows& data,
                                     const std::vector<std::size_t>& rows, const std::vector<int>& species,
                                     const std::string& dataset_path);

}  // namespace matnn::workflows
