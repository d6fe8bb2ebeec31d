"""The run directory's files: names, atomic writes, locks, npz without pickle, publishing.

The low layer of nncli/run/: store.py (write and load a run), checkpoint.py and resume.py build on
these primitives; nothing outside nncli/run/ should know the layout below.

Contract (documented in the README):
  config.yaml         the resolved config that ran (yaml.safe_load-able)
  weights.npz         layers.{i}.weight (fan_in, fan_out) and layers.{i}.bias (fan_out,)
  preprocessing.json  feature names, categories, scaling, class labels
  history.csv         one row per epoch
  metrics.json        final metrics, epochs, seconds, seed, overrides, versions

  .nncli-run          the marker: nncli wrote this directory (JSON: format, run id); nncli replaces
                      or deletes only directories that carry it (or, written before the marker
                      existed, hold exactly the five files above)

Beside a run directory X, nncli uses only these exact names (never a pattern of X):
  .X.lock     the writer's lock            .X.partial  staging: the checkpoint of a training
  .X.new      the next run, being written  .X.old      the previous run (only without RENAME_EXCHANGE)
A new run is written complete into .X.new, then swapped with X in one atomic step
(renameat2(RENAME_EXCHANGE) on Linux), so at every instant X is the old or the new run; without
that call X is renamed to .X.old first, and a later call puts back whichever is complete. The
checkpoint in .X.partial is removed only after the new run is in place. Nothing here uses pickle.

Fault injection (tests): NNCLI_FAULT_AT="K:raise|exit|kill" makes the K-th write/rename/fsync step
of this process fail; NNCLI_FAULT_AT_TRACE=FILE appends each step's name to FILE. Unset, a step costs
one comparison.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import stat
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import LockedError, RunDirError, UsageError

RUN_FILES = ("config.yaml", "weights.npz", "preprocessing.json", "history.csv", "metrics.json")
CHECKPOINT_ARRAYS = "checkpoint.npz"
CHECKPOINT_META = "checkpoint.json"
MARKER = ".nncli-run"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Size limits of a run's metadata, checked before reading (a run directory may come from anyone).
JSON_LIMIT = 64 << 20
CSV_LIMIT = 256 << 20


# ---------------------------------------------------------------- fault injection (tests)
_FAULT_AT = os.environ.get("NNCLI_FAULT_AT")
_FAULT_TRACE = os.environ.get("NNCLI_FAULT_AT_TRACE")
_steps = [0]


class InjectedFault(OSError):
    """The failure NNCLI_FAULT_AT asked for (an OSError, as a real write or rename would raise)."""


def step(name: str) -> None:
    """Mark one write/rename/fsync step; with NNCLI_FAULT_AT set, fail at the chosen one."""
    if _FAULT_AT is None and _FAULT_TRACE is None:
        return
    _steps[0] += 1
    if _FAULT_TRACE:
        with open(_FAULT_TRACE, "a", encoding="utf-8") as fh:
            fh.write(f"{_steps[0]} {name}\n")
    if _FAULT_AT:
        k, _, mode = _FAULT_AT.partition(":")
        if int(k) == _steps[0]:
            if mode == "kill":
                import signal

                os.kill(os.getpid(), signal.SIGKILL)
            if mode == "exit":
                os._exit(99)
            raise InjectedFault(errno.EIO, f"injected fault at step {_steps[0]} ({name})", name)


# ---------------------------------------------------------------- names beside a run
def staging_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.partial"


def new_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.new"


def old_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.old"


def legacy_old_dirs(out: Path) -> list[Path]:
    """``.X.old-PID`` folders left by nncli before 0.x used exact names: matched against the escaped
    name, so ``X`` is never read as a pattern."""
    pattern = re.compile(re.escape(f".{out.name}.old-") + r"[0-9]+")
    try:
        names = os.listdir(out.parent)
    except OSError:
        return []
    return [out.parent / n for n in sorted(names) if pattern.fullmatch(n)]


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


_LOCK_TEXT = re.compile(rb"(pid [0-9]+)?")


def open_lock_file(path: Path):
    """Open (creating it) the lock file at ``path`` for reading and writing, only if it is one
    nncli wrote: a regular file that is empty or says ``pid N``. A symbolic link there is never
    followed (it could make nncli truncate the file it points to) and a file with other contents is
    someone else's: both are a UsageError, and nothing is changed."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                     | getattr(os, "O_NONBLOCK", 0), 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise UsageError(f"{path}: is a symbolic link, at the name nncli uses for its lock beside the run "
                             f"directory; move it away (nncli does not follow or delete it)") from None
        raise UsageError(f"{path}: cannot create the lock file ({exc.strerror}); "
                         f"choose another output with --out") from None
    try:
        st = os.fstat(fd)
        text = os.pread(fd, 64, 0) if stat.S_ISREG(st.st_mode) and st.st_size <= 64 else None
    except OSError:
        text = None
    if text is None or not _LOCK_TEXT.fullmatch(text.strip()):
        os.close(fd)
        what = "a file nncli did not write" if stat.S_ISREG(st.st_mode) else "not a regular file"
        raise UsageError(f"{path}: is {what}, at the name nncli uses for its lock beside the run directory; "
                         f"move it away (nncli does not delete it)")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "r+")


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
        fh = open_lock_file(path)
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
        try:  # unbuffered, so a full disk fails here (naming the file), not later in close()
            os.ftruncate(fh.fileno(), 0)
            os.pwrite(fh.fileno(), f"pid {os.getpid()}".encode(), 0)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        yield
    finally:
        try:
            path.unlink()  # while still holding the lock, so no one else owns this file yet
        except OSError:
            pass
        fh.close()


