"""The run directory's files: names, atomic writes, locks, npz without pickle, publishing.

The low layer of nncli/run/: store.py (write and load a run), checkpoint.py and resume.py build on
these primitives; nothing outside nncli/run/ should know the layout below.

Contract (documented in the README):
  config.yaml         the resolved config that ran (yaml.safe_load-able)
  weights.npz         layers.{i}.weight (fan_in, fan_out) and layers.{i}.bias (fan_out,)
  preprocessing.json  feature names, categories, scaling, class labels
  history.csv         one row per epoch
  metrics.json        final metrics, epochs, seconds, seed, overrides, versions

A run is built in a staging directory beside the target (``.<name>.partial``) and renamed into
place only when complete; the previous run at that path stays intact until then. Checkpoints live
in the staging directory, so a killed run can be resumed. Nothing here uses pickle.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import LockedError, RunDirError, UsageError

RUN_FILES = ("config.yaml", "weights.npz", "preprocessing.json", "history.csv", "metrics.json")
CHECKPOINT_ARRAYS = "checkpoint.npz"
CHECKPOINT_META = "checkpoint.json"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def staging_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.partial"


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


@contextmanager
def locked(out: Path):
    """Hold an exclusive lock on an output path; a second holder fails at once (LockedError).

    The lock file is removed on release, so a waiting process could lock the old (unlinked) file
    while a third creates a new one: after locking, the file at the path must still be the one
    locked, else we try again. Only the holder removes the file."""
    import fcntl

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out.parent}: cannot create the output folder ({exc.strerror}); "
                         f"choose another output with --out") from None
    path = lock_path(out)
    while True:
        try:
            fh = open(path, "a+")
        except OSError as exc:
            raise UsageError(f"{path}: cannot create the lock file ({exc.strerror}); "
                             f"choose another output with --out") from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise LockedError(
                f"{out}: another nncli process ({holder}) is writing this run directory; wait for it, "
                f"or choose another output with --out"
            ) from None
        try:
            same = os.path.samestat(os.fstat(fh.fileno()), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()  # the holder released and removed it meanwhile: lock the new one
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        yield
    finally:
        try:
            path.unlink()  # while still holding the lock, so no one else owns this file yet
        except OSError:
            pass
        fh.close()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a crash right after os.replace could otherwise undo it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform or filesystem without directory handles: nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (uncompressed zip of .npy) with fixed timestamps, so the same arrays give the same
    bytes (numpy.savez stamps the current time into the zip)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for key, arr in arrays.items():
            arr = np.asarray(arr)
            if arr.dtype.hasobject:
                raise ValueError(f"refusing to save object array {key!r}")
            member = io.BytesIO()
            # not np.ascontiguousarray: it turns a 0-d array (a step count) into shape (1,)
            arr = arr if arr.flags.c_contiguous else np.array(arr, order="C")
            np.lib.format.write_array(member, arr, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_FIXED_ZIP_TIME)
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def npz_headers(path: Path, display: str | None = None) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every array of an .npz, read from the .npy headers without loading data.

    Refuses what a loader should never touch: members that are not .npy, object (pickle) dtypes,
    and headers that promise more data than the member holds (which would allocate without bound)."""
    display = display or str(path)
    if not path.exists():
        raise RunDirError(f"{display}: missing")
    if not path.is_file():
        raise RunDirError(f"{display}: not a file")
    out: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise RunDirError(f"{display}: holds {info.filename!r}, which is not a .npy array; "
                                      f"not an nncli .npz file")
                key = info.filename[: -len(".npy")]
                with zf.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
                    elif version == (2, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
                    else:
                        raise ValueError(f"unsupported .npy format version {version}")
                    header_len = member.tell()
                if dtype.hasobject:
                    raise RunDirError(f"{display}: array {key!r} holds Python objects, which would need pickle "
                                      f"to load; refusing (re-train to get a clean file)")
                nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if nbytes > info.file_size - header_len:
                    raise RunDirError(f"{display}: array {key!r} claims shape {shape} ({nbytes} bytes) but the "
                                      f"file holds {max(0, info.file_size - header_len)}; damaged or truncated")
                out[key] = (tuple(int(d) for d in shape), dtype)
    except RunDirError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError,
            NotImplementedError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise RunDirError(f"{display}: damaged, truncated or not an .npz file ({why})") from None
    return out


def load_npz(path: Path, display: str | None = None) -> dict[str, np.ndarray]:
    """Every array of an .npz, refusing pickled objects and reporting damage as RunDirError."""
    display = display or str(path)
    npz_headers(path, display)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise RunDirError(f"{display}: holds object arrays, which would need pickle to load; refusing "
                              f"(re-train to get a clean file)") from None
        raise RunDirError(f"{display}: damaged or not an .npz file ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError, MemoryError) as exc:
        raise RunDirError(f"{display}: damaged or truncated .npz file ({exc.__class__.__name__}: {exc})") from None


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise RunDirError(f"{path}: missing; is this a complete nncli run directory?")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise RunDirError(f"{path}: nested too deeply to be nncli metadata") from None
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(obj, dict):
        raise RunDirError(f"{path}: expected a JSON object")
    return obj


def commit(staging: Path, out: Path) -> None:
    """Move a complete staging directory into place; the old run is removed only afterwards."""
    for name in (CHECKPOINT_ARRAYS, CHECKPOINT_META):
        try:
            (staging / name).unlink()
        except FileNotFoundError:
            pass
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.rename(out, old)
    os.rename(staging, out)
    fsync_dir(out.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover(out: Path) -> None:
    """Undo what a process killed inside commit() left (call with the lock held): the previous run
    moved aside but the new one not yet in place -> put the previous run back; otherwise remove
    leftovers of the previous run."""
    leftovers = sorted(out.parent.glob(f".{out.name}.old-*"))
    if not out.exists() and leftovers:
        os.rename(leftovers.pop(), out)
    for old in leftovers:
        shutil.rmtree(old, ignore_errors=True)
