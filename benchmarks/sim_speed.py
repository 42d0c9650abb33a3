"""How fast can a simulation run before it stores a degraded session? The figures behind
``--speed``'s ceiling (config.SIM_MAX_NOTIFICATIONS_PER_S, SIM_MAX_SPEED).

    .venv/bin/python benchmarks/sim_speed.py [--runs "8x100 8x300 40x30 ..."] [--session-s S]

Each run is the real program (its speed ceiling lifted), headless, with faults off, in a
temporary data folder: ``hiaim-monitor --simulate N --headless --speed X --duration D``,
D = X × S session seconds
(S real seconds; default 8). Printed per run: real seconds taken, and per participant the
share of the session credited to an intensity class (time in classes ÷ duration; with no
faults a session that keeps up credits nearly all of it, less the first seconds before the
straps connect) and samples received ÷ duration (about one notification a second). When
the simulation falls behind, notifications arrive in bursts: gaps longer than the credit
limit leave time uncredited, and the session lasts longer than asked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_RUNS = "1x300 8x50 8x100 8x150 8x300 40x10 40x30 40x60"
# The program itself, without the ceiling this benchmark is there to find.
UNLIMITED = ("import sys; from hiaim_monitor import config; "
             "config.SIM_MAX_NOTIFICATIONS_PER_S = config.SIM_MAX_SPEED = 1e9; "
             "from hiaim_monitor.cli import main; sys.exit(main(sys.argv[1:]))")


def run(n: int, speed: float, session_s: float) -> str:
    duration_s = speed * session_s
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "s.json"
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(HOME=folder, XDG_DATA_HOME=folder)
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", UNLIMITED, "--simulate", str(n), "--headless",
             "--speed", f"{speed:g}", "--duration", f"{duration_s:g}", "--faults", "none",
             "--summary-json", str(out)], env=env, capture_output=True, text=True,
            timeout=600)
        real_s = time.perf_counter() - started
        if result.returncode != 0:
            return f"{n:>3} × {speed:>5g}: refused or failed: {result.stderr.strip()[-200:]}"
        people = json.loads(out.read_text())["participants"]
    credited = [sum(p["seconds_in_level"].values()) / duration_s for p in people]
    received = [p["samples_received"] / duration_s for p in people]
    return (f"{n:>3} × {speed:>5g}: {real_s:5.1f} s real for {session_s:g} s asked; credited "
            f"min {min(credited):.2f} mean {sum(credited) / len(credited):.2f}; samples "
            f"{min(received):.2f}–{max(received):.2f} per second; load "
            f"{os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=DEFAULT_RUNS, help="NxSPEED pairs")
    parser.add_argument("--session-s", type=float, default=8.0, help="real seconds asked")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for pair in args.runs.split():
        n, speed = pair.split("x")
        print(run(int(n), float(speed), args.session_s), flush=True)


if __name__ == "__main__":
    main()
