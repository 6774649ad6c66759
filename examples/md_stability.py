#!/usr/bin/env python3
"""MD stability and NVE energy conservation of a matnn potential, through its ASE calculator.

Usage:
  md_stability.py MODEL --lattice fcc|diamond --element X --a0 A [--supercell N]
                  [--temperature T] [--steps N] [--timestep FS] [--nve-steps N]
                  [--nve-timestep FS] [--reference SPEC] [--json OUT.json] [options]

It checks the accuracy goal "stable MD at 1.2 times the highest training temperature for 10^4
steps (no atom flying off, no exploding energy), and energy conservation in NVE":

1. builds the cubic supercell bulk(X, lattice, a=A, cubic=True).repeat(N), gives it seeded
   Maxwell-Boltzmann velocities at T (no centre-of-mass motion);
2. runs Langevin NVT at T for --steps steps, logging every --log-interval steps the potential
   energy per atom, the temperature, the smallest interatomic distance, the largest
   and root-mean-square displacement from the start (unwrapped: ASE's integrators never wrap
   positions; the centre-of-mass drift taken out),
   the largest force and, for an ensemble, the largest force deviation (DeePMD's model
   deviation, the calculator's `max_force_deviation`);
3. runs velocity-Verlet NVE for --nve-steps steps from the final NVT state and reports the
   total-energy drift (slope of a linear fit times the duration) and max |E - E0|, per atom;
4. decides: unstable when an energy is not finite, the calculator fails (e.g. overlapping atoms),
   the smallest distance falls below --min-distance (default 0.5 x the nearest-neighbour
   distance of the perfect lattice), the temperature exceeds --max-temperature-factor x T
   (default 3, NVT only), or the potential energy per atom leaves
   [E_start - --energy-below, E_start + --energy-above] (defaults 0.1 and 2 eV; E_start is that
   of the perfect lattice, the ground state of an elemental fcc or diamond cell at its lattice
   constant, so thermal motion can only raise the energy: a potential energy well below it is a
   spurious collapse, not a hot crystal). A run stops at its first violation. After NVE it is
   also unstable when the drift or the largest |E - E0| exceeds --max-nve-error (default 5
   meV/atom): energy that is not conserved.

With --reference SPEC (emt, or KIND:FILE as in `python -m matnn.validate`, e.g.
tersoff:/usr/share/lammps/potentials/Si.tersoff) the same protocol, with the same seed, is run
with the reference potential too and shown beside the model; the verdict is the model's.
MODEL may itself be such a SPEC, to check the script on a reference potential.

Exit status: 0 stable, 1 unstable, 2 bad usage (missing or unreadable model, element unknown to
the model, bad option). Run with Debian's /usr/bin/python3 and PYTHONPATH=python, e.g.

  PYTHONPATH=python MATNN_LIBRARY=build/capi/libmatnn.so OMP_NUM_THREADS=1 /usr/bin/python3 \\
    examples/md_stability.py si.model.h5 --lattice diamond --element Si --a0 5.431 \\
    --supercell 2 --temperature 1560 --steps 10000 --nve-steps 2000 --json si_md.json
"""
import math
import os
import sys
import time

import numpy as np
from ase import units
from ase.build import bulk
from ase.data import atomic_numbers
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet
from ase.neighborlist import neighbor_list

from matnn.errors import MatnnError
from matnn._cli import UsageError, UsageParser, check_output
from matnn.validate import model_calculator, reference_calculator, write_json

LATTICES = ("fcc", "diamond")
# Nearest-neighbour distance of the perfect lattice in units of the cubic lattice constant.
NN_FACTOR = {"fcc": math.sqrt(2.0) / 2.0, "diamond": math.sqrt(3.0) / 4.0}


class Unstable(Exception):
    """The first violated stability criterion (message says which, at which step)."""


def min_distance(atoms, guess):
    """Smallest distance between two atoms, periodic images included (an atom and its own image
    count too). All pairs closer than the cutoff are found, so the minimum over them is exact as
    soon as there is one; the cutoff doubles until there is."""
    cutoff = guess
    limit = 4.0 * float(max(atoms.cell.lengths().max(), 1.0))
    while True:
        d = neighbor_list("d", atoms, cutoff)
        if len(d):
            return float(d.min())
        if cutoff > limit:
            return math.inf
        cutoff *= 2.0


