#!/usr/bin/env python3
"""scripts/generate_potential_data.py refuses, with exit 2 and before any calculation, an option
the chosen mode would not use (tests/validate/CMakeLists.txt)."""
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                      "generate_potential_data.py")
CASES = [(["si", "out.xyz", "--cold-strained", "3"], "--cold-strained would be ignored in mode si"),
         (["ge-tersoff", "out", "--strained", "3"], "--strained would be ignored in mode ge-tersoff"),
         (["al-eam", "out", "--splits", "test", "--close-pairs", "2"],
          "--close-pairs would be ignored without the train split")]
for argv, words in CASES:
    result = subprocess.run([sys.executable, SCRIPT, *argv], capture_output=True, text=True, timeout=60)
    print(f"$ generate_potential_data.py {' '.join(argv)}: exit {result.returncode}\n{result.stderr}")
    if result.returncode != 2 or words not in result.stderr:
        raise AssertionError(f"expected exit 2 saying {words!r}")
