"""The "floor": the dense matrix products of a training run and nothing else.

Per batch of a L-layer net: L forward GEMMs (a_i @ W_i), L weight-gradient GEMMs (a_i.T @ d_i) and
L-1 input-gradient GEMMs (d_i @ W_i.T; the input layer's is never needed), in float32, with the
job's batch schedule (full batches plus the short last one), for every epoch. Batches are sliced in
advance and results go to preallocated buffers, so only BLAS time is counted. Best of ``repeat``.
"""

from __future__ import annotations

import time

import numpy as np

from .jobs import Job


def _buffers(sizes: list[int], rows: int, rng) -> dict:
    f32 = np.float32
    W = [rng.standard_normal((a, b), dtype=f32) * f32(0.05) for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((rows, sizes[0]), dtype=f32)
    acts = [x] + [np.empty((rows, s), f32) for s in sizes[1:]]
    deltas = [rng.standard_normal((rows, s), dtype=f32) for s in sizes[1:]]
    gW = [np.empty_like(w) for w in W]
    gin = [np.empty((rows, s), f32) for s in sizes[:-1]]
    return dict(W=W, acts=acts, deltas=deltas, gW=gW, gin=gin)


def _step(b: dict) -> None:
    W, acts, deltas, gW, gin = b["W"], b["acts"], b["deltas"], b["gW"], b["gin"]
    L = len(W)
    for i in range(L):  # forward
        np.matmul(acts[i], W[i], out=acts[i + 1])
    for i in reversed(range(L)):  # backward
        np.matmul(acts[i].T, deltas[i], out=gW[i])
        if i > 0:
            np.matmul(deltas[i], W[i].T, out=gin[i])


def gemm_seconds(job: Job, repeat: int = 3) -> float:
    """Seconds of the GEMMs alone for the whole run of ``job`` (all epochs), best of ``repeat``."""
    rng = np.random.default_rng(0)
    full, last = divmod(job.n_samples, job.batch_size)
    bufs = _buffers(job.sizes, job.batch_size, rng)
    tail = _buffers(job.sizes, last, rng) if last else None
    _step(bufs)  # warm up BLAS threads and caches
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(job.epochs):
            for _ in range(full):
                _step(bufs)
            if tail is not None:
                _step(tail)
        best = min(best, time.perf_counter() - t0)
    return best


def gemm_step_seconds(job: Job, steps: int = 50, repeat: int = 3) -> float:
    """Seconds of one full-batch step's GEMMs (best of ``repeat`` blocks of ``steps``)."""
    bufs = _buffers(job.sizes, job.batch_size, np.random.default_rng(0))
    _step(bufs)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(steps):
            _step(bufs)
        best = min(best, (time.perf_counter() - t0) / steps)
    return best
