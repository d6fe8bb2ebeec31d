"""A 12-trial sweep sequentially and with 2 local workers: prints both times and their ratio.

    python benchmarks/sweep_bench.py [--workers 2] [--epochs 150]

Target on a 2-core machine: workers/sequential <= 0.6.  Both sweeps must give the same metrics.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nncli import sweep as sw  # noqa: E402

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=150)
    args = ap.parse_args()

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
        times, results = {}, {}
        for label, workers in (("sequential", 1), (f"{args.workers} workers", args.workers)):
            sweep = sw.prepare_sweep(spec, spec_dir=tmp, out=tmp / label.replace(" ", "-"))
            start = time.perf_counter()
            res = sw.run_sweep(sweep, workers=workers)
            times[label] = time.perf_counter() - start
            results[label] = [(r.trial.id, r.status, r.metrics.get("val_loss")) for r in res.results]
            print(f"{label:>12}: {len(res.results)} trials in {times[label]:.2f} s", flush=True)
        seq, par = times.values()
        print(f"{'ratio':>12}: {par / seq:.2f} (target <= 0.6 on 2 cores; {os.cpu_count()} cores here)")
        a, b = results.values()
        if a != b:
            print("MISMATCH: the two sweeps gave different results", file=sys.stderr)
            return 1
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