def holder(out: Path) -> str | None:
    """"pid N" of another process holding the lock on ``out`` now, else None (no lock file, a free
    one, or one nncli did not write). Never creates or changes anything."""
    import fcntl

    try:
        fd = os.open(lock_path(out), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        text = os.pread(fd, 64, 0).strip()
        if not _LOCK_TEXT.fullmatch(text):
            return None
        try:  # a shared lock is refused while a writer holds its exclusive one
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return text.decode() or "another process"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    except OSError:
        return None
    finally:
        os.close(fd)


@contextmanager
def try_locked(out: Path):
    """Yield True holding the lock on ``out`` when it is free and can be taken (the folder is
    writable), else False; never creates folders, never waits."""
    import fcntl

    path = lock_path(out)
    try:
        fh = open_lock_file(path)
    except (OSError, UsageError):
        yield False
        return
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            same = os.path.samestat(os.fstat(fh.fileno()), os.stat(path))
        except OSError:
            same = False
        if not same:
            yield False
            return
        try:
            yield True
        finally:
            try:
                path.unlink()
            except OSError:
                pass
    finally:
        fh.close()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            step(f"write {path.name}")
            fh.write(data)
            fh.flush()
            step(f"fsync {path.name}")
            os.fsync(fh.fileno())
        step(f"rename {path.name}")
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.filename is None:  # a failed write names no file: name it
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a crash right after os.replace could otherwise undo it)."""
    step(f"fsync {folder.name}/")
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


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else (missing, a folder, a
    FIFO or device such as /dev/zero, a file too large, a symlink to one) is a one-line RunDirError
    before any byte is read. Opened non-blocking so a FIFO cannot hang the process."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise RunDirError(f"{path}: missing; is this a complete nncli run directory?") from None
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise RunDirError(f"{path}: is {kind}; a run directory holds regular files only "
                              f"(re-train to get a clean run directory)")
        if st.st_size > limit:
            raise RunDirError(f"{path}: is {st.st_size / (1 << 20):.1f} MiB, over the {limit >> 20} MiB nncli "
                              f"ever writes there; not an nncli file (re-train to get a clean run directory)")
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise RunDirError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > limit:  # grew while being read
        raise RunDirError(f"{path}: larger than {limit >> 20} MiB; not an nncli file")
    return data


def read_text_limited(path: Path, limit: int = CSV_LIMIT) -> str:
    data = read_limited(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RunDirError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_json(path: Path, limit: int = JSON_LIMIT) -> dict:
    """A JSON object from a file of at most ``limit`` bytes (RunDirError otherwise)."""
    try:
        obj = json.loads(read_limited(path, limit).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise RunDirError(f"{path}: nested too deeply to be nncli metadata") from None
    if not isinstance(obj, dict):
        raise RunDirError(f"{path}: expected a JSON object")
    return obj


# ---------------------------------------------------------------- the marker
# what nncli writes into a run directory after training (`nncli plot RUN [--network|--evolution]`,
# `nncli report RUN`): replaced with the run (tests/test_pictures.py retrains over each of them)
PLOT_FILES = ("loss.png", "decision.png", "fit.png", "network.png", "evolution.png", "evolution.gif",
              "report.html")
# snapshots.npz (run/snapshots.py) is part of a run; .snapshots its parts in the staging folder
_LEGACY_NAMES = frozenset(RUN_FILES + (CHECKPOINT_ARRAYS, CHECKPOINT_META) + PLOT_FILES
                          + ("snapshots.npz", ".snapshots"))
_TMP_NAME = re.compile(r"\.(.+)\.tmp-[0-9]+")


def read_marker(folder: Path) -> dict | None:
    """The marker of a folder nncli wrote ({"format": 1, "id": ...}), or None when it has none
    (or it is not a small regular file)."""
    path = folder / MARKER
    try:
        if path.is_symlink() or not path.is_file():
            return None
        obj = read_json(path, 4096)
    except (RunDirError, OSError):
        return None
    return obj if obj.get("nncli") == "run" else None


def write_marker(folder: Path, run_id: str) -> None:
    write_text_atomic(folder / MARKER, json.dumps({"nncli": "run", "format": 1, "id": run_id}) + "\n")


def new_run_id() -> str:
    return os.urandom(8).hex()
