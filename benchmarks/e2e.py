"""End to end, CSV in, run out (issue #16): `nncli train / predict / evaluate / data convert` on two
wide numeric CSVs, beside `pandas.read_csv` of the same files, each run as a subprocess.

The CSVs are generated once, deterministically, into a cache directory outside the repository
(``$NNCLI_BENCH_CACHE``, default ``~/.cache/nncli-bench``) and reused by later runs:

* ``big``:  the big benchmark job's data (20000 x 784 float features + an integer ``label``),
  features written ``%.4f`` as np.savetxt does with that format (about 120 MB).
* ``wide``: 1,000,000 x 20 float features + a float regression target ``y`` (about 150 MB).

For every command: wall time (perf_counter around the subprocess, so start-up and writing are in)
and peak RSS (``/usr/bin/time -v`` when present, else ``getrusage(RUSAGE_CHILDREN)`` in a tiny
launcher process, which the parent's image cannot inflate). `nncli train` also gives its own
training seconds (metrics.json ``training_seconds``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import jobs
from .cli_checks import _env, _last_line, nncli_command

GNU_TIME = "/usr/bin/time"
RSS_FLAT_MB = 250.0  # predict / evaluate: flat memory whatever the input
RSS_SLACK_MB = 150.0  # train: 3 x float32 data + this
# The file format version: bump it when the generator changes, so stale cached files are not reused.
FORMAT = 1


@dataclass(frozen=True)
class CsvJob:
    """One end-to-end job: a CSV on disk and the config that trains on it."""

    name: str
    rows: int
    features: int
    target: str
    job: jobs.Job  # the net, loss, optimizer, epochs (n_samples/n_features match the CSV)

    @property
    def float32_mb(self) -> float:
        """All columns (features and target) as float32, in MB (10^6 bytes)."""
        return self.rows * (self.features + 1) * 4 / 1e6

    def filename(self) -> str:
        return f"{self.name}-{self.rows}x{self.features}-v{FORMAT}.csv"


def csv_jobs(quick: bool) -> list[CsvJob]:
    big_rows = 5000 if quick else 20000
    wide_rows = 100_000 if quick else 1_000_000
    big = jobs.big(n_samples=big_rows)
    wide = jobs.Job(
        name="wide", n_samples=wide_rows, n_features=20,
        layers=((64, "relu"), (64, "relu"), (1, jobs.LINEAR)), loss="mse",
        optimizer={"name": "adam", "learning_rate": 1e-3}, epochs=1, batch_size=256,
    )
    return [CsvJob("big", big_rows, 784, "label", big), CsvJob("wide", wide_rows, 20, "y", wide)]


def cache_dir() -> Path:
    return Path(os.environ.get("NNCLI_BENCH_CACHE") or Path.home() / ".cache" / "nncli-bench")


def _rows(cj: CsvJob, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows [start, stop) of the job's data, the same whatever the chunking (seeded per block)."""
    if cj.name == "big":  # the big benchmark job's own data, so train matches the in-memory job
        X, y = jobs.make_data(cj.job)
        return X[start:stop], y[start:stop]
    rng = np.random.default_rng([4321, start])
    X = rng.standard_normal((stop - start, cj.features)).astype(np.float32)
    A = np.random.default_rng(99).standard_normal((cj.features, 8)) / np.sqrt(cj.features)
    y = np.tanh(X @ A).sum(axis=1) + 0.1 * rng.standard_normal(stop - start)
    return X, y.astype(np.float32)


def ensure_csv(cj: CsvJob, log=print) -> Path:
    """The job's CSV in the cache, written (atomically, by rename) if it is not there yet."""
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / cj.filename()
    marker = path.with_suffix(".json")
    if path.exists() and marker.exists():
        try:
            if json.loads(marker.read_text()).get("bytes") == path.stat().st_size:
                return path
        except (OSError, ValueError):
            pass
    log(f"  writing {path} (once; reused by later runs) ...")
    t0 = time.perf_counter()
    header = ",".join([f"x{i}" for i in range(cj.features)] + [cj.target])
    tgt_fmt = "%d" if cj.name == "big" else "%.6f"
    fmt = ",".join(["%.4f"] * cj.features + [tgt_fmt])
    # A name of this process's own: two benchmark runs may fill the cache at once; both write the
    # same bytes, and the rename is atomic, so whichever renames last leaves a whole file.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.partial")
    block = 20000 if cj.name == "big" else 100_000
    X_all = y_all = None
    with open(tmp, "w") as fh:
        fh.write(header + "\n")
        for s in range(0, cj.rows, block):
            e = min(s + block, cj.rows)
            if cj.name == "big":
                if X_all is None:
                    X_all, y_all = _rows(cj, 0, cj.rows)
                X, y = X_all[s:e], y_all[s:e]
            else:
                X, y = _rows(cj, s, e)
            table = np.column_stack([X.astype(np.float64), y.astype(np.float64)])
            np.savetxt(fh, table, fmt=fmt, delimiter=",")
    os.replace(tmp, path)
    marker.write_text(json.dumps({"rows": cj.rows, "features": cj.features, "bytes": path.stat().st_size,
                                  "format": FORMAT}))
    log(f"  ... {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s")
    return path


