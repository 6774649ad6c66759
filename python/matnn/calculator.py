"""An ASE calculator over a matnn potential.

    from matnn.calculator import MatnnCalculator
    atoms.calc = MatnnCalculator("cu.model.h5", precision="float64")
    atoms.get_potential_energy(); atoms.get_forces(); atoms.get_stress()

Results (ASE units: eV, Angstrom):
    energy, free_energy   total energy (the same number: no electronic entropy)
    forces                (natoms, 3)
    stress                (6,) Voigt xx yy zz yz xz xy, ASE's sign: (1/V) dE/d(strain) with V the
                          volume of the whole cell. Fully periodic cells get all six components.
                          Slabs (two periodic directions, e.g. pbc (T, T, F)) get the in-plane
                          components and 0 for those along the free axis (for pbc T T F: zz, yz,
                          xz = 0), as ASE's cell filters with mask [1, 1, 0, 0, 0, 1] need; the
                          free lattice vector must be nonzero (V includes it, vacuum and all)
                          and the periodic vectors must have no component along the free
                          Cartesian axis (ASE's surface builders make them so). Fewer than two
                          periodic directions (wires, molecules), or a slab not meeting those
                          conditions: PropertyNotImplementedError with the reason.
    stresses              (natoms, 6) per-atom stresses, Voigt, eV/Angstrom^3, ASE's convention
                          (as ase.calculators.lj): the per-atom virials / V, which sum to
                          stress. Fully periodic cells only (a slab's per-atom virials are not
                          masked like its stress, so they would not sum to it); other
                          structures raise PropertyNotImplementedError. Computed only when
                          asked for (atoms.get_stresses()).
    energies              (natoms,) per-atom energies
    energy_sigma          ensemble std of the energy (0 for a single model)
    force_deviation       (natoms,) per-atom ensemble force deviation, eV/Angstrom
    max_force_deviation   its maximum over atoms (DeePMD's model deviation)
The three uncertainty keys are read with ``calc.results[key]`` or ``calc.get_property(key)``.

A calculator can be copied (copy.copy, copy.deepcopy) and pickled: the copy reopens the model
file with the same precision (the library handle itself is never copied or pickled), so it
needs the file to still be there, and it is independent of the original (closing one leaves
the other working).

Bad input (an element the model does not know, NaN positions, overlapping atoms, ...) raises the
matnn.errors.MatnnError subclass of the library's status.
"""
import os

import numpy as np
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from ._model import PRECISIONS, Potential
from .errors import UnsupportedError, invalid_argument

UNCERTAINTY_KEYS = ("energy_sigma", "force_deviation", "max_force_deviation")
ACCEPTED_ARGUMENTS = ("model", "precision", "label", "atoms", "directory")


