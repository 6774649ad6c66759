"""matnn status codes (include/matnn/status.h) as Python exceptions.

Every failure of the C library is raised as a subclass of MatnnError carrying the status
(``err.status``, a Status) and the library's message (``str(err)``, ``err.message``). The
subclasses for bad input also derive from ValueError, so code that catches ValueError for bad
arguments keeps working.
"""
import enum


class Status(enum.IntEnum):
    """The fixed numbers of matnn_status."""
    SUCCESS = 0
    INVALID_ARGUMENT = 1
    IO = 2
    FORMAT = 3
    UNKNOWN_ELEMENT = 4
    NON_FINITE = 5
    SINGULAR_CELL = 6
    GEOMETRY = 7
    MODEL = 8
    UNSUPPORTED = 9
    CANCELLED = 10
    MPI = 11
    OUT_OF_MEMORY = 12
    INTERNAL = 99


class MatnnError(Exception):
    """A failed matnn call: ``status`` (Status or int) and ``message``."""

    def __init__(self, status, message):
        try:
            status = Status(status)
        except ValueError:
            status = int(status)
        self.status = status
        self.message = message
        super().__init__(message)

    @property
    def status_name(self):
        return f"MATNN_ERROR_{self.status.name}" if isinstance(self.status, Status) else str(self.status)

    def __str__(self):
        return f"{self.message} [{self.status_name}]"


class InvalidArgumentError(MatnnError, ValueError):
    """MATNN_ERROR_INVALID_ARGUMENT: a wrong shape, size, option or missing value."""


class FileError(MatnnError, OSError):
    """MATNN_ERROR_IO: a file that cannot be opened, read or written."""

    def __init__(self, status, message):
        MatnnError.__init__(self, status, message)

    def __str__(self):
        return MatnnError.__str__(self)


class FormatError(MatnnError):
    """MATNN_ERROR_FORMAT: a file whose content is malformed."""


class UnknownElementError(MatnnError, ValueError):
    """MATNN_ERROR_UNKNOWN_ELEMENT: an element the model was not trained on."""


class NonFiniteError(MatnnError, ValueError):
    """MATNN_ERROR_NON_FINITE: NaN or infinity in positions or cell."""


class SingularCellError(MatnnError, ValueError):
    """MATNN_ERROR_SINGULAR_CELL: periodic lattice vectors that are linearly dependent."""


class GeometryError(MatnnError, ValueError):
    """MATNN_ERROR_GEOMETRY: overlapping atoms or another geometry the model cannot evaluate."""


class ModelError(MatnnError):
    """MATNN_ERROR_MODEL: a model file of the wrong kind, a newer format, or corrupt content."""


class UnsupportedError(MatnnError):
    """MATNN_ERROR_UNSUPPORTED: an output or option this model or build does not support."""


class CancelledError(MatnnError):
    """MATNN_ERROR_CANCELLED: training stopped on the host's request."""


class MPIError(MatnnError):
    """MATNN_ERROR_MPI."""


class OutOfMemoryError(MatnnError, MemoryError):
    """MATNN_ERROR_OUT_OF_MEMORY."""


class InternalError(MatnnError):
    """MATNN_ERROR_INTERNAL: a bug in matnn; please report it with the message."""


_CLASSES = {
    Status.INVALID_ARGUMENT: InvalidArgumentError,
    Status.IO: FileError,
    Status.FORMAT: FormatError,
    Status.UNKNOWN_ELEMENT: UnknownElementError,
    Status.NON_FINITE: NonFiniteError,
    Status.SINGULAR_CELL: SingularCellError,
    Status.GEOMETRY: GeometryError,
    Status.MODEL: ModelError,
    Status.UNSUPPORTED: UnsupportedError,
    Status.CANCELLED: CancelledError,
    Status.MPI: MPIError,
    Status.OUT_OF_MEMORY: OutOfMemoryError,
    Status.INTERNAL: InternalError,
}


def error_for(status, message):
    """The exception for a non-zero status (MatnnError for a number matnn does not know)."""
    try:
        cls = _CLASSES.get(Status(status), MatnnError)
    except ValueError:
        cls = MatnnError
    return cls(status, message)


def invalid_argument(message):
    """An InvalidArgumentError found by the Python layer before calling C."""
    return InvalidArgumentError(Status.INVALID_ARGUMENT, message)
