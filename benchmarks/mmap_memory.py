"""Peak resident memory of `nncli train` on a 2 GB memory-mapped .npy (a benchmark, not a test).

    python benchmarks/mmap_memory.py [--rows 2000000] [--cols 256] [--dir /tmp] [--keep]

Writes X.npy (float32, rows × cols, 2 GB by default) chunk by chunk through
np.lib.format.open_memmap (never whole in RAM) and y.npy, trains one epoch of a small network on
it with `nncli train` in a subprocess, and prints that child's peak RSS (ru_maxrss of its
resource usage). Target: under 600 MB for the 2 GB file. The data files are deleted afterwards
unless --keep.

Measuring: the data is written by a separate child process, and the trainer's figure comes from
os.wait4 (that one child's rusage; getrusage(RUSAGE_CHILDREN) would be the largest of all
children, the writer included). Linux also records the parent's own peak RSS in a child's
ru_maxrss when the child execs (subprocess forks with vfork), so the parent must never hold the
data: it stays a small process that only starts the two children.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 50_000

CONFIG = """\
name: mmap-benchmark
seed: 0
data:
  path: X.npy
  y_path: y.npy
  validation_split: 0.005      # 0.5 % of the rows, gathered into memory
model:
  layers:
    - {units: 32, activation: relu}
    - {units: 2, activation: softmax}
training:
  epochs: 1
  batch_size: 1024
  loss: cross_entropy
  optimizer: {name: adam, learning_rate: 0.001}
"""


def write_data(folder: Path, rows: int, cols: int) -> None:
    rng = np.random.default_rng(0)
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float32, shape=(rows, cols))
    y = np.empty(rows, np.int64)
    for s in range(0, rows, CHUNK):
        e = min(s + CHUNK, rows)
        block = rng.standard_normal((e - s, cols), dtype=np.float32)
        X[s:e] = block
        y[s:e] = (block[:, 0] + 0.5 * block[:, 1] > 0)
        X.flush()
    del X
    np.save(folder / "y.npy", y)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--cols", type=int, default=256)
    ap.add_argument("--dir", default=None, help="where to write the data (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the data files")
    ap.add_argument("--write-only", metavar="FOLDER", help=argparse.SUPPRESS)  # the writer child
    args = ap.parse_args()
    if args.write_only:
        write_data(Path(args.write_only), args.rows, args.cols)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="nncli-mmap-", dir=args.dir))
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--cols", str(args.cols),
                        "--write-only", str(folder)], check=True)
        size = (folder / "X.npy").stat().st_size
        print(f"wrote {folder / 'X.npy'}: {args.rows} x {args.cols} float32, {size / 2**30:.2f} GiB "
              f"in {time.perf_counter() - t0:.1f} s")
        (folder / "config.yaml").write_text(CONFIG)
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "nncli", "train", "config.yaml", "--out", "run", "--quiet"],
                                cwd=folder, env=env, stderr=subprocess.PIPE, text=True)
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            print(stderr, file=sys.stderr)
            print(f"nncli train failed with exit code {proc.returncode}", file=sys.stderr)
            return 1
        peak_mb = usage.ru_maxrss / 1024  # Linux: KiB
        all_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        import json

        metrics = json.loads((folder / "run" / "metrics.json").read_text())
        print(f"nncli train, 1 epoch: {seconds:.1f} s; train accuracy {metrics['train']['accuracy']:.3f}, "
              f"validation accuracy {metrics['validation']['accuracy']:.3f}")
        print(f"peak RSS of nncli train: {peak_mb:.0f} MB for a {size / 2**20:.0f} MB file "
              f"(target < 600 MB): {'OK' if peak_mb < 600 else 'OVER'}")
        print(f"(largest child including the data writer, getrusage(RUSAGE_CHILDREN): {all_children:.0f} MB)")
        return 0 if peak_mb < 600 else 1
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
