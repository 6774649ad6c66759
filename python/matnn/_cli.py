"""What matnn's command-line tools (matnn.validate, matnn.plot, examples/md_stability.py) share:
one usage error, an argument parser that exits with 2 on bad usage, outputs that cannot replace
inputs, and atomic writes."""
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


def check_output(path, option, inputs):
    """Refuses (UsageError) an output PATH whose folder does not exist or that is one of the
    INPUTS (the same file by identity when both exist, the same resolved path otherwise), before
    any work, as the matnn executable does."""
    if os.path.isdir(path):
        raise UsageError(f"{option} {path} is a folder, not a file name")
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise UsageError(f"folder of {option} {path} does not exist")
    for source in inputs:
        if not source:
            continue
        if os.path.exists(path) and os.path.exists(source):
            same = os.path.samefile(path, source)
        else:
            same = os.path.realpath(path) == os.path.realpath(source)
        if same:
            raise UsageError(f"{option} {path} would overwrite the input {source}")


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
