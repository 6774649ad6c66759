"""ctypes binding of libmatnn.so: every function of include/matnn/matnn.h with its types.

The library is looked for, in order:

1. next to this file (an installed layout puts libmatnn.so in the package folder),
2. the path in the environment variable MATNN_LIBRARY,
3. ``ctypes.util.find_library("matnn")`` (the system's library path),
4. the build trees of a source checkout (``<repo>/build*/**/libmatnn.so``).

Arrays cross as ``numpy.ctypeslib.ndpointer`` types: numpy checks dtype, dimensions and
C-contiguity when a function is called, and passes the array's own memory (no copy). Arguments
that C allows to be NULL accept ``None``.
"""
import ctypes
import ctypes.util
import glob
import os

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))

# The C ABI this binding is written for (MATNN_ABI_VERSION): it declares and calls what ABIs 2 to 7
# added.
ABI_VERSION = 7

c_double_p = ctypes.POINTER(ctypes.c_double)


def _ndpointer(dtype, ndim, nullable=False):
    base = np.ctypeslib.ndpointer(dtype=dtype, ndim=ndim, flags="C_CONTIGUOUS")
    if not nullable:
        return base

    def from_param(cls, obj):
        if obj is None:
            return None
        return base.from_param(obj)

    return type(base.__name__ + "_or_null", (base,), {"from_param": classmethod(from_param)})


f64_1d = _ndpointer(np.float64, 1)
f64_2d = _ndpointer(np.float64, 2)
f64_3d = _ndpointer(np.float64, 3)
f64_4d = _ndpointer(np.float64, 4)
f64_1d_or_null = _ndpointer(np.float64, 1, nullable=True)
f64_2d_or_null = _ndpointer(np.float64, 2, nullable=True)
i32_1d = _ndpointer(np.intc, 1)
i32_1d_or_null = _ndpointer(np.intc, 1, nullable=True)


class LoadOptions(ctypes.Structure):
    """matnn_load_options."""
    _fields_ = [("struct_size", ctypes.c_size_t),
                ("units", ctypes.c_int),
                ("precision", ctypes.c_int)]


class PotentialResults(ctypes.Structure):
    """matnn_potential_results: output pointers, NULL = not wanted."""
    _fields_ = [("struct_size", ctypes.c_size_t),
                ("energy", c_double_p),
                ("energies", c_double_p),
                ("forces", c_double_p),
                ("stress", c_double_p),
                ("energy_sigma", c_double_p),
                ("force_deviation", c_double_p),
                ("max_force_deviation", c_double_p),
                ("virials", c_double_p)]  # since ABI 2


# int (*)(int epoch, int epochs, double train_loss, double validation_loss, void* user_data)
PROGRESS_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_double,
                                     ctypes.c_double, ctypes.c_void_p)

_c_int_p = ctypes.POINTER(ctypes.c_int)
_c_uint_p = ctypes.POINTER(ctypes.c_uint)
_model_p = ctypes.c_void_p  # matnn_model* (opaque)
_status = ctypes.c_int      # matnn_status
_enum = ctypes.c_int        # C enums are int-sized

