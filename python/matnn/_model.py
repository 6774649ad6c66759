"""Pythonic wrappers of the C handle: Potential, PropertyModel and train().

Inputs are checked here (shapes, sizes, dtypes convertible to the C types) before C sees them,
so that a bad argument raises InvalidArgumentError instead of reading past a buffer; the
checks of values (finite positions, known elements, overlapping atoms) are the library's.
"""
import ctypes
import os

import numpy as np

from . import _lib
from .errors import Status, error_for, invalid_argument

_L = _lib.lib

UNITS = {"metal": 0, "atomic": 1, "real": 2}
PRECISIONS = {"float32": 0, "float64": 1}
POTENTIAL, PROPERTY = 1, 2


def check(status):
    """Raises the MatnnError subclass of a non-zero status with matnn_last_error()."""
    if status != Status.SUCCESS:
        raise error_for(status, _lib.decode(_L.matnn_last_error()))


def version():
    """The library's version, e.g. "0.1.0"."""
    return _lib.decode(_L.matnn_version())


def abi_version():
    return int(_L.matnn_abi_version())


def _as_path(path, what):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise invalid_argument(f"{what} must be a path, got {type(path).__name__}")
    return os.fsencode(path)


def _as_array(value, dtype, shape, what):
    """`value` as a C-contiguous array of `dtype` and `shape` (-1: any length); no copy when it
    already is one."""
    try:
        array = np.ascontiguousarray(value, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise invalid_argument(f"{what}: cannot convert to {np.dtype(dtype).name}: {e}") from None
    if array.ndim != len(shape) or any(s not in (-1, n) for s, n in zip(shape, array.shape)):
        wanted = "(" + ", ".join("n" if s == -1 else str(s) for s in shape) + ")"
        raise invalid_argument(f"{what} must have shape {wanted}, got {array.shape}")
    return array


def _as_int_array(value, shape, what):
    array = np.asarray(value)
    if array.dtype.kind == "f" and array.size and not np.all(np.isfinite(array) & (array == np.round(array))):
        raise invalid_argument(f"{what} must hold integers")
    if array.dtype.kind not in "iuf" and array.size:
        raise invalid_argument(f"{what} must hold integers, got dtype {array.dtype}")
    if array.size and (np.max(array) > np.iinfo(np.intc).max or np.min(array) < np.iinfo(np.intc).min):
        raise invalid_argument(f"{what} holds values outside the C int range")
    return _as_array(array, np.intc, shape, what)


def _as_pbc(pbc):
    """One boolean for all three axes, or three booleans (or 0/1), as C's int[3]."""
    array = np.asarray(pbc)
    if array.dtype.kind not in "bui" or array.shape not in ((), (3,)) or np.any((array != 0) & (array != 1)):
        raise invalid_argument(f"pbc must be a boolean or three booleans, got {pbc!r}")
    return np.ascontiguousarray(np.broadcast_to(array.astype(bool), (3,)), dtype=np.intc)


def _as_neighbor_list(neighbor_offsets, neighbors, natoms):
    """compute_local's CSR neighbour list as two C int arrays, or (None, None)."""
    if (neighbor_offsets is None) != (neighbors is None):
        raise invalid_argument("neighbor_offsets and neighbors must both be given or both be None")
    if neighbor_offsets is None:
        return None, None
    offsets = _as_int_array(neighbor_offsets, (natoms + 1,), "neighbor_offsets")
    neighbors = _as_int_array(neighbors, (-1,), "neighbors")
    # C reads neighbors[0:offsets[natoms]] without knowing the array's length: check it here.
    if offsets[-1] != neighbors.shape[0]:
        raise invalid_argument(f"neighbor_offsets[natoms] is {offsets[-1]}, but neighbors has "
                               f"{neighbors.shape[0]} entries (they must be equal)")
    return offsets, neighbors


def _outputs(natoms, forces, energies, uncertainty, virials, stress=False):
    """Zeroed arrays for the outputs asked for, keyed by their matnn_potential_results field."""
    out = {"energy": np.zeros(1)}
    if forces:
        out["forces"] = np.zeros((natoms, 3))
    if stress:
        out["stress"] = np.zeros(6)
    if energies:
        out["energies"] = np.zeros(natoms)
    if uncertainty:
        out["energy_sigma"] = np.zeros(1)
        out["force_deviation"] = np.zeros(natoms)
        out["max_force_deviation"] = np.zeros(1)
    if virials:
        out["virials"] = np.zeros((natoms, 6))
    return out


def _compute(function, out, *args):
    """function(*args, results) with results pointing at the arrays of `out`; returns `out` with
    the one-number outputs as floats."""
    results = _lib.PotentialResults()
    # init2 with this struct's own size: the deprecated init sets ABI 1's size, and the library
    # would then ignore the fields added since (virials).
    check(_L.matnn_potential_results_init2(ctypes.byref(results), ctypes.sizeof(results)))
    for key, array in out.items():
        setattr(results, key, array.ctypes.data_as(_lib.c_double_p))
    check(function(*args, ctypes.byref(results)))
    for key in ("energy", "energy_sigma", "max_force_deviation"):
        if key in out:
            out[key] = float(out[key][0])
    return out


class _Model:
    """Owns one matnn_model*; released by close(), a with-block or garbage collection."""

    _kind = None

    def __init__(self, path, units="metal", precision="float32"):
        if units not in UNITS:
            raise invalid_argument(f"units must be one of {sorted(UNITS)}, got {units!r}")
        if precision not in PRECISIONS:
            raise invalid_argument(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
        self._handle = None
        self.path = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
        options = _lib.LoadOptions()
        check(_L.matnn_load_options_init(ctypes.byref(options)))
        options.units = UNITS[units]
        options.precision = PRECISIONS[precision]
        handle = ctypes.c_void_p()
        check(_L.matnn_model_load(_as_path(path, "path"), ctypes.byref(options), ctypes.byref(handle)))
        self._handle = handle
        kind = self._int_query(_L.matnn_model_kind_of)
        if kind != self._kind:
            self.close()
            wanted, other = ("a potential", "PropertyModel") if self._kind == POTENTIAL else \
                ("a property model", "Potential")
            raise error_for(Status.MODEL, f"{os.fsdecode(path)} is not {wanted} (load it with matnn.{other})")

    # -- lifetime --
    def close(self):
        """Releases the model (idempotent)."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None and _L is not None:
            _L.matnn_model_destroy(handle)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _h(self):
        if self._handle is None:
            raise invalid_argument("the model has been closed")
        return self._handle

    # -- queries --
    def _int_query(self, function):
        value = ctypes.c_int()
        check(function(self._h(), ctypes.byref(value)))
        return value.value

    @property
    def units(self):
        return {v: k for k, v in UNITS.items()}[self._int_query(_L.matnn_model_units)]

    @property
    def precision(self):
        return {v: k for k, v in PRECISIONS.items()}[self._int_query(_L.matnn_model_precision)]

    @property
    def species(self):
        """Atomic numbers of the model's species (numpy int array, model order)."""
        n = self._int_query(_L.matnn_model_num_species)
        out = np.zeros(n, dtype=np.intc)
        if n:
            check(_L.matnn_model_species(self._h(), out))
        return out

    @property
    def ensemble_size(self):
        return self._int_query(_L.matnn_model_ensemble_size)

    @property
    def outputs(self):
        """OR of the MATNN_OUTPUT_* flags."""
        value = ctypes.c_uint()
        check(_L.matnn_model_outputs(self._h(), ctypes.byref(value)))
        return value.value


class Potential(_Model):
    """An interatomic potential (matnn model file of kind "potential").

    ``Potential(path, units="metal", precision="float32")``; units "metal" (eV, Angstrom),
    "atomic" (Hartree, Bohr) or "real" (kcal/mol, Angstrom); precision "float32" or "float64".
    """

    _kind = POTENTIAL

    def _double_query(self, function):
        value = ctypes.c_double()
        check(function(self._h(), ctypes.byref(value)))
        return value.value

    @property
    def cutoff(self):
        return self._double_query(_L.matnn_model_cutoff)

    @property
    def interaction_range(self):
        return self._double_query(_L.matnn_model_interaction_range)

    def compute(self, numbers, positions, cell=None, pbc=None, forces=True, stress=False,
                energies=False, uncertainty=False, virials=False):
        """Energy (and what is asked for) of one structure, as a dict.

        numbers (natoms,) atomic numbers; positions (natoms, 3); cell (3, 3) with the lattice
        vectors as rows or None; pbc three booleans (default: all False; a periodic axis needs a
        cell). Keys: "energy" always; "forces" (natoms, 3); "stress" (6,) Voigt xx yy zz yz xz xy,
        ASE sign (a fully periodic cell, or a slab: then the components along its free axis are
        0; see include/matnn/matnn.h; UnsupportedError for wires and molecules); "energies"
        (natoms,); with uncertainty=True
        "energy_sigma", "force_deviation" (natoms,) and "max_force_deviation"; "virials"
        (natoms, 6) per-atom virials, Voigt, energy unit, with the sign of stress x volume: for a
        fully periodic cell they sum to V x stress (slabs: not masked like their stress).
        """
        numbers = _as_int_array(numbers, (-1,), "numbers")
        natoms = numbers.shape[0]
        if natoms == 0:
            raise invalid_argument("a structure needs at least one atom")
        positions = _as_array(positions, np.float64, (natoms, 3), "positions")
        pbc_array = None
        if pbc is not None:
            pbc_array = _as_pbc(pbc)
            if not pbc_array.any():
                pbc_array = None
        cell_array = None
        if cell is not None:
            cell_array = _as_array(cell, np.float64, (3, 3), "cell")
        elif pbc_array is not None:
            raise invalid_argument("a periodic axis needs a cell")

        out = _outputs(natoms, forces, energies, uncertainty, virials, stress=stress)
        return _compute(_L.matnn_potential_compute, out, self._h(), natoms, numbers, positions, cell_array,
                        pbc_array)

    def compute_local(self, natoms_local, numbers, positions, energy_counts=None, forces=True,
                      energies=False, uncertainty=False, virials=False, neighbor_offsets=None, neighbors=None):
        """One rank's part of a domain-decomposed run: the first natoms_local atoms are owned, the
        rest are ghosts (explicit positions, no periodicity). See matnn_potential_compute_local2.

        Outputs as compute() without stress; "forces" and "virials" include the ghosts' shares,
        which the host adds to their owners. neighbor_offsets (natoms + 1,) and neighbors (m,),
        both or neither: the host's neighbour list in CSR form, 0-based indices into these atoms
        (atom i's candidates are neighbors[neighbor_offsets[i]:neighbor_offsets[i + 1]]; those at
        or beyond the cutoff are skipped, so a list with a skin is fine). None: matnn searches.
        """
        numbers = _as_int_array(numbers, (-1,), "numbers")
        natoms = numbers.shape[0]
        if not isinstance(natoms_local, (int, np.integer)) or not 0 <= natoms_local <= natoms or natoms == 0:
            raise invalid_argument("need 0 <= natoms_local <= len(numbers) and at least one atom")
        positions = _as_array(positions, np.float64, (natoms, 3), "positions")
        counts = None if energy_counts is None else _as_int_array(energy_counts, (natoms,), "energy_counts")
        offsets, neighbors = _as_neighbor_list(neighbor_offsets, neighbors, natoms)
        out = _outputs(natoms, forces, energies, uncertainty, virials)
        return _compute(_L.matnn_potential_compute_local2, out, self._h(), int(natoms_local),
                        natoms - int(natoms_local), numbers, positions, counts, offsets, neighbors)


class PropertyModel(_Model):
    """A property model (composition MLP, CGCNN, or a spectrum or image CNN): ``PropertyModel(path)``."""

    _kind = PROPERTY

    def __init__(self, path):
        super().__init__(path)

    def _string_query(self, function):
        value = ctypes.c_char_p()
        check(function(self._h(), ctypes.byref(value)))
        return _lib.decode(value.value)

    @property
    def name(self):
        return self._string_query(_L.matnn_property_name)

    @property
    def unit(self):
        return self._string_query(_L.matnn_property_unit)

    @property
    def task(self):
        return ("regression", "classification")[self._int_query(_L.matnn_property_task)]

    @property
    def num_classes(self):
        return self._int_query(_L.matnn_property_num_classes)

    def _outputs(self, n, sigmas, ood, probabilities):
        out = {"values": np.zeros(n)}
        out["sigmas"] = np.zeros(n) if sigmas else None
        out["ood"] = np.zeros(n, dtype=np.intc) if ood else None
        out["probabilities"] = np.zeros((n, self.num_classes)) if probabilities else None
        return out

    def predict_compositions(self, atomic_numbers, fractions, mc_samples=0, sigmas=True, ood=True,
                             probabilities=False):
        """Predictions for compositions: fractions (n, n_elements), one column per entry of
        atomic_numbers. Returns a dict of arrays: values, sigmas, ood (bool), probabilities."""
        atomic_numbers = _as_int_array(atomic_numbers, (-1,), "atomic_numbers")
        fractions = _as_array(np.atleast_2d(fractions), np.float64, (-1, atomic_numbers.shape[0]), "fractions")
        n = fractions.shape[0]
        if n == 0 or atomic_numbers.shape[0] == 0:
            raise invalid_argument("need at least one composition and one element")
        out = self._outputs(n, sigmas, ood, probabilities)
        check(_L.matnn_property_predict_compositions(self._h(), n, atomic_numbers.shape[0], atomic_numbers,
                                                     fractions, int(mc_samples), out["values"], out["sigmas"],
                                                     out["ood"], out["probabilities"]))
        return self._finish(out)

    def predict_structures(self, structures, mc_samples=0, sigmas=True, ood=True, probabilities=False, seed=None):
        """Predictions for structures: ase.Atoms (positions, cell and pbc are passed: every model
        kind accepts them) or sequences of atomic numbers (composition models only). Returns a dict
        of arrays: values, sigmas, ood (bool), probabilities. With mc_samples > 0, `seed` (an
        integer >= 0, ase.Atoms only) picks the Monte-Carlo dropout stream; the default is seed 0,
        so equal calls give equal draws."""
        structures = list(structures)
        if seed is not None and (not mc_samples or int(seed) < 0):
            raise invalid_argument("seed needs mc_samples > 0 and must be >= 0")
        if structures and all(hasattr(s, "positions") for s in structures):
            batch = self._atoms_batch(structures)
            out = self._outputs(len(structures), sigmas, ood, probabilities)
            if seed is not None:
                check(_L.matnn_property_predict_atoms_mc(self._h(), *batch, int(mc_samples), int(seed), out["values"],
                                                         out["sigmas"], out["ood"], out["probabilities"]))
            else:
                check(_L.matnn_property_predict_atoms(self._h(), *batch, int(mc_samples), out["values"],
                                                      out["sigmas"], out["ood"], out["probabilities"]))
            return self._finish(out)
        if seed is not None:
            raise invalid_argument("seed needs ase.Atoms structures (matnn_property_predict_atoms_mc)")
        numbers = [np.asarray(s.numbers if hasattr(s, "numbers") else s) for s in structures]
        if not numbers or any(a.ndim != 1 or a.size == 0 for a in numbers):
            raise invalid_argument("need at least one structure, each a non-empty sequence of atomic numbers")
        natoms = np.array([a.size for a in numbers], dtype=np.intc)
        flat = _as_int_array(np.concatenate(numbers), (-1,), "atomic numbers")
        out = self._outputs(len(numbers), sigmas, ood, probabilities)
        check(_L.matnn_property_predict_structures(self._h(), len(numbers), natoms, flat, int(mc_samples),
                                                   out["values"], out["sigmas"], out["ood"], out["probabilities"]))
        return self._finish(out)

    @property
    def embedding_width(self):
        """Width of the learned structure embedding (CGCNN's crystal vector)."""
        return self._int_query(_L.matnn_property_embedding_width)

    def embed(self, structures):
        """The learned embeddings of ase.Atoms structures, an array (n, embedding_width), for
        similarity search."""
        structures = list(structures)
        batch = self._atoms_batch(structures)
        out = np.zeros((len(structures), self.embedding_width))
        check(_L.matnn_property_embed_atoms(self._h(), *batch, out))
        return out

    @property
    def input(self):
        """What the model reads: "structures", "spectra" or "images"."""
        kind, channels, points, width = ctypes.c_int(), ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        check(_L.matnn_property_input(self._h(), ctypes.byref(kind), ctypes.byref(channels), ctypes.byref(points),
                                      ctypes.byref(width)))
        self._input_shape = (channels.value, points.value, width.value)
        return ("structures", "spectra", "images")[kind.value]

    @property
    def spectrum_axis(self):
        """A spectrum model's trained grid: (axis array, axis name, unit)."""
        if self.input != "spectra":
            raise invalid_argument("the model does not read spectra")
        axis = np.zeros(self._input_shape[1])
        name, unit = ctypes.c_char_p(), ctypes.c_char_p()
        check(_L.matnn_property_spectrum_axis(self._h(), axis, ctypes.byref(name), ctypes.byref(unit)))
        return axis, _lib.decode(name.value), _lib.decode(unit.value)

    def _signal_outputs(self, n, sigmas, ood, probabilities, embeddings):
        out = self._outputs(n, sigmas, ood, probabilities)
        out["embeddings"] = np.zeros((n, self.embedding_width)) if embeddings else None
        return out

    def predict_spectra(self, axis, intensities, mc_samples=0, seed=0, sigmas=True, ood=True, probabilities=False,
                        embeddings=False):
        """Predictions for spectra on one grid: axis (points,) in the model's axis unit, intensities
        (n, points) or (n, channels, points) numpy arrays. Returns a dict of arrays: values, sigmas,
        ood (bool), probabilities, embeddings."""
        axis = _as_array(axis, np.float64, (-1,), "axis")
        intensities = np.asarray(intensities, dtype=np.float64)
        if intensities.ndim == 2:
            intensities = intensities[:, None, :]
        intensities = _as_array(intensities, np.float64, (-1, -1, axis.shape[0]), "intensities")
        n = intensities.shape[0]
        if n == 0:
            raise invalid_argument("need at least one spectrum")
        out = self._signal_outputs(n, sigmas, ood, probabilities, embeddings)
        check(_L.matnn_property_predict_spectra(self._h(), n, intensities.shape[1], axis.shape[0], axis, intensities,
                                                int(mc_samples), int(seed), out["values"], out["sigmas"], out["ood"],
                                                out["probabilities"], out["embeddings"]))
        return self._finish(out)

    def predict_images(self, images, pixel_sizes, mc_samples=0, seed=0, sigmas=True, ood=True, probabilities=False,
                       embeddings=False):
        """Predictions for images: (n, height, width) or (n, channels, height, width) numpy arrays
        with the pixel size of each (a number for all, or (n,)). Returns a dict as
        predict_spectra."""
        images = np.asarray(images, dtype=np.float64)
        if images.ndim == 3:
            images = images[:, None, :, :]
        images = _as_array(images, np.float64, (-1, -1, -1, -1), "images")
        n = images.shape[0]
        if n == 0:
            raise invalid_argument("need at least one image")
        pixel_sizes = _as_array(np.broadcast_to(np.asarray(pixel_sizes, dtype=np.float64), (n,)), np.float64, (n,),
                                "pixel_sizes")
        out = self._signal_outputs(n, sigmas, ood, probabilities, embeddings)
        check(_L.matnn_property_predict_images(self._h(), n, images.shape[1], images.shape[2], images.shape[3],
                                               pixel_sizes, images, int(mc_samples), int(seed), out["values"],
                                               out["sigmas"], out["ood"], out["probabilities"], out["embeddings"]))
        return self._finish(out)

    @staticmethod
    def _atoms_batch(structures):
        """(n, natoms, atomic_numbers, positions, cells, pbc) of ase.Atoms-like structures."""
        if not structures or any(len(s) == 0 for s in structures):
            raise invalid_argument("need at least one structure, each with atoms")
        natoms = np.array([len(s) for s in structures], dtype=np.intc)
        numbers = _as_int_array(np.concatenate([np.asarray(s.numbers) for s in structures]), (-1,), "atomic numbers")
        positions = np.ascontiguousarray(np.concatenate([np.asarray(s.positions, dtype=np.float64).reshape(-1)
                                                         for s in structures]))
        cells = np.ascontiguousarray(np.concatenate([np.asarray(s.cell, dtype=np.float64).reshape(9)
                                                     for s in structures]))
        pbc = np.ascontiguousarray(np.concatenate([_as_pbc(s.pbc) for s in structures]))
        return len(structures), natoms, numbers, positions, cells, pbc

    @staticmethod
    def _finish(out):
        if out["ood"] is not None:
            out["ood"] = out["ood"].astype(bool)
        return {k: v for k, v in out.items() if v is not None}


def train(config, output_model=None, progress=None, comm=None):
    """Trains a model from a YAML/JSON config (docs/training-config.md) with matnn_train.

    progress(epoch, epochs, train_loss, validation_loss) is called after every epoch; return
    True (or anything truthy) from it to cancel (CancelledError). An exception raised in it
    cancels training and is re-raised here.

    comm: train data-parallel on the ranks of an MPI communicator (matnn_train_comm): an mpi4py
    communicator (its py2f() handle is passed), or the Fortran integer handle itself. Every rank
    calls train() with the same config; only rank 0 writes the model, and every rank returns after
    it exists. Needs a build of matnn with MPI (UnsupportedError otherwise).
    """
    raised = []

    def trampoline(epoch, epochs, train_loss, validation_loss, _user_data):
        try:
            return 1 if progress(epoch, epochs, train_loss, validation_loss) else 0
        except BaseException as e:  # noqa: B902 - must not unwind through C
            raised.append(e)
            return 1

    callback = _lib.PROGRESS_CALLBACK(trampoline) if progress is not None else _lib.PROGRESS_CALLBACK()
    output = None if output_model is None else _as_path(output_model, "output_model")
    if comm is None:
        status = _L.matnn_train(_as_path(config, "config"), output, callback, None)
    else:
        handle = comm.py2f() if hasattr(comm, "py2f") else comm
        if isinstance(handle, bool) or not isinstance(handle, int):
            raise TypeError(f"comm must be an mpi4py communicator or an integer Fortran handle, not {type(comm).__name__}")
        status = _L.matnn_train_comm(_as_path(config, "config"), output, handle, callback, None)
    if raised:
        raise raised[0]
    check(status)


def append_dataset(path, structures, config_type=None):
    """Appends labelled structures to the matnn dataset at `path` (matnn_dataset_append; created if
    missing, atomically: the file holds all of them or is left as it was).

    structures: ASE Atoms (or objects with get_atomic_numbers(), get_positions(), get_cell() and
    get_pbc()); each one's energy, forces and stress come from its calculator's results (ASE's
    units and stress sign) when it has them. All structures must carry the same labels.
    config_type tags every structure of the call. Returns the number appended.
    """
    structures = list(structures)
    if not structures:
        raise invalid_argument("append_dataset: no structures")
    results = [dict(getattr(getattr(a, "calc", None), "results", None) or {}) for a in structures]
    labels = [{k for k in ("energy", "forces", "stress") if k in r} for r in results]
    if any(l != labels[0] for l in labels):
        raise invalid_argument("append_dataset: the structures carry different labels "
                               f"({sorted(labels[0])} and {sorted(next(l for l in labels if l != labels[0]))})")
    numbers = np.concatenate([np.asarray(a.get_atomic_numbers(), dtype=np.intc) for a in structures])
    positions = np.ascontiguousarray(np.concatenate([np.asarray(a.get_positions(), dtype=np.float64)
                                                     for a in structures]))
    natoms = np.array([len(a) for a in structures], dtype=np.intc)
    periodic = [bool(np.any(a.get_pbc())) for a in structures]
    cells = pbc = None
    if any(periodic):
        cells = np.concatenate([np.asarray(a.get_cell(), dtype=np.float64).reshape(9) for a in structures])
        pbc = np.concatenate([np.asarray(a.get_pbc(), dtype=np.intc) for a in structures])
    energies = forces = stresses = None
    if "energy" in labels[0]:
        energies = np.array([r["energy"] for r in results], dtype=np.float64)
    if "forces" in labels[0]:
        forces = np.ascontiguousarray(np.concatenate([np.asarray(r["forces"], dtype=np.float64) for r in results]))
    if "stress" in labels[0]:
        stresses = np.concatenate([np.asarray(r["stress"], dtype=np.float64).reshape(6) for r in results])
    check(_L.matnn_dataset_append(_as_path(path, "path"), 0, len(structures), natoms, numbers, positions, cells, pbc,
                                  energies, forces, stresses,
                                  None if config_type is None else str(config_type).encode()))
    return len(structures)