class Run:
    """One NVT + NVE protocol with one calculator; fills self.result."""

    def __init__(self, calc, args, label):
        self.calc, self.args, self.label = calc, args, label
        self.nn = NN_FACTOR[args.lattice] * args.a0
        self.dmin_limit = args.min_distance if args.min_distance is not None else 0.5 * self.nn
        self.atoms = bulk(args.element, args.lattice, a=args.a0, cubic=True).repeat(args.supercell)
        self.n = len(self.atoms)
        self.log = []
        self.phase = None
        self.failure = None
        self.mfd_every_step = {}  # phase: [largest max_force_deviation of any step]

    # -- measurements -------------------------------------------------------------------
    def max_force_deviation(self):
        potential = getattr(self.calc, "potential", None)
        if potential is not None and getattr(potential, "ensemble_size", 1) <= 1:
            return None  # a single model has no deviation (the calculator reports 0)
        results = getattr(self.calc, "results", {})
        value = results.get("max_force_deviation") if isinstance(results, dict) else None
        return None if value is None else float(value)

    def check(self, step, epot, temperature, dmin=None):
        a = self.args
        if not (math.isfinite(epot) and math.isfinite(temperature)):
            raise Unstable(f"{self.phase} step {step}: non-finite energy (Epot/atom {epot}, T {temperature})")
        if dmin is not None and dmin < self.dmin_limit:
            raise Unstable(f"{self.phase} step {step}: minimum distance {dmin:.3f} A < {self.dmin_limit:.3f} A")
        if self.phase == "NVT" and temperature > a.max_temperature_factor * a.temperature:
            raise Unstable(f"NVT step {step}: temperature {temperature:.0f} K > "
                           f"{a.max_temperature_factor:g} x {a.temperature:g} K")
        lo, hi = self.e_start - a.energy_below, self.e_start + a.energy_above
        if not lo <= epot <= hi:
            raise Unstable(f"{self.phase} step {step}: potential energy {epot:.4f} eV/atom outside "
                           f"[{lo:.4f}, {hi:.4f}] (E_start {self.e_start:.4f})")

    def sample(self, step, check=True):
        """One log record (every log_interval steps and at the ends of each phase)."""
        atoms = self.atoms
        epot = atoms.get_potential_energy() / self.n
        ekin = atoms.get_kinetic_energy() / self.n
        temperature = atoms.get_temperature()
        forces = atoms.get_forces()
        dmin = min_distance(atoms, 1.2 * self.nn)
        # Displacement from the start without the centre-of-mass drift (a rigid shift is no diffusion).
        shift = atoms.positions - self.start_positions
        masses = atoms.get_masses()
        shift -= masses @ shift / masses.sum()
        d2 = (shift ** 2).sum(axis=1)
        disp, rms = float(np.sqrt(d2.max())), float(np.sqrt(d2.mean()))
        record = {"phase": self.phase, "step": step, "time_ps": step * self.dt_fs * 1e-3,
                  "epot": epot, "etot": epot + ekin, "temperature": temperature, "min_distance": dmin,
                  "max_displacement": disp, "rms_displacement": rms,
                  "max_force": float(np.sqrt((forces ** 2).sum(axis=1)).max()),
                  "max_force_deviation": self.max_force_deviation()}
        self.log.append(record)
        if not self.args.quiet:
            mfd = record["max_force_deviation"]
            print(f"  {self.label:9s} {self.phase} {step:6d}  Epot {epot:10.5f}  Etot {epot + ekin:10.5f} eV/atom  "
                  f"T {temperature:7.1f} K  dmin {dmin:5.3f}  disp max {disp:6.3f} rms {rms:6.3f} A  "
                  f"|F|max {record['max_force']:6.3f}" + ("" if mfd is None else f"  devF {mfd:6.4f}"),
                  flush=True)
        if check:
            self.check(step, epot, temperature, dmin)

    def every_step(self, dyn, etot_out=None):
        """Cheap checks after every step (energies are cached by the calculator)."""
        def observe():
            step = self.step = dyn.nsteps
            epot = self.atoms.get_potential_energy() / self.n
            ekin = self.atoms.get_kinetic_energy() / self.n
            if etot_out is not None:
                etot_out.append(epot + ekin)
            mfd = self.max_force_deviation()
            if mfd is not None:
                seen = self.mfd_every_step.setdefault(self.phase, [0.0])
                seen[0] = max(seen[0], mfd)
            if step % self.args.log_interval == 0 and step > 0:
                self.sample(step)
            else:
                self.check(step, epot, ekin / (1.5 * units.kB))
        return observe

    # -- the protocol -------------------------------------------------------------------
    def run_phase(self, name, dyn, steps, dt_fs, timings, totals=None):
        """Runs one phase; its statistics are kept even when it stops at a violation."""
        self.phase, self.dt_fs, self.step = name, dt_fs, 0
        t0 = time.perf_counter()
        try:
            self.sample(0)
            dyn.attach(self.every_step(dyn, totals), interval=1)
            dyn.run(steps)
            if steps % self.args.log_interval:
                self.sample(steps)
        except BaseException:
            self.step = dyn.nsteps
            self.sample_failed_state()
            raise
        finally:
            seconds = time.perf_counter() - t0
            timings[name.lower() + "_s"] = seconds
            records = [r for r in self.log if r["phase"] == name]
            if records:
                self.result[name.lower()] = stats = self.phase_stats(records, dyn.nsteps, seconds)
                if totals is not None and len(totals) > 1:
                    stats.update(self.conservation(np.array(totals)))

    def sample_failed_state(self):
        """A last log record of the state that failed, when it can still be evaluated."""
        if self.log and self.log[-1]["phase"] == self.phase and self.log[-1]["step"] == self.step:
            return
        try:
            with np.errstate(all="ignore"):
                self.sample(self.step, check=False)
        except Exception:  # noqa: BLE001  (the calculator may refuse the broken geometry)
            pass

    def run(self):
        a = self.args
        atoms = self.atoms
        atoms.calc = self.calc
        result = {"label": self.label, "natoms": self.n, "nn_distance": self.nn,
                  "min_distance_limit": self.dmin_limit, "log": self.log}
        self.result = result
        t_start = time.perf_counter()
        timings = {}
        try:
            self.phase = "start"
            self.e_start = atoms.get_potential_energy() / self.n
            result["e_start"] = self.e_start
            MaxwellBoltzmannDistribution(atoms, temperature_K=a.temperature, rng=np.random.default_rng(a.seed))
            Stationary(atoms)
            self.start_positions = atoms.positions.copy()
            nvt = Langevin(atoms, a.timestep * units.fs, temperature_K=a.temperature,
                           friction=a.friction / units.fs, rng=np.random.default_rng(a.seed + 1))
            self.run_phase("NVT", nvt, a.steps, a.timestep, timings)
            if a.nve_steps > 0:
                nve = VelocityVerlet(atoms, a.nve_timestep * units.fs)
                self.run_phase("NVE", nve, a.nve_steps, a.nve_timestep, timings, totals=[])
                self.check_conservation(result["nve"])
        except Unstable as e:
            self.failure = str(e)
        except MatnnError as e:
            self.failure = f"{self.phase} step {self.step}: the calculator failed: {type(e).__name__}: {e}"
        except FloatingPointError as e:
            self.failure = f"{self.phase} step {self.step}: floating-point failure: {e}"
        timings["total_s"] = time.perf_counter() - t_start
        result["timings"] = timings
        result["stable"] = self.failure is None
        result["failure"] = self.failure
        return result

    def check_conservation(self, stats):
        limit = self.args.max_nve_error
        drift, worst = stats.get("drift_mev_per_atom", math.nan), stats.get("max_abs_de_mev_per_atom", math.nan)
        if not (abs(drift) <= limit and worst <= limit):
            raise Unstable(f"NVE: total energy not conserved: drift {drift:.3f} meV/atom, max |E - E0| "
                           f"{worst:.3f} meV/atom (limit {limit:g})")

    def phase_stats(self, records, steps, seconds):
        key = lambda k: np.array([r[k] for r in records], dtype=float)  # noqa: E731
        half = records[len(records) // 2:]  # second half: the equilibrated part
        per = 1e6 * seconds / (steps * self.n) if steps else math.nan
        out = {"steps": steps, "wall_s": seconds, "us_per_atom_step": per,
               "epot_mean_2nd_half": float(np.mean([r["epot"] for r in half])),
               "temperature_mean_2nd_half": float(np.mean([r["temperature"] for r in half])),
               "temperature_max": float(key("temperature").max()),
               "min_distance": float(key("min_distance").min()),
               "max_displacement": float(key("max_displacement").max()),
               "final_max_displacement": records[-1]["max_displacement"],
               "final_rms_displacement": records[-1]["rms_displacement"],
               "max_force": float(key("max_force").max())}
        mfd = [r["max_force_deviation"] for r in records if r["max_force_deviation"] is not None]
        mfd += self.mfd_every_step.get(records[0]["phase"], [])
        out["max_force_deviation"] = max(mfd) if mfd else None  # over every step
        return out

    def conservation(self, totals):
        """Total energy per atom sampled every step: drift = fitted slope x duration, and the
        largest |E - E0|, both in meV/atom."""
        t = np.arange(len(totals)) * self.args.nve_timestep * 1e-3  # ps
        if not np.isfinite(totals).all():
            return {"duration_ps": float(t[-1]), "drift_mev_per_atom": math.nan, "max_abs_de_mev_per_atom": math.nan}
        slope = np.polyfit(t, totals, 1)[0]
        return {"duration_ps": float(t[-1]), "drift_mev_per_atom": 1e3 * float(slope * t[-1]),
                "drift_mev_per_atom_per_ps": 1e3 * float(slope),
                "max_abs_de_mev_per_atom": 1e3 * float(np.abs(totals - totals[0]).max()),
                "std_mev_per_atom": 1e3 * float(totals.std())}


# --------------------------------------------------------------------------- output

def _f(value, fmt):
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else format(value, fmt)


ROWS = [
    # (label, section, key, format)
    ("E_start (perfect lattice)  eV/atom", None, "e_start", ".5f"),
    ("NVT <Epot> 2nd half       eV/atom", "nvt", "epot_mean_2nd_half", ".5f"),
    ("NVT <T> 2nd half                K", "nvt", "temperature_mean_2nd_half", ".1f"),
    ("NVT max T                       K", "nvt", "temperature_max", ".1f"),
    ("NVT min distance                A", "nvt", "min_distance", ".3f"),
    ("NVT max displacement            A", "nvt", "max_displacement", ".3f"),
    ("NVT final rms displacement      A", "nvt", "final_rms_displacement", ".3f"),
    ("NVT max |F|                  eV/A", "nvt", "max_force", ".3f"),
    ("NVT max force deviation      eV/A", "nvt", "max_force_deviation", ".4f"),
    ("NVT time              us/atom/step", "nvt", "us_per_atom_step", ".1f"),
    ("NVE min distance                A", "nve", "min_distance", ".3f"),
    ("NVE <T>  2nd half               K", "nve", "temperature_mean_2nd_half", ".1f"),
    ("NVE drift (fit x duration) meV/atom", "nve", "drift_mev_per_atom", ".4f"),
    ("NVE max |E - E0|         meV/atom", "nve", "max_abs_de_mev_per_atom", ".4f"),
    ("NVE time              us/atom/step", "nve", "us_per_atom_step", ".1f"),
    ("wall time                       s", "timings", "total_s", ".1f"),
]


def format_table(runs):
    width = 36
    lines = [f"{'':{width}s}" + "".join(f"{r['label']:>14s}" for r in runs)]
    for label, section, key, fmt in ROWS:
        cells = []
        for r in runs:
            source = r if section is None else (r.get(section) or {})
            cells.append(f"{_f(source.get(key), fmt):>14s}")
        lines.append(f"{label:{width}s}" + "".join(cells))
    lines.append(f"{'verdict':{width}s}" + "".join(f"{'stable' if r['stable'] else 'UNSTABLE':>14s}" for r in runs))
    for r in runs:
        if r["failure"]:
            lines.append(f"{r['label']}: {r['failure']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line

def _parser():
    p = UsageParser(prog="md_stability.py", description="MD stability (Langevin NVT) and NVE energy conservation "
                "of a matnn potential.")
    p.add_argument("model", help="matnn potential file (or a reference SPEC, to check the script)")
    p.add_argument("--lattice", required=True, choices=LATTICES)
    p.add_argument("--element", required=True)
    p.add_argument("--a0", type=float, required=True, help="cubic lattice constant (A)")
    p.add_argument("--supercell", type=int, default=3, help="repeats of the cubic cell (default 3)")
    p.add_argument("--temperature", type=float, required=True, help="NVT temperature (K), e.g. 1.2 x the "
                   "highest training temperature")
    p.add_argument("--steps", type=int, default=10000, help="NVT steps (default 10000)")
    p.add_argument("--timestep", type=float, default=1.0, help="NVT time step, fs (default 1)")
    p.add_argument("--friction", type=float, default=0.01, help="Langevin friction, 1/fs (default 0.01)")
    p.add_argument("--nve-steps", type=int, default=2000, help="NVE steps after NVT (default 2000; 0: none)")
    p.add_argument("--nve-timestep", type=float, help="NVE time step, fs (default: --timestep)")
    p.add_argument("--log-interval", type=int, default=100, help="steps between log records (default 100)")
    p.add_argument("--seed", type=int, default=1, help="random seed of velocities and thermostat (default 1)")
    p.add_argument("--precision", choices=("float64", "float32"), default="float64",
                   help="precision the matnn model is loaded in (default float64)")
    p.add_argument("--min-distance", type=float, help="unstable below this distance, A "
                   "(default 0.5 x the perfect lattice's nearest-neighbour distance)")
    p.add_argument("--max-temperature-factor", type=float, default=3.0,
                   help="NVT unstable above this x --temperature (default 3)")
    p.add_argument("--energy-below", type=float, default=0.1,
                   help="unstable when Epot/atom < E_start - this, eV (default 0.1)")
    p.add_argument("--energy-above", type=float, default=2.0,
                   help="unstable when Epot/atom > E_start + this, eV (default 2)")
    p.add_argument("--max-nve-error", type=float, default=5.0,
                   help="unstable when the NVE drift or max |E - E0| exceeds this, meV/atom (default 5)")
    p.add_argument("--reference", metavar="SPEC", help="also run the reference: emt or KIND:FILE "
                   "(eam, eam-alloy, eam-fs, tersoff, sw), as in python -m matnn.validate")
    p.add_argument("--json", metavar="OUT.json", help="write settings, log and summary here (atomically)")
    p.add_argument("--quiet", action="store_true", help="no log lines, only the summary")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.nve_timestep is None:
        args.nve_timestep = args.timestep
    try:
        positive = {"--a0": args.a0, "--supercell": args.supercell, "--temperature": args.temperature,
                    "--steps": args.steps, "--timestep": args.timestep, "--nve-timestep": args.nve_timestep,
                    "--log-interval": args.log_interval, "--max-temperature-factor": args.max_temperature_factor,
                    "--energy-below": args.energy_below, "--energy-above": args.energy_above,
                    "--max-nve-error": args.max_nve_error}
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise UsageError(f"{name} must be positive (got {value})")
        if args.nve_steps < 0 or args.friction < 0 or (args.min_distance is not None and args.min_distance < 0):
            raise UsageError("--nve-steps, --friction and --min-distance must not be negative")
        if args.element not in atomic_numbers:
            raise UsageError(f"unknown element {args.element!r}")
        if args.json:
            check_output(args.json, "--json", [args.model, (args.reference or "").partition(":")[2]])
        calcs = [("model", model_calculator(args.model, args.element, args.precision))]
        if args.reference:
            calcs.append(("reference", reference_calculator(args.reference, args.element)))
    except UsageError as e:
        print(f"md_stability: error: {e}", file=sys.stderr)
        return 2

    natoms = len(bulk(args.element, args.lattice, a=args.a0, cubic=True)) * args.supercell ** 3
    print(f"md_stability {args.model}: {args.lattice} {args.element} a0 {args.a0} A, {natoms} atoms; "
          f"NVT {args.steps} x {args.timestep} fs at {args.temperature:g} K (friction {args.friction}/fs), "
          f"NVE {args.nve_steps} x {args.nve_timestep} fs, seed {args.seed}", flush=True)
    t0 = time.perf_counter()
    runs = []
    for label, calc in calcs:
        runs.append(Run(calc, args, label).run())
    wall = time.perf_counter() - t0
    model = runs[0]
    print()
    print(format_table(runs))
    md_steps = model.get("nvt", {}).get("steps", 0) + model.get("nve", {}).get("steps", 0)
    md_s = model["timings"].get("nvt_s", 0.0) + model["timings"].get("nve_s", 0.0)
    per = 1e6 * md_s / (md_steps * model["natoms"]) if md_steps else float("nan")
    print(f"\nmodel: {md_steps} MD steps in {md_s:.1f} s = {per:.1f} us/atom/step "
          f"({1e3 * md_s / max(md_steps, 1):.2f} ms/step); whole script {wall:.1f} s")
    print("verdict: " + ("STABLE" if model["stable"] else "UNSTABLE: " + model["failure"]))
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k not in ("json", "quiet")}
        settings["min_distance_limit"] = model["min_distance_limit"]
        out = {"model_source": args.model, "settings": settings, "stable": model["stable"],
               "failure": model["failure"], "us_per_atom_step": per, "wall_s": wall,
               "runs": {r["label"]: r for r in runs}}
        write_json(out, args.json)
    return 0 if model["stable"] else 1


if __name__ == "__main__":
    sys.exit(main())
