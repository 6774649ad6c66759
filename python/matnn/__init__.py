"""matnn: neural-network surrogates for materials science, from Python.

A ctypes binding of the C interface (libmatnn.so, include/matnn/matnn.h); see python/README.md.

    import matnn
    pot = matnn.Potential("cu.model.h5", precision="float64")
    out = pot.compute(numbers, positions, cell, pbc=True, stress=True)   # dict of numpy arrays
    from matnn.calculator import MatnnCalculator                         # the ASE calculator

Errors are matnn.MatnnError subclasses with .status (matnn.Status) and the library's message.
"""
from ._model import Potential, PropertyModel, abi_version, append_dataset, train, version
from .errors import (CancelledError, FileError, FormatError, GeometryError, InternalError,
                     InvalidArgumentError, MatnnError, ModelError, MPIError, NonFiniteError,
                     OutOfMemoryError, SingularCellError, Status, UnknownElementError,
                     UnsupportedError)

__all__ = [
    "Potential", "PropertyModel", "MatnnCalculator", "train", "append_dataset", "version", "abi_version", "Status",
    "MatnnError", "InvalidArgumentError", "FileError", "FormatError", "UnknownElementError",
    "NonFiniteError", "SingularCellError", "GeometryError", "ModelError", "UnsupportedError",
    "CancelledError", "MPIError", "OutOfMemoryError", "InternalError",
]


def __getattr__(name):
    # The library loads at its first use (matnn._lib), so the version is asked for then.
    if name == "__version__":
        return version()
    # The calculator imports ASE; load it only when asked for, so matnn works without ASE.
    if name == "MatnnCalculator":
        from .calculator import MatnnCalculator
        return MatnnCalculator
    raise AttributeError(f"module 'matnn' has no attribute {name!r}")
