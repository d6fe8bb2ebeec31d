"""A 12-trial sweep sequentially and with 2 local workers: prints both times and their ratio.

    python benchmarks/sweep_bench.py [--workers 2] [--epochs 400] [--repeat 2]

Target on a 2-core machine: workers/sequential <= 0.6.  Both sweeps must give the same metrics.
Each mode runs --repeat times, interleaved, and the fastest counts.  A calibration line first shows
how many cores the machine really gives (two busy processes against one): on a shared or throttled
machine the sweep cannot beat that figure.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nncli.sweep as sw  # noqa: E402

BASE = """\
name: bench
seed: 0
data:
  generator: {{name: moons, n_samples: 1000, noise: 0.2}}
  validation_split: 0.2
model:
  layers:
    - {{units: 32, activation: tanh}}
    - {{units: 32, activation: tanh}}
    - {{units: 1, activation: sigmoid}}
training:
  epochs: {epochs}
  batch_size: 32
  loss: binary_crossentropy
  optimizer: {{name: adam, learning_rate: 0.01}}
"""


def _busy(n: int = 3_000_000) -> float:
    t = time.perf_counter()
    s = 0
    for i in range(n):
        s += i
    return time.perf_counter() - t


def effective_cores(workers: int) -> float:
    """Work done per second by ``workers`` busy processes at once, relative to one."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        pool.map(_busy, [10_000] * workers)  # start-up out of the way
        solo = pool.apply(_busy)
        t = time.perf_counter()
        pool.map(_busy, [3_000_000] * workers)
        together = time.perf_counter() - t
    return workers * solo / together


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    # 400 epochs: trials of about a second, as a sweep's trials usually are at least; with much
    # shorter ones each worker's one-time start-up (importing NumPy and nncli, ~0.5 s) dominates
    # (--epochs 150: trials of 0.3-0.5 s, ratio about 0.66 on the project's 2-core machine).
    ap.add_argument("--epochs", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    print(f"{'calibration':>12}: {args.workers} busy processes get {effective_cores(args.workers):.2f} cores' worth "
          f"of CPU ({os.cpu_count()} cores reported)", flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="nncli-sweep-bench-"))
    try:
        (tmp / "base.yaml").write_text(BASE.format(epochs=args.epochs))
        spec = sw.SweepSpec(
            name="bench",
            base="base.yaml",
            grid={
                "training.optimizer.learning_rate": [0.03, 0.01, 0.003],
                "model.layers.0.units": [16, 32],
                "model.layers.0.activation": ["tanh", "relu"],
            },
        )
        times: dict[str, float] = {}
        results = {}
        for rep in range(args.repeat):
            for label, workers in (("sequential", 1), (f"{args.workers} workers", args.workers)):
                out = tmp / f"{label.replace(' ', '-')}-{rep}"
                sweep = sw.prepare_sweep(spec, spec_dir=tmp, out=out)
                start = time.perf_counter()
                res = sw.run_sweep(sweep, workers=workers)
                took = time.perf_counter() - start
                times[label] = min(times.get(label, took), took)
                results[label] = [(r.trial.id, r.status, r.metrics.get("val_loss")) for r in res.results]
                print(f"{label:>12}: {len(res.results)} trials in {took:.2f} s", flush=True)
                shutil.rmtree(out, ignore_errors=True)
        seq, par = times.values()
        print(f"{'best':>12}: sequential {seq:.2f} s, {args.workers} workers {par:.2f} s")
        print(f"{'ratio':>12}: {par / seq:.2f} (target <= 0.6 on 2 cores)")
        a, b = results.values()
        if a != b:
            print("MISMATCH: the two sweeps gave different results", file=sys.stderr)
            return 1
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