# name: (restype, argtypes), in the order of matnn.h.
_PROTOTYPES = {
    "matnn_version": (ctypes.c_char_p, []),
    "matnn_abi_version": (ctypes.c_int, []),
    "matnn_status_string": (ctypes.c_char_p, [_status]),
    "matnn_last_error": (ctypes.c_char_p, []),
    "matnn_load_options_init": (_status, [ctypes.POINTER(LoadOptions)]),
    "matnn_model_load": (_status, [ctypes.c_char_p, ctypes.POINTER(LoadOptions),
                                   ctypes.POINTER(_model_p)]),
    "matnn_model_destroy": (None, [_model_p]),
    "matnn_model_last_error": (ctypes.c_char_p, [_model_p]),
    "matnn_model_kind_of": (_status, [_model_p, _c_int_p]),
    "matnn_model_units": (_status, [_model_p, _c_int_p]),
    "matnn_model_precision": (_status, [_model_p, _c_int_p]),
    "matnn_model_num_species": (_status, [_model_p, _c_int_p]),
    "matnn_model_species": (_status, [_model_p, i32_1d]),
    "matnn_model_cutoff": (_status, [_model_p, c_double_p]),
    "matnn_model_interaction_range": (_status, [_model_p, c_double_p]),
    "matnn_model_ensemble_size": (_status, [_model_p, _c_int_p]),
    "matnn_model_outputs": (_status, [_model_p, _c_uint_p]),
    "matnn_potential_results_init2": (_status, [ctypes.POINTER(PotentialResults), ctypes.c_size_t]),
    "matnn_potential_results_init": (_status, [ctypes.POINTER(PotentialResults)]),  # deprecated: ABI 1's fields only
    # model, natoms, atomic_numbers[natoms], positions[natoms x 3], cell[3 x 3] or NULL,
    # pbc[3] or NULL, results
    "matnn_potential_compute": (_status, [_model_p, ctypes.c_int, i32_1d, f64_2d, f64_2d_or_null,
                                          i32_1d_or_null, ctypes.POINTER(PotentialResults)]),
    # model, natoms_local, natoms_ghost, atomic_numbers, positions, energy_counts or NULL, results
    "matnn_potential_compute_local": (_status, [_model_p, ctypes.c_int, ctypes.c_int, i32_1d, f64_2d,
                                                i32_1d_or_null, ctypes.POINTER(PotentialResults)]),
    # ... as compute_local, then neighbor_offsets[natoms + 1] and neighbors[offsets[natoms]], both or neither NULL
    "matnn_potential_compute_local2": (_status, [_model_p, ctypes.c_int, ctypes.c_int, i32_1d, f64_2d, i32_1d_or_null,
                                                 i32_1d_or_null, i32_1d_or_null, ctypes.POINTER(PotentialResults)]),
    "matnn_property_name": (_status, [_model_p, ctypes.POINTER(ctypes.c_char_p)]),
    "matnn_property_unit": (_status, [_model_p, ctypes.POINTER(ctypes.c_char_p)]),
    "matnn_property_task": (_status, [_model_p, _c_int_p]),
    "matnn_property_num_classes": (_status, [_model_p, _c_int_p]),
    # model, n, n_elements, atomic_numbers[n_elements], fractions[n x n_elements], mc_samples,
    # values[n], sigmas[n] or NULL, ood[n] or NULL, probabilities[n x n_classes] or NULL
    "matnn_property_predict_compositions": (_status, [_model_p, ctypes.c_int, ctypes.c_int, i32_1d, f64_2d,
                                                      ctypes.c_int, f64_1d, f64_1d_or_null, i32_1d_or_null,
                                                      f64_2d_or_null]),
    # model, n_structures, natoms[n], atomic_numbers[sum natoms], mc_samples, values, sigmas, ood,
    # probabilities
    "matnn_property_predict_structures": (_status, [_model_p, ctypes.c_int, i32_1d, i32_1d, ctypes.c_int,
                                                    f64_1d, f64_1d_or_null, i32_1d_or_null, f64_2d_or_null]),
    # model, n_structures, natoms, atomic_numbers, positions[sum natoms x 3], cells[n x 9] or NULL,
    # pbc[n x 3] or NULL, mc_samples, values, sigmas, ood, probabilities (since ABI 3)
    "matnn_property_predict_atoms": (_status, [_model_p, ctypes.c_int, i32_1d, i32_1d, f64_1d, f64_1d_or_null,
                                               i32_1d_or_null, ctypes.c_int, f64_1d, f64_1d_or_null,
                                               i32_1d_or_null, f64_2d_or_null]),
    # as matnn_property_predict_atoms, with the stream's seed after mc_samples (since ABI 4)
    "matnn_property_predict_atoms_mc": (_status, [_model_p, ctypes.c_int, i32_1d, i32_1d, f64_1d, f64_1d_or_null,
                                                  i32_1d_or_null, ctypes.c_int, ctypes.c_uint64, f64_1d,
                                                  f64_1d_or_null, i32_1d_or_null, f64_2d_or_null]),
    "matnn_property_embedding_width": (_status, [_model_p, _c_int_p]),
    # model, n_structures, natoms, atomic_numbers, positions, cells or NULL, pbc or NULL, embeddings
    "matnn_property_embed_atoms": (_status, [_model_p, ctypes.c_int, i32_1d, i32_1d, f64_1d, f64_1d_or_null,
                                             i32_1d_or_null, f64_2d]),
    # model, input, channels, points, width (since ABI 7)
    "matnn_property_input": (_status, [_model_p, _c_int_p, _c_int_p, _c_int_p, _c_int_p]),
    # model, axis[points] or NULL, name or NULL, unit or NULL (since ABI 7)
    "matnn_property_spectrum_axis": (_status, [_model_p, f64_1d_or_null, ctypes.POINTER(ctypes.c_char_p),
                                               ctypes.POINTER(ctypes.c_char_p)]),
    # model, n, channels, points, axis[points], intensities[n x channels x points], mc_samples, seed,
    # values, sigmas, ood, probabilities, embeddings (since ABI 7)
    "matnn_property_predict_spectra": (_status, [_model_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, f64_1d,
                                                 f64_3d, ctypes.c_int, ctypes.c_uint64, f64_1d, f64_1d_or_null,
                                                 i32_1d_or_null, f64_2d_or_null, f64_2d_or_null]),
    # model, n, channels, height, width, pixel_sizes[n], pixels[n x channels x height x width],
    # mc_samples, seed, values, sigmas, ood, probabilities, embeddings (since ABI 7)
    "matnn_property_predict_images": (_status, [_model_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                                f64_1d, f64_4d, ctypes.c_int, ctypes.c_uint64, f64_1d,
                                                f64_1d_or_null, i32_1d_or_null, f64_2d_or_null, f64_2d_or_null]),
    "matnn_train": (_status, [ctypes.c_char_p, ctypes.c_char_p, PROGRESS_CALLBACK, ctypes.c_void_p]),
    # config, output model or NULL, the communicator's Fortran handle, callback, user data (since ABI 5)
    "matnn_train_comm": (_status, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, PROGRESS_CALLBACK,
                                   ctypes.c_void_p]),
    # path, units, n_structures, natoms, atomic_numbers, positions, cells or NULL, pbc or NULL,
    # energies or NULL, forces or NULL, stresses or NULL, config_type or NULL (since ABI 6)
    "matnn_dataset_append": (_status, [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, i32_1d, i32_1d, f64_2d,
                                       f64_1d_or_null, i32_1d_or_null, f64_1d_or_null, f64_2d_or_null,
                                       f64_1d_or_null, ctypes.c_char_p]),
}


