"""Run the nncli benchmarks: `python -m benchmarks.run` or `python benchmarks/run.py`.

Same jobs, same data, one after the other in one process: nncli (Python API, data in memory),
scikit-learn's MLPClassifier/MLPRegressor and PyTorch on CPU. Prints training seconds, final
training loss, nncli/peer ratios, the GEMM floor, scaling tables, CLI start-up time and the peak
RSS of `nncli train`, and checks the targets of issue #6. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and the checkout's nncli importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

import numpy as np  # noqa: E402

from benchmarks import cli_checks, e2e, floor, jobs, profile  # noqa: E402
from benchmarks.engines import PEER_INSTALL, Result, run_engine  # noqa: E402
from benchmarks.report import Printer, Table, fmt_ratio, fmt_s, ratio  # noqa: E402

PEERS = ("sklearn", "torch")

# Time targets: (job, peer or "floor", max nncli/peer time ratio, "<=" or strict "<", issue).
TIME_TARGETS = [
    ("big", "torch", 0.5, "<=", 6),
    ("big", "torch", 0.45, "<=", 16),
    ("big", "sklearn", 0.4, "<=", 6),
    ("big", "floor", 1.6, "<=", 6),
    ("big", "floor", 1.4, "<=", 16),
    ("small", "sklearn", 0.35, "<=", 6),
    ("small", "torch", 0.15, "<=", 6),
    ("regression", "sklearn", 1.0, "<", 6),
    ("regression", "torch", 1.0, "<", 6),
    ("tanh", "torch", 0.45, "<=", 16),
]
HELP_TARGET = 0.35  # seconds, strict <
LOSS_REL_TOL = 0.10  # final loss within 10% of torch's ...
LOSS_ABS_OK = 0.01  # ... or both below this


def _check(value: float | None, limit: float, op: str) -> str:
    if value is None:
        return "n/a"
    return "PASS" if (value <= limit if op == "<=" else value < limit) else "FAIL"


def environment() -> list[str]:
    lines = [
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; numpy {np.__version__}"
    ]
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                lines.append(
                    f"numpy BLAS: {info.get('internal_api')} {info.get('version')}, kernel "
                    f"{info.get('architecture')}, {info.get('num_threads')} threads ({Path(info['filepath']).name})"
                )
    except ImportError:
        lines.append("numpy BLAS: unknown (pip install threadpoolctl; it comes with scikit-learn)")
    lines.append(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    lines.append(load_line())
    for mod in ("sklearn", "torch"):
        try:
            m = __import__(mod)
            lines.append(f"{mod} {m.__version__}")
        except ImportError:
            lines.append(f"{mod}: not installed ({PEER_INSTALL[mod]})")
    return lines


def load_line() -> str:
    """Load average: the timings assume an otherwise idle machine (2 busy threads per engine)."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average: unknown"
    warn = "  WARNING: machine busy, timings (torch's OpenMP most) will be inflated" if one > 0.5 else ""
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min){warn}"


def timed(engine: str, job: jobs.Job, X, y, repeat: int) -> Result:
    """Best-of-``repeat`` training seconds (loss and wall from the fastest run)."""
    best: Result | None = None
    for _ in range(repeat):
        r = run_engine(engine, job, X, y)
        if not r.ok:
            return r
        if best is None or r.seconds < best.seconds:
            best = r
    assert best is not None
    return best


def warm_up(engines: list[str], job: jobs.Job) -> None:
    """One tiny untimed run per engine: first-call costs (lazy imports, thread pools) are not training."""
    tiny = job.with_(n_samples=min(job.n_samples, 4 * job.batch_size), epochs=1)
    X, y = jobs.make_data(tiny)
    for e in engines:
        run_engine(e, tiny, X, y)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description="Benchmark nncli against scikit-learn and PyTorch on the same jobs (see benchmarks/README.md).")
    p.add_argument("--jobs", default="big,small,regression,tanh", help="comma list of: big, small, regression, tanh")
    p.add_argument("--peers", default="sklearn,torch", help="comma list of peers (sklearn, torch) or 'none'")
    p.add_argument("--quick", action="store_true", help="smaller data and fewer epochs: a smoke run")
    p.add_argument("--repeat", type=int, default=1, help="best of N timed runs per engine (default 1)")
    p.add_argument("--no-scaling", action="store_true", help="skip the sample-count and width sweeps")
    p.add_argument("--no-cli", action="store_true", help="skip `nncli --help` time and `nncli train` RSS")
    p.add_argument("--e2e-only", action="store_true",
                   help="only the end-to-end CSV section (with --quick: 5000-row and 100000-row files)")
    p.add_argument("--no-e2e", action="store_true", help="skip the end-to-end CSV section")
    p.add_argument("--e2e-jobs", default="big,wide", help="comma list of end-to-end CSV jobs: big, wide")
    p.add_argument("--profile-only", action="store_true", help="only the per-phase profile of a training step")
    p.add_argument("--no-profile", action="store_true", help="skip the per-phase profile of a training step")
    p.add_argument("--json", metavar="PATH", help="also write all measurements as JSON")
    p.add_argument("--plain", action="store_true", help="plain-text tables even if rich is installed")
    a = p.parse_args(argv)
    a.jobs = [j.strip() for j in a.jobs.split(",") if j.strip()]
    bad = [j for j in a.jobs if j not in jobs.JOBS]
    if bad:
        p.error(f"unknown job(s) {', '.join(bad)}; choose from {', '.join(jobs.JOBS)}")
    a.e2e_jobs = [j.strip() for j in a.e2e_jobs.split(",") if j.strip()]
    bad = [j for j in a.e2e_jobs if j not in ("big", "wide")]
    if bad:
        p.error(f"unknown end-to-end job(s) {', '.join(bad)}; choose from big, wide")
    if a.e2e_only and a.profile_only:
        p.error("--e2e-only and --profile-only exclude each other")
    a.peers = [] if a.peers.strip() == "none" else [x.strip() for x in a.peers.split(",") if x.strip()]
    bad = [x for x in a.peers if x not in PEERS]
    if bad:
        p.error(f"unknown peer(s) {', '.join(bad)}; choose from {', '.join(PEERS)}")
    return a


