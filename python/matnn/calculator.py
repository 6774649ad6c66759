"""An ASE calculator over a matnn potential.

    from matnn.calculator import MatnnCalculator
    atoms.calc = MatnnCalculator("cu.model.h5", precision="float64")
    atoms.get_potential_energy(); atoms.get_forces(); atoms.get_stress()

Results (ASE units: eV, Angstrom):
    energy, free_energy   total energy (the same number: no electronic entropy)
    forces                (natoms, 3)
    stress                (6,) Voigt xx yy zz yz xz xy, ASE's sign; only for fully periodic
                          cells (else PropertyNotImplementedError, as ASE's EMT does)
    energies              (natoms,) per-atom energies
    energy_sigma          ensemble std of the energy (0 for a single model)
    force_deviation       (natoms,) per-atom ensemble force deviation, eV/Angstrom
    max_force_deviation   its maximum over atoms (DeePMD's model deviation)
The three uncertainty keys are read with ``calc.results[key]`` or ``calc.get_property(key)``.

Bad input (an element the model does not know, NaN positions, overlapping atoms, ...) raises the
matnn.errors.MatnnError subclass of the library's status.
"""
import numpy as np
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from ._model import Potential
from .errors import invalid_argument

UNCERTAINTY_KEYS = ("energy_sigma", "force_deviation", "max_force_deviation")


class MatnnCalculator(Calculator):
    """ASE calculator of a matnn potential.

    model: a path to a potential model file, or a loaded matnn.Potential (in metal units).
    precision: "float32" (fast) or "float64" (finite-difference checks, agreement across hosts
    to ~1e-12); ignored when model is a Potential.
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress", "energies"]

    def __init__(self, model, precision="float32", **kwargs):
        if isinstance(model, Potential):
            self.potential = model
        else:
            self.potential = Potential(model, units="metal", precision=precision)
        if self.potential.units != "metal":
            raise invalid_argument("MatnnCalculator needs a potential loaded in metal units (eV, Angstrom)")
        self._uncertainty = self.potential.ensemble_size > 1
        super().__init__(**kwargs)

    def get_property(self, name, atoms=None, allow_calculation=True):
        # ASE 3.22's get_property() refuses names outside implemented_properties, and listing the
        # uncertainty keys there would make ASE's tests expect them of every calculator; they
        # come with the energy, so they are served like Calculator.get_property() does.
        if name not in UNCERTAINTY_KEYS:
            return super().get_property(name, atoms, allow_calculation)
        if atoms is None:
            atoms, system_changes = self.atoms, []
        else:
            system_changes = self.check_state(atoms)
            if system_changes:
                self.reset()
        if name not in self.results:
            if not allow_calculation:
                return None
            self.calculate(atoms, ["energy"], system_changes)
        result = self.results[name]
        return result.copy() if isinstance(result, np.ndarray) else result

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        pbc = np.asarray(atoms.pbc, dtype=bool)
        fully_periodic = bool(pbc.all()) and atoms.cell.rank == 3
        if "stress" in properties and not fully_periodic:
            raise PropertyNotImplementedError("stress needs a fully periodic cell with three lattice vectors")
        cell = np.asarray(atoms.cell.array, dtype=np.float64) if pbc.any() else None
        # Forces and per-atom energies come with the energy (one backward pass); stress too
        # whenever the cell allows it, as ASE's own calculators do, so get_stress() after
        # get_forces() does not recompute.
        out = self.potential.compute(atoms.numbers, atoms.positions, cell=cell, pbc=pbc if cell is not None else None,
                                     forces=True, stress=fully_periodic, energies=True,
                                     uncertainty=self._uncertainty)
        self.results = {
            "energy": out["energy"],
            "free_energy": out["energy"],
            "forces": out["forces"],
            "energies": out["energies"],
            "energy_sigma": out.get("energy_sigma", 0.0),
            "force_deviation": out.get("force_deviation", np.zeros(len(atoms))),
            "max_force_deviation": out.get("max_force_deviation", 0.0),
        }
        if fully_periodic:
            self.results["stress"] = out["stress"]
