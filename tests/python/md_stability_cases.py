#!/usr/bin/env python3
"""Tests of examples/md_stability.py (MD stability and NVE energy conservation), one case per
CTest test (tests/validate/CMakeLists.txt).

Usage: md_stability_cases.py CASE

Run with Debian's /usr/bin/python3 (ASE, numpy) and PYTHONPATH=<repo>/python.

  self     the command line with ASE's EMT as the model: a short NVT and NVE run of Cu at 600 K
           is stable, exit 0, energy conserved well inside the limit, and the JSON says so
  verdict  the verdict on states a collapsing model reaches, with the parser's defaults: a
           potential energy 0.3 eV/atom below the perfect lattice is unstable (an Al
           Behler-Parrinello model fell 0.5 eV/atom below its crystal at 960 K and was called
           stable while the limit was 1 eV), and so is an NVE run whose total energy drifts
           by hundreds of meV/atom or is not finite; a hot crystal and a conserving run are not
"""
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "examples", "md_stability.py")
sys.path.insert(0, os.path.dirname(SCRIPT))
import md_stability  # noqa: E402

CU = ["--lattice", "fcc", "--element", "Cu", "--a0", "3.6", "--supercell", "2"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def case_self():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "md.json")
        args = [SCRIPT, "emt", *CU, "--temperature", "600", "--steps", "200", "--nve-steps", "200",
                "--log-interval", "50", "--quiet", "--json", out]
        result = subprocess.run([sys.executable, *args], capture_output=True, text=True)
        print(f"exit {result.returncode}\n{result.stdout}{result.stderr}")
        check(result.returncode == 0, f"exit {result.returncode}, expected 0")
        check("verdict: STABLE" in result.stdout, "no stable verdict")
        with open(out) as f:
            report = json.load(f)
        nve = report["runs"]["model"]["nve"]
        check(report["stable"] and report["failure"] is None, f"JSON says {report['failure']}")
        check(abs(nve["drift_mev_per_atom"]) < 0.1 * report["settings"]["max_nve_error"],
              f"EMT's NVE drift {nve['drift_mev_per_atom']} meV/atom")


def expect_unstable(action, words):
    try:
        action()
    except md_stability.Unstable as e:
        print(f"unstable, as expected: {e}")
        check(words in str(e), f"the message does not say {words!r}: {e}")
        return
    raise AssertionError(f"not unstable; expected a failure about {words!r}")


def case_verdict():
    args = md_stability._parser().parse_args(["emt", *CU, "--temperature", "960"])
    run = md_stability.Run(None, args, "model")
    run.phase, run.e_start = "NVT", -3.41

    run.check(100, -3.41 + 0.12, 960.0, dmin=2.4)  # a hot crystal: above the lattice's energy
    expect_unstable(lambda: run.check(2086, -3.41 - 0.3, 1100.0, dmin=2.0), "potential energy")

    run.check_conservation({"drift_mev_per_atom": -0.0013, "max_abs_de_mev_per_atom": 0.026})
    expect_unstable(lambda: run.check_conservation({"drift_mev_per_atom": 394.3,
                                                    "max_abs_de_mev_per_atom": 462.5}),
                    "not conserved")
    expect_unstable(lambda: run.check_conservation({"drift_mev_per_atom": 0.5,
                                                    "max_abs_de_mev_per_atom": 40.0}),
                    "not conserved")
    expect_unstable(lambda: run.check_conservation({"drift_mev_per_atom": math.nan,
                                                    "max_abs_de_mev_per_atom": math.nan}),
                    "not conserved")


if __name__ == "__main__":
    {"self": case_self, "verdict": case_verdict}[sys.argv[1]]()