def build_jobs(quick: bool) -> dict[str, jobs.Job]:
    if quick:
        return {
            "big": jobs.big(n_samples=5000, epochs=1),
            "small": jobs.small(epochs=5),
            "regression": jobs.regression(n_samples=10000, epochs=1),
            "tanh": jobs.tanh(n_samples=5000, epochs=1),
        }
    return {"big": jobs.big(), "small": jobs.small(), "regression": jobs.regression(), "tanh": jobs.tanh()}


def peer_sections(args, out: Printer, engines: list[str], all_jobs: dict, record: dict) -> None:
    """The training-loop tables: nncli vs the peers, the command line, targets, scaling."""
    # ------------------------------------------------------------------ main jobs
    main_t = Table(
        "Training time and final loss (seconds = training only; loss = mean over the last epoch)",
        ["job", "engine", "train s", "call s", "final loss", "nncli / engine"],
    )
    results: dict[str, dict[str, Result]] = {}
    floor_big = None
    for name in args.jobs:
        job = all_jobs[name]
        X, y = jobs.make_data(job)
        warm_up(engines, job)
        res = {e: timed(e, job, X, y, args.repeat) for e in engines}
        results[name] = res
        nn = res["nncli"]
        desc = f"{name} ({job.n_samples}x{job.n_features}, {job.epochs} ep)"
        for e in engines:
            r = res[e]
            if not r.ok:
                main_t.add(desc, e, r.skipped, "", "", "")
            else:
                main_t.add(
                    desc, e, fmt_s(r.seconds), fmt_s(r.wall), f"{r.loss:.4f}",
                    "" if e == "nncli" else fmt_ratio(ratio(nn.seconds, r.seconds)),
                )
            desc = ""
        if name == "big":
            floor_big = floor.gemm_seconds(job)
            main_t.add("", "GEMM floor", fmt_s(floor_big), "", "", fmt_ratio(ratio(nn.seconds, floor_big)))
        record["jobs"][name] = {
            "job": {"n_samples": job.n_samples, "n_features": job.n_features, "epochs": job.epochs,
                    "batch_size": job.batch_size, "layers": job.layers, "loss": job.loss,
                    "optimizer": job.optimizer},
            "results": {e: vars(r) for e, r in res.items()},
            **({"gemm_floor_s": floor_big} if name == "big" else {}),
        }
    out.table(main_t)

    # ------------------------------------------------------------------ CLI
    help_s = None
    if not args.no_cli:
        cli_t = Table("Command line", ["measure", "value", "note"])
        help_s, how = cli_checks.help_seconds(5)
        cli_t.add("`nncli --help` wall, best of 5", fmt_s(help_s) + " s" if help_s is not None else "—", how)
        job = all_jobs["big"]
        X, y = jobs.make_data(job)
        rss = cli_checks.train_peak_rss(job, X, y)
        if rss["exit"] == 0:
            cli_t.add(f"`nncli train` big job, peak RSS", f"{rss['rss_mib']:.0f} MiB",
                      f"{rss['wall']:.1f} s wall incl. start-up and writing the run dir")
        else:
            cli_t.add("`nncli train` big job, peak RSS", "—", f"exit {rss['exit']}: {rss['error']}")
        cli_t.add("  for scale: python -c 'import numpy'", f"{rss['python_numpy_mib']:.0f} MiB", "")
        cli_t.add("  for scale: the data arrays", f"{rss['data_mib']:.0f} MiB", "X float32 + y int64")
        out.table(cli_t)
        record["cli"] = {"help_s": help_s, "help_cmd": how, "train_rss": rss}

    # ------------------------------------------------------------------ targets
    tgt = Table("Targets (issues #6 and #16)", ["check", "measured", "target", "result"])
    for name in args.jobs:
        res = results[name]
        nn = res["nncli"]
        for jname, peer, limit, op, issue in TIME_TARGETS:
            if jname != name:
                continue
            if peer == "floor":
                val = ratio(nn.seconds, floor_big)
            elif peer in res:
                val = ratio(nn.seconds, res[peer].seconds) if res[peer].ok else None
            else:
                continue
            tgt.add(f"{name}: nncli / {peer} time (#{issue})", fmt_ratio(val), f"{op} {limit}x",
                    _check(val, limit, op))
        t = res.get("torch")
        if t is not None and t.ok and nn.ok:
            both_small = nn.loss < LOSS_ABS_OK and t.loss < LOSS_ABS_OK
            rel = abs(nn.loss - t.loss) / max(abs(t.loss), 1e-12)
            tgt.add(f"{name}: final loss vs torch", f"{nn.loss:.4f} vs {t.loss:.4f} ({rel:+.0%})"
                    if not both_small else f"{nn.loss:.4f} vs {t.loss:.4f}",
                    f"within {LOSS_REL_TOL:.0%} or both < {LOSS_ABS_OK}",
                    "PASS" if both_small or rel <= LOSS_REL_TOL else "FAIL")
        else:
            tgt.add(f"{name}: final loss vs torch", "—", f"within {LOSS_REL_TOL:.0%} or both < {LOSS_ABS_OK}", "n/a")
    if not args.no_cli:
        tgt.add("`nncli --help` wall", fmt_s(help_s) + " s" if help_s is not None else "—",
                f"< {HELP_TARGET} s", _check(help_s, HELP_TARGET, "<"))
    out.table(tgt)

    # ------------------------------------------------------------------ scaling
    if not args.no_scaling:
        sizes = (2500, 5000) if args.quick else (5000, 10000, 20000, 40000)
        ep = all_jobs["big"].epochs
        sc = Table(f"Scaling with samples: big net, {ep} epoch(s); seconds per 1000 samples per epoch",
                   ["samples"] + engines + ["GEMM floor", "nncli / floor"])
        record["scaling_samples"] = {}
        for n in sizes:
            job = jobs.big(n_samples=n, epochs=ep)
            X, y = jobs.make_data(job)
            per = 1000.0 / (n * ep)
            res = {e: run_engine(e, job, X, y) for e in engines}
            fl = floor.gemm_seconds(job)
            sc.add(n, *[fmt_s(r.seconds * per, 4) if r.ok else "skipped" for r in res.values()],
                   fmt_s(fl * per, 4), fmt_ratio(ratio(res["nncli"].seconds, fl)))
            record["scaling_samples"][n] = {"floor_s": fl, **{e: vars(r) for e, r in res.items()}}
        out.table(sc)

        widths = (64, 256) if args.quick else (64, 128, 256, 512, 1024)
        steps = 20 if args.quick else 40
        wt = Table(f"Per-step time vs width: 784-W-W-10, batch 128, Adam; ms per step ({2 * steps} steps)",
                   ["W"] + engines + ["GEMM floor", "nncli / floor"])
        record["scaling_width"] = {}
        for w in widths:
            job = jobs.big(n_samples=128 * steps, width=(w, w), epochs=2)
            X, y = jobs.make_data(job)
            n_steps = job.steps_per_epoch * job.epochs
            res = {e: run_engine(e, job, X, y) for e in engines}
            fl = floor.gemm_step_seconds(job)
            wt.add(w, *[fmt_s(r.seconds / n_steps * 1e3, 2) if r.ok else "skipped" for r in res.values()],
                   fmt_s(fl * 1e3, 2),
                   fmt_ratio(ratio(res["nncli"].seconds / n_steps if res["nncli"].ok else None, fl)))
            record["scaling_width"][w] = {"floor_step_s": fl, "steps": n_steps,
                                          **{e: vars(r) for e, r in res.items()}}
        out.table(wt)