# ------------------------------------------------------------------------------ measuring a command
_LAUNCHER = r"""
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.buffer.write(p.stderr[-4000:])
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@dataclass
class Measure:
    wall: float | None = None
    rss_mb: float | None = None
    exit: int = 0
    error: str | None = None
    stdout: str = ""

    @property
    def ok(self) -> bool:
        return self.exit == 0 and self.wall is not None


def measure(cmd: list[str], cwd: Path, capture_stdout: bool = False) -> Measure:
    """Run ``cmd``; its wall seconds and peak RSS in MB (10^6 bytes)."""
    t0 = time.perf_counter()
    if os.access(GNU_TIME, os.X_OK):
        with tempfile.NamedTemporaryFile("r", suffix=".time", dir=cwd) as tf:
            proc = subprocess.run([GNU_TIME, "-v", "-o", tf.name, *cmd], cwd=cwd, env=_env(),
                                  stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
            wall = time.perf_counter() - t0
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read())
        rss = int(m.group(1)) * 1024 / 1e6 if m else None
        out = proc.stdout if capture_stdout else ""
        code, err = proc.returncode, proc.stderr
    else:
        proc = subprocess.run([sys.executable, "-c", _LAUNCHER, *cmd], cwd=cwd, env=_env(),
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        last = proc.stdout.split()
        code, rss = (int(last[0]), int(last[1]) * 1024 / 1e6) if len(last) >= 2 else (proc.returncode, None)
        out, err = "", proc.stderr
    return Measure(wall, rss, code, _last_line(err) if code else None, out)


_PANDAS = r"""
import sys, time
import pandas
t0 = time.perf_counter()
df = pandas.read_csv(sys.argv[1])
print(time.perf_counter() - t0, df.shape[0])
"""


def pandas_read(path: Path, cwd: Path) -> tuple[Measure, float | None]:
    """`pandas.read_csv` in its own process: (the process, the read_csv seconds alone)."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        return Measure(exit=1, error="pandas not installed (pip install -e .[bench])"), None
    m = measure([sys.executable, "-c", _PANDAS, str(path)], cwd, capture_stdout=True)
    secs = float(m.stdout.split()[0]) if m.ok and m.stdout.split() else None
    return m, secs