def _candidates():
    here = sorted(glob.glob(os.path.join(_HERE, "libmatnn.so*")))
    yield from here
    env = os.environ.get("MATNN_LIBRARY")
    if env:
        yield env
    found = ctypes.util.find_library("matnn")
    if found:
        yield found
    repo = os.path.dirname(os.path.dirname(_HERE))
    # A sanitizer build (build-asan, ...) aborts an interpreter that did not preload its runtime,
    # which no try/except can catch: such trees come last.
    trees = glob.glob(os.path.join(repo, "build*", "**", "libmatnn.so"), recursive=True)
    yield from sorted(trees, key=lambda path: ("san" in os.path.relpath(path, repo).split(os.sep)[0], path))


def _load():
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
            continue
        try:
            for name, (restype, argtypes) in _PROTOTYPES.items():
                function = getattr(lib, name)
                function.restype = restype
                function.argtypes = argtypes
        except AttributeError as e:
            # A library older than this binding lacks the later ABI's functions; say so rather
            # than fail on the first call.
            errors.append(f"{path}: {e} (this binding needs C ABI {ABI_VERSION})")
            continue
        lib.path = path
        return lib
    tried = "\n  ".join(errors) if errors else "no candidate found"
    raise ImportError("matnn: cannot load libmatnn.so (looked in the package folder, $MATNN_LIBRARY, "
                      f"the system library path and the build trees):\n  {tried}")


class _Library:
    """libmatnn.so, loaded at its first use (ImportError then if it cannot be found), so that the
    pure-Python parts of the package (matnn.validate's structures, the plots) and the scripts
    that import them work without a built library."""

    _loaded = None

    def __getattr__(self, name):
        if _Library._loaded is None:
            _Library._loaded = _load()
        return getattr(_Library._loaded, name)


lib = _Library()


def decode(raw):
    """A C string returned by matnn as str ("" for NULL)."""
    return raw.decode("utf-8", errors="replace") if raw else ""