def compiled_note() -> str:
    """Compile nncli's modules to bytecode before any command is timed, as `pip install` does: with
    PYTHONDONTWRITEBYTECODE set (or a read-only checkout) every timed command would otherwise
    compile ~60 modules from source, about 0.2 s of start-up a user's install never pays."""
    import compileall

    import nncli

    ok = compileall.compile_dir(str(Path(nncli.__file__).parent), quiet=1)
    return "nncli compiled to bytecode first, as pip install does" + ("" if ok else " (some modules failed to compile)")


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Printer(plain=args.plain)
    engines = ["nncli"] + args.peers
    all_jobs = build_jobs(args.quick)
    record: dict = {"environment": environment(), "quick": args.quick, "jobs": {}}

    out.line("nncli benchmarks" + (" (--quick: reduced sizes, targets indicative only)" if args.quick else ""))
    for line in record["environment"]:
        out.line("  " + line)
    out.line("  " + compiled_note())

    if not (args.e2e_only or args.profile_only):
        peer_sections(args, out, engines, all_jobs, record)
    if not (args.no_profile or args.e2e_only):
        record["profile"] = profile.section(out, args.quick)
    if not (args.no_e2e or args.profile_only):
        record["e2e"] = e2e.section(out, args.quick, args.e2e_jobs)
    out.line("at the end: " + load_line())
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=2, default=str))
        out.line(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