class MatnnCalculator(Calculator):
    """ASE calculator of a matnn potential.

    ``MatnnCalculator(model, precision=None, label=None, atoms=None, directory=".")``

    model: a path to a potential model file, or a loaded matnn.Potential (in metal units).
    precision: "float32" (fast; the default for a path) or "float64" (finite-difference checks,
    agreement across hosts to ~1e-12); it is the precision the library loads the model in. With
    a Potential, None or that Potential's own precision (anything else is a ValueError).
    label, atoms, directory: as for every ASE calculator. Any other keyword (``device=``,
    ``default_dtype=``, ...) is a TypeError: nothing is stored and ignored. The calculator has
    no parameters to change afterwards (``calc.set(...)`` with arguments is a TypeError).

    Stress: fully periodic cells and slabs (see the module docstring for the convention); other
    structures raise PropertyNotImplementedError when stress is asked for. Per-atom stresses
    ("stresses"): fully periodic cells only.

    Copies and pickles reopen the model file (see the module docstring); close() releases a
    model this calculator opened itself (a Potential passed in belongs to the caller).
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress", "stresses", "energies"]

    def __init__(self, model, precision=None, label=None, atoms=None, directory=".", **unknown):
        if unknown:
            names = ", ".join(repr(k) for k in sorted(unknown))
            plural = "s" if len(unknown) > 1 else ""
            raise TypeError(f"MatnnCalculator got unexpected keyword argument{plural} {names}; it accepts "
                            f"{', '.join(ACCEPTED_ARGUMENTS)} (the library chooses the device itself; the "
                            f"numeric type is precision={' or '.join(repr(p) for p in PRECISIONS)})")
        if isinstance(model, Potential):
            if precision is not None and precision != model.precision:
                raise invalid_argument(f"precision={precision!r} differs from that of the Potential passed in "
                                       f"({model.precision!r}): load the Potential with that precision, or "
                                       f"pass the model's path")
            self.potential = model
            self._owns_potential = False
        else:
            self.potential = Potential(model, units="metal", precision="float32" if precision is None else precision)
            self._owns_potential = True
        if self.potential.units != "metal":
            raise invalid_argument("MatnnCalculator needs a potential loaded in metal units (eV, Angstrom)")
        # What a copy or an unpickled calculator reopens: an absolute path (the working
        # directory may change) and the precision the library reports for the loaded model.
        self._model_path = os.path.abspath(self.potential.path)
        self._precision = self.potential.precision
        self._uncertainty = self.potential.ensemble_size > 1
        super().__init__(label=label, atoms=atoms, directory=directory)

    @property
    def precision(self):
        """The precision the model is loaded in ("float32" or "float64")."""
        return self._precision

    def set(self, **kwargs):
        # ASE's Calculator.set() would store any keyword in self.parameters, where nothing reads it.
        if kwargs:
            raise TypeError(f"MatnnCalculator has no parameters to set (got {', '.join(sorted(kwargs))}); "
                            f"create a new MatnnCalculator(model, precision=...) instead")
        return {}

    def close(self):
        """Releases the model if this calculator loaded it (idempotent); a matnn.Potential passed
        to the constructor is the caller's to close."""
        if getattr(self, "_owns_potential", False):
            self.potential.close()

    # -- copies and pickles: the path and load options travel, never the library handle --
    def __getstate__(self):
        state = self.__dict__.copy()
        del state["potential"]
        state["results"] = dict(self.results)  # a shallow copy must not share the dict it updates
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.potential = Potential(self._model_path, units="metal", precision=self._precision)
        self._owns_potential = True

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
        cell = np.asarray(atoms.cell.array, dtype=np.float64) if pbc.any() else None
        wanted = "stress" in properties
        stresses = "stresses" in properties
        if stresses and not pbc.all():
            raise PropertyNotImplementedError(f"no per-atom stresses for this structure: they need a fully "
                                              f"periodic cell, got pbc {pbc.tolist()}")
        # Forces and per-atom energies come with the energy (one backward pass); stress too
        # whenever the cell may allow it, as ASE's own calculators do, so get_stress() after
        # get_forces() does not recompute. The library decides whether a slab qualifies.
        opportunistic = int(pbc.sum()) >= 2 and atoms.cell.rank == 3

        def compute(stress):
            return self.potential.compute(atoms.numbers, atoms.positions, cell=cell,
                                          pbc=pbc if cell is not None else None, forces=True, stress=stress,
                                          energies=True, uncertainty=self._uncertainty, virials=stresses)

        try:
            out = compute(wanted or opportunistic)
        except UnsupportedError as e:
            if wanted:
                raise PropertyNotImplementedError(f"no stress for this structure: {e.message}") from None
            out = compute(False)
        self.results = {
            "energy": out["energy"],
            "free_energy": out["energy"],
            "forces": out["forces"],
            "energies": out["energies"],
            "energy_sigma": out.get("energy_sigma", 0.0),
            "force_deviation": out.get("force_deviation", np.zeros(len(atoms))),
            "max_force_deviation": out.get("max_force_deviation", 0.0),
        }
        if "stress" in out:
            self.results["stress"] = out["stress"]
        if stresses:
            # ASE's per-atom stresses sum to its stress: the virials sum to V x stress.
            self.results["stresses"] = out["virials"] / atoms.get_volume()
