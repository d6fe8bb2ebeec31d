"""Command-line measurements: `nncli --help` start-up time and peak RSS of `nncli train`.

Both run nncli as a subprocess, the way a user does. The repository root is put first on
PYTHONPATH so a checkout is measured even when nncli is not installed (or installed elsewhere).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .jobs import Job, nncli_config

REPO = Path(__file__).resolve().parent.parent


def nncli_command() -> list[str]:
    """The console script next to this interpreter, else on PATH, else `python -m nncli`."""
    exe = Path(sys.executable).parent / "nncli"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("nncli")
    if found:
        return [found]
    return [sys.executable, "-m", "nncli"]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def help_seconds(runs: int = 5) -> tuple[float | None, str]:
    """Best-of-``runs`` wall time of `nncli --help`; (None, reason) if it fails."""
    cmd = nncli_command() + ["--help"]
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        if proc.returncode != 0:
            return None, f"failed (exit {proc.returncode}): {_last_line(proc.stderr.decode(errors='replace'))}"
        best = min(best, dt)
    return best, " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))


# A tiny launcher measures the child: ru_maxrss counts a forked child's pre-exec image, so forking
# straight from this (torch-laden, hundreds of MiB) process would inflate every reading.
_LAUNCHER = r"""
import resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
sys.stderr.buffer.write(p.stderr[-2000:])
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, wall)
"""


def _run_with_rusage(cmd: list[str], cwd: str) -> tuple[int, float, float, str]:
    """Run ``cmd``; return (exit code, its peak RSS in MiB, wall s, last stderr line)."""
    proc = subprocess.run([sys.executable, "-c", _LAUNCHER, *cmd], cwd=cwd, env=_env(),
                          capture_output=True, text=True)
    code, kib, wall = proc.stdout.split()
    return int(code), int(kib) / 1024.0, float(wall), _last_line(proc.stderr)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip()[-200:] if lines else ""


def train_peak_rss(job: Job, X: np.ndarray, y: np.ndarray) -> dict:
    """Peak RSS (MiB) of `nncli train` on ``job`` with its data in a temporary .npz, plus baselines."""
    import yaml

    out: dict = {"data_mib": (X.nbytes + y.nbytes) / 2**20}
    with tempfile.TemporaryDirectory(prefix="nncli-bench-") as tmp:
        np.savez(Path(tmp) / "data.npz", X=X, y=y)
        cfg = nncli_config(job)
        cfg["data"] = {"path": "data.npz", "target": "y", **cfg["data"]}
        cfg["output"] = {"dir": str(Path(tmp) / "run")}
        (Path(tmp) / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        code, rss, wall, err = _run_with_rusage(nncli_command() + ["train", "config.yaml"], tmp)
        out.update(rss_mib=rss, wall=wall, exit=code, error=err if code else None)
        _, base, _, _ = _run_with_rusage([sys.executable, "-c", "import numpy"], tmp)
        out["python_numpy_mib"] = base
    return out
