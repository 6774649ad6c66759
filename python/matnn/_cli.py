"""What matnn's command-line tools (matnn.validate, matnn.plot, examples/md_stability.py) share:
one usage error, an argument parser that exits with 2 on bad usage, and atomic writes."""
import argparse
import os
import sys
import tempfile


class UsageError(ValueError):
    """Bad usage or unreadable input (exit 2); the message names the file or option."""


class UsageParser(argparse.ArgumentParser):
    """argparse with matnn's exit status for bad usage (2) and the usage line first."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def write_atomically(path, write, binary=False):
    """Calls write(file) on a temporary file beside PATH, then renames it into place, so PATH is
    either the old file or the whole new one. The temporary file is removed on any failure."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
