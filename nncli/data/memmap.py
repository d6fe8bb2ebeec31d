"""Data larger than memory: a `.npy` feature matrix (with `data.y_path`) opened memory-mapped.

Nothing here loads the whole matrix. The scaling statistics are computed over the training rows
in chunks (column_stats, which feeds Preprocessor.fit_scaling_from: the one scaling
implementation); training gathers each batch with ``LazyRows.rows(indices)`` (scaled as it is
read); the validation and test rows carved out by ``validation_split`` / ``test_split`` are gathered into
memory (they are usually a small part; use separate files or small fractions for huge data).
prepare.py decides the splits and labels; this module only reads.

Pages of a file mapping count towards the process's resident memory while they stay mapped, even
though the kernel can drop them at any time; so after every ~64 MB read through it the mapping is told
to let them go (madvise MADV_DONTNEED: the data stays in the page cache, only our claim on it is
dropped), and scattered rows (a shuffled batch) are read with preadv instead (see MappedNpy).
Resident memory then stays flat however large the file is.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from .preprocess import ColumnStats

RELEASE_BYTES = 64 << 20
STATS_CHUNK_BYTES = 8 << 20


def npy_problem(display: str, exc: Exception) -> str:
    """One line saying what is wrong with an .npy file numpy refused."""
    text = str(exc)
    if "object" in text.lower() or "pickle" in text.lower():
        return f"{display}: holds Python objects, which would need pickle to load; refusing (save numeric arrays)"
    if "larger than" in text or "greater than" in text or "truncat" in text.lower() or isinstance(exc, EOFError):
        return f"{display}: truncated or damaged .npy file ({text}); write it again"
    return f"{display}: not a readable NumPy file ({text})"


def read_npy(path: Path, display: str) -> np.ndarray:
    """A whole .npy file in memory (the targets of data.y_path). The header's shape is checked
    against the file's size first: numpy allocates what the header claims before reading, so a
    damaged header could ask for terabytes."""
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version in header:
                shape, _, dtype = header[version](fh)
                held = max(0, os.fstat(fh.fileno()).st_size - fh.tell())
                nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if not dtype.hasobject and nbytes > held:
                    raise DataError(f"{display}: truncated or damaged .npy file (its header claims shape {shape}, "
                                    f"{nbytes} bytes, but the file holds {held}); write it again")
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(npy_problem(display, exc)) from None


class MappedNpy:
    """A read-only memory map of an .npy file (``np.load(mmap_mode="r")``) and the rows it gives.

    Dense reads (rows close together: chunks, whole splits) slice the mapping; sparse reads (a
    shuffled batch: rows spread over the whole file) are read with ``os.preadv`` into the result,
    one call per run of consecutive rows: touching one row through a mapping maps its neighbours
    too (fault-around, large folios), so 1024 random rows of a 2 GB file would map over 1 GB."""

    def __init__(self, path: Path, display: str):
        self.display = display
        try:
            mm = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DataError(npy_problem(display, exc)) from None
        if not isinstance(mm, np.memmap):  # a 0-d or empty array numpy would not map
            raise DataError(f"{display}: cannot be memory-mapped (shape {getattr(mm, 'shape', '?')})")
        if mm.ndim != 2:
            raise DataError(f"{display}: X must be 2-D (n_samples, n_features), got shape {mm.shape}")
        if mm.dtype.kind not in "fiub":
            raise DataError(f"{display}: X must be numeric, got dtype {mm.dtype}")
        self.array = mm
        self._map = getattr(mm, "_mmap", None)  # the mmap.mmap numpy opened, to release pages
        self._since_release = 0
        self.row_bytes = mm.itemsize * mm.shape[1]
        self._fd = None
        if mm.flags.c_contiguous and hasattr(os, "preadv"):
            self._fd = os.open(path, os.O_RDONLY)
            self._offset = int(mm.offset)

    def __del__(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    @property
    def shape(self) -> tuple[int, int]:
        return self.array.shape

    def read(self, rows: np.ndarray, cols: np.ndarray | None) -> np.ndarray:
        """Rows (ascending file row numbers) as a float64 array."""
        rows = np.asarray(rows, np.int64)
        if len(rows) == 0:
            block = np.empty((0, self.shape[1]), self.array.dtype)
        else:
            r0, r1 = int(rows[0]), int(rows[-1]) + 1
            if self._fd is None or (r1 - r0) <= 2 * len(rows):  # dense: through the mapping
                block = self.array[r0:r1][rows - r0]
                self._since_release += (r1 - r0) * self.row_bytes
            else:
                block = self._pread(rows)
        if cols is not None:
            block = block[:, cols]
        out = np.asarray(block, dtype=np.float64)
        if self._since_release >= RELEASE_BYTES or (self._fd is None and self._since_release):
            self.release()
        return out

    def _pread(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), self.shape[1]), self.array.dtype)
        buf = memoryview(out).cast("B")
        rb = self.row_bytes
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        starts = [0] + breaks.tolist()
        ends = breaks.tolist() + [len(rows)]
        for a, b in zip(starts, ends):
            pos, stop = a * rb, b * rb
            offset = self._offset + int(rows[a]) * rb
            while pos < stop:
                got = os.preadv(self._fd, [buf[pos:stop]], offset)
                if got <= 0:
                    raise DataError(f"{self.display}: the file is shorter than its header says (truncated?)")
                pos += got
                offset += got
        return out

    def release(self) -> None:
        self._since_release = 0
        if self._map is not None and hasattr(mmap, "MADV_DONTNEED"):
            try:
                self._map.madvise(mmap.MADV_DONTNEED)
            except (OSError, ValueError):
                pass


class LazyRows:
    """Scaled rows of a memory-mapped matrix, gathered on demand.

    ``index`` maps this split's rows to file rows (ascending); ``rows(i)`` returns the scaled
    ``dtype`` matrix for split rows ``i``. The Trainer uses it instead of a shuffled copy."""

    def __init__(self, source: MappedNpy, index: np.ndarray, cols: np.ndarray | None,
                 offset: np.ndarray, scale: np.ndarray, dtype):
        self.source, self.index, self.cols = source, np.asarray(index, np.int64), cols
        self.offset, self.scale = np.asarray(offset, np.float64), np.asarray(scale, np.float64)
        self.dtype = np.dtype(dtype)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.index), len(self.offset))

    def rows(self, indices: np.ndarray) -> np.ndarray:
        raw = self.source.read(self.index[indices], self.cols)
        raw -= self.offset
        raw /= self.scale
        return raw.astype(self.dtype)

    def to_array(self, chunk: int = 65536) -> np.ndarray:
        """Every row in memory (for small splits)."""
        out = np.empty(self.shape, self.dtype)
        for s in range(0, len(self), chunk):
            out[s:s + chunk] = self.rows(np.arange(s, min(s + chunk, len(self))))
        self.source.release()
        return out


def column_stats(source: MappedNpy, rows: np.ndarray, cols: np.ndarray | None, names: list[str]) -> ColumnStats:
    """Mean, std, min and max per column over the given file rows, read in chunks (Chan et al.'s
    pairwise update of mean and sum of squares, so no precision is lost over millions of rows).
    A NaN or infinite cell is an error naming its row and column."""
    width = len(names)
    chunk = max(1, STATS_CHUNK_BYTES // max(1, 8 * source.shape[1]))
    count, mean, m2 = 0, np.zeros(width), np.zeros(width)
    lo, hi = np.full(width, np.inf), np.full(width, -np.inf)
    for s in range(0, len(rows), chunk):
        r = rows[s:s + chunk]
        block = source.read(r, cols)
        finite = np.isfinite(block)
        if not finite.all():
            i, j = np.argwhere(~finite)[0]
            raise DataError(f"{source.display}: row {int(r[i])} (counting from 0), column {j} ({names[j]}) holds "
                            f"{block[i, j]}; memory-mapped data cannot have missing values — fix the file")
        nb = len(block)
        mb = block.mean(axis=0)
        m2b = ((block - mb) ** 2).sum(axis=0)
        delta = mb - mean
        total = count + nb
        mean = mean + delta * (nb / total)
        m2 = m2 + m2b + delta * delta * (count * nb / total)
        count = total
        np.minimum(lo, block.min(axis=0), out=lo)
        np.maximum(hi, block.max(axis=0), out=hi)
    source.release()
    return ColumnStats(mean, np.sqrt(m2 / max(count, 1)), lo, hi)