# ------------------------------------------------------------------------------ one job, all commands
def run_job(cj: CsvJob, csv: Path, log=print) -> dict:
    """Every measurement of one CSV job, as a dict (seconds, MB)."""
    import yaml

    res: dict = {"rows": cj.rows, "features": cj.features, "csv_mb": csv.stat().st_size / 1e6,
                 "float32_mb": cj.float32_mb}
    with tempfile.TemporaryDirectory(prefix="nncli-e2e-") as tmp:
        tmp = Path(tmp)
        cfg = jobs.nncli_config(cj.job)
        cfg["name"] = f"e2e-{cj.name}"
        cfg["data"] = {"path": str(csv), "target": cj.target, **cfg["data"]}
        (tmp / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        nn = nncli_command()
        log(f"  {cj.name}: pandas.read_csv ...")
        res["pandas"], res["pandas_read_s"] = pandas_read(csv, tmp)
        log(f"  {cj.name}: nncli train ...")
        res["train"] = measure(nn + ["train", "config.yaml", "--out", "run", "--quiet"], tmp)
        res["train_s"] = None
        if res["train"].ok:
            metrics = json.loads((tmp / "run" / "metrics.json").read_text())
            res["train_s"] = float(metrics["training_seconds"])
            log(f"  {cj.name}: nncli predict ...")
            res["predict"] = measure(nn + ["predict", "run", str(csv), "--out", "pred.csv"], tmp)
            log(f"  {cj.name}: nncli evaluate ...")
            res["evaluate"] = measure(nn + ["evaluate", "run", str(csv)], tmp)
        else:
            skipped = Measure(exit=-1, error="skipped: train failed")
            res["predict"] = res["evaluate"] = skipped
        log(f"  {cj.name}: nncli data convert ...")
        res["convert"] = measure(nn + ["data", "convert", str(csv), "data.npz", "--target", cj.target], tmp)
        shutil.rmtree(tmp / "run", ignore_errors=True)
    return res


def _limit_check(value: float | None, limit: float | None) -> str:
    if value is None or limit is None:
        return "n/a"
    return "PASS" if value <= limit else "MISS"


def targets(res: dict) -> list[tuple[str, float | None, float | None, str]]:
    """(check, measured, limit, unit) per target of issue #16 for one job."""
    read = res["pandas_read_s"]
    tr, ts = res["train"], res["train_s"]
    rss_bound = 3 * res["float32_mb"] + RSS_SLACK_MB
    out = [
        ("train wall", tr.wall if tr.ok else None,
         2 * (read + ts) if read is not None and ts is not None else None, "s"),
        ("train peak RSS", tr.rss_mb if tr.ok else None, rss_bound, "MB"),
    ]
    for cmd in ("predict", "evaluate"):
        m = res[cmd]
        out.append((f"{cmd} wall", m.wall if m.ok else None, 2 * read if read is not None else None, "s"))
        out.append((f"{cmd} peak RSS", m.rss_mb if m.ok else None, RSS_FLAT_MB, "MB"))
    # "convert no slower than train's reading": train's wall without its training seconds (what is
    # left is start-up, reading and preprocessing the CSV, and writing the run directory).
    cv = res["convert"]
    reading = tr.wall - ts if tr.ok and ts is not None else None
    out.append(("convert wall vs train's reading", cv.wall if cv.ok else None, reading, "s"))
    out.append(("convert peak RSS (train's bound)", cv.rss_mb if cv.ok else None, rss_bound, "MB"))
    return out


def to_jsonable(res: dict) -> dict:
    return {k: (vars(v) if isinstance(v, Measure) else v) for k, v in res.items()}


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    return f"{v:.2f} s" if unit == "s" else f"{v:.0f} MB"


def section(out, quick: bool, which: list[str] | None = None) -> dict:
    """Generate (or reuse) the CSVs, measure, print the two tables; returns the record."""
    from .report import Table, fmt_ratio, ratio

    record: dict = {"cache": str(cache_dir()), "rss_source": "/usr/bin/time -v" if os.access(GNU_TIME, os.X_OK)
                    else "getrusage(RUSAGE_CHILDREN)"}
    cjs = [c for c in csv_jobs(quick) if which is None or c.name in which]
    out.line(f"End to end (issue #16): CSVs cached in {cache_dir()}; peak RSS from {record['rss_source']}")
    results = {}
    for cj in cjs:
        csv = ensure_csv(cj, log=out.line)
        results[cj.name] = run_job(cj, csv, log=out.line)
    t = Table("End to end: CSV in, run out (wall includes start-up; MB = 10^6 bytes)",
              ["job", "step", "wall s", "peak RSS MB", "note"])
    for name, r in results.items():
        desc = f"{name} ({r['rows']}x{r['features']}, {r['csv_mb']:.0f} MB CSV, {r['float32_mb']:.0f} MB f32)"
        pm = r["pandas"]
        t.add(desc, "pandas.read_csv", _fmt(r["pandas_read_s"], "s").removesuffix(" s"),
              _fmt(pm.rss_mb, "MB").removesuffix(" MB"),
              f"process {pm.wall:.2f} s incl. import" if pm.ok else (pm.error or ""))
        for step in ("train", "predict", "evaluate", "convert"):
            m = r[step]
            note = ""
            if step == "train" and r["train_s"] is not None:
                note = f"training {r['train_s']:.2f} s (metrics.json)"
            if not m.ok:
                note = f"exit {m.exit}: {m.error}"
            t.add("", f"nncli {'data convert' if step == 'convert' else step}",
                  f"{m.wall:.2f}" if m.ok else "—", f"{m.rss_mb:.0f}" if m.ok and m.rss_mb else "—", note)
    out.table(t)
    tg = Table("End-to-end targets (issue #16)", ["job", "check", "measured", "limit", "measured / limit", "result"])
    for name, r in results.items():
        desc = name
        for check, val, limit, unit in targets(r):
            tg.add(desc, check, _fmt(val, unit), _fmt(limit, unit), fmt_ratio(ratio(val, limit)),
                   _limit_check(val, limit))
            desc = ""
    tg.note = ("train wall <= 2 x (pandas.read_csv + training s); train RSS <= 3 x float32 data + 150 MB; "
               "predict/evaluate wall <= 2 x pandas.read_csv, RSS <= 250 MB; convert wall <= train wall - "
               "training s, RSS <= train's bound")
    out.table(tg)
    record["jobs"] = {k: to_jsonable(v) for k, v in results.items()}
    record["targets"] = {k: [list(x) for x in targets(v)] for k, v in results.items()}
    return record
