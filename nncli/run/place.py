"""Where a run goes: whose folder a path is, the atomic publish, recovery after a kill, and the
checks of an output path. Built on files.py; store.py is the only caller.

Names beside a run directory X are exact (files.staging_dir, new_dir, old_dir, lock_path): a
user's X is never read as a pattern, so ``--out 'runs/a*'`` cannot touch another run's leftovers.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from ..errors import RunDirError, UsageError
from .files import (CHECKPOINT_ARRAYS, CHECKPOINT_META, MARKER, RUN_FILES, _LEGACY_NAMES, _TMP_NAME,
                    fsync_dir, legacy_old_dirs, new_dir, old_dir, read_json, read_marker, staging_dir, step)


# ---------------------------------------------------------------- ownership
def foreign_entries(folder: Path) -> list[str]:
    """Names in ``folder`` that nncli never writes into a run or staging directory."""
    known = _LEGACY_NAMES | {MARKER}
    out = []
    for name in sorted(os.listdir(folder)):
        m = _TMP_NAME.fullmatch(name)
        if name in known or (m and m.group(1) in known):
            continue
        out.append(name)
    return out


def ownership(folder: Path) -> str:
    """What a folder at a path nncli is about to replace is: 'empty', 'run' (carries the marker),
    'legacy' (written before the marker existed: the five run files and nothing else), 'staging'
    (nncli's names only, no marker: a checkpoint folder of an older nncli) or 'foreign'."""
    names = os.listdir(folder)
    if not names:
        return "empty"
    if foreign_entries(folder):
        return "foreign"
    if read_marker(folder) is not None:
        return "run"
    if all(f in names for f in RUN_FILES):
        return "legacy"
    return "staging"


def remove_owned(path: Path) -> None:
    """Remove a leftover at one of nncli's exact names, only if nncli wrote it. nncli never writes a
    symbolic link, a file or anything but its own files there: those are refused (never followed,
    never deleted)."""
    if path.is_symlink():
        raise UsageError(f"{path}: is a symbolic link nncli did not write, at a name nncli uses beside the run "
                         f"directory; move it away (nncli does not follow or delete it)")
    if not path.exists():
        return
    if not path.is_dir():
        raise UsageError(f"{path}: is a file nncli did not write, at a name nncli uses beside the run "
                         f"directory; move it away (nncli does not delete it)")
    foreign = foreign_entries(path)
    if foreign:
        raise UsageError(f"{path}: holds {foreign[0]!r}, which nncli did not write, at a name nncli uses "
                         f"beside the run directory; move it away (nncli does not delete it)")
    step(f"remove {path.name}")
    shutil.rmtree(path)
    fsync_dir(path.parent)


# ---------------------------------------------------------------- publishing
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2 = []  # [the libc function, or None when unavailable]


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux renameat2 RENAME_EXCHANGE). False when this
    platform or filesystem cannot; OSError for a real failure."""
    if not _renameat2:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            fn = libc.renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            _renameat2.append(fn)
        except (OSError, AttributeError, ImportError):
            _renameat2.append(None)
    fn = _renameat2[0]
    if fn is None:
        return False
    import ctypes

    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # kernel or filesystem without RENAME_EXCHANGE: the caller falls back
    raise OSError(err, os.strerror(err), str(b))


def publish(new: Path, out: Path) -> None:
    """Put the complete run ``new`` at ``out``. At every instant ``out`` is the previous run or
    the new one (an atomic exchange); where exchange is unavailable, ``out`` is absent between two
    renames and recover() puts back whichever run is complete."""
    fsync_dir(new)
    if not os.path.lexists(out):
        step(f"rename {new.name}")
        os.rename(new, out)
        fsync_dir(out.parent)
        return
    step(f"exchange {new.name}")
    if exchange(new, out):
        fsync_dir(out.parent)
        remove_owned(new)  # now the previous run
        return
    old = old_dir(out)
    step(f"rename {out.name}")
    os.rename(out, old)
    try:
        step(f"rename {new.name}")
        os.rename(new, out)
    except BaseException:  # the previous run goes back; a killed process leaves this to recover()
        os.rename(old, out)
        raise
    fsync_dir(out.parent)
    remove_owned(old)


def _complete_run(folder: Path) -> bool:
    return read_marker(folder) is not None and all((folder / f).is_file() for f in RUN_FILES)


def recover(out: Path) -> list[str]:
    """Finish or undo what a process killed while writing or publishing left beside ``out`` (call
    with the lock held), looking only at exact names. Returns what was done, one phrase each.

    - ``out`` missing: the complete run among .X.new (written, not yet renamed), .X.old (moved
      aside by the fallback) and legacy .X.old-PID goes (back) into place, newest first.
    - then .X.new, .X.old and .X.old-PID are removed (each is a replaced or unpublished run).
    - .X.partial is removed when it holds no checkpoint, or when its id is that of the run at X
      (the run it was training was published); otherwise it is a resumable checkpoint and stays.
    """
    done: list[str] = []
    new, old, staging = new_dir(out), old_dir(out), staging_dir(out)
    olds = [p for p in [old, *legacy_old_dirs(out)] if p.is_dir() and not p.is_symlink()]
    if not os.path.lexists(out):
        for cand in ([new] if new.is_dir() and not new.is_symlink() and _complete_run(new) else []) + olds:
            if cand is new or ownership(cand) in ("run", "legacy"):
                step(f"rename {cand.name}")
                os.rename(cand, out)
                fsync_dir(out.parent)
                done.append(f"put back the run left in {cand.name}")
                break
    for p in (new, old, *legacy_old_dirs(out)):
        if os.path.lexists(p):
            remove_owned(p)
            done.append(f"removed the leftover {p.name}")
    if drop_staging_without_checkpoint(out, also_published=True):
        done.append(f"removed the leftover {staging.name}")
    return done


def drop_staging_without_checkpoint(out: Path, also_published: bool = False) -> bool:
    """Remove .X.partial when it holds no checkpoint (nothing to resume) or, with
    ``also_published``, when its id is that of the run at X (its training was published).
    A symlink or file there is left alone: the next training refuses it with a line."""
    staging = staging_dir(out)
    if staging.is_symlink() or not staging.is_dir():
        return False
    has_checkpoint = any((staging / n).exists() for n in (CHECKPOINT_ARRAYS, CHECKPOINT_META))
    mark, current = read_marker(staging), read_marker(out) if out.is_dir() else None
    published = also_published and mark is not None and current is not None and mark.get("id") == current.get("id")
    if has_checkpoint and not published:
        return False
    remove_owned(staging)
    return True


# ---------------------------------------------------------------- where a run may go
def output_path(out: str | Path, protect: tuple[Path, ...] = ()) -> Path:
    """Check an output path before anything is written (UsageError, one line) and return it with
    ``~`` expanded. Refused: a NUL byte, ``~user`` of no user, a last component ``.``/``..``/empty,
    ``/``, the current folder or any folder above it, any folder holding (or being) one of
    ``protect`` (the config and data files), a symlink (nncli replaces a run by renaming, which would
    replace the link, not what it points to), something that is not a folder, and a folder that
    nncli did not write (non-empty, without the marker and not an older nncli run)."""
    text = os.fspath(out)
    if "\0" in text:
        raise UsageError(f"{text!r}: the output path holds a NUL byte; give a path without it")
    if text.startswith("~"):
        expanded = os.path.expanduser(text)
        if expanded.startswith("~"):
            user = text[1:].split("/", 1)[0]
            raise UsageError(f"{text}: no user {user!r} to expand ~{user} for; give the output path in full")
        text = expanded
    path = Path(text)
    if text.strip("/") == "":
        raise UsageError(f"{text}: is the root folder; give the run directory its own name, e.g. --out runs/NAME")
    if path.name in ("", ".", "..") or text.rstrip("/").endswith(("/.", "/..")) or text.rstrip("/") in (".", ".."):
        raise UsageError(f"{text}: names a folder by '.' or '..'; give the run directory its own name, "
                         f"e.g. --out runs/NAME")
    if len(os.fsencode(f".{path.name}.partial")) > 255:
        raise UsageError(f"{text[:60]}...: the name is too long for the folders nncli keeps beside it "
                         f"(.NAME.partial); use a name under 240 bytes")
    try:
        real = path.parent.resolve() / path.name
        cwd = Path.cwd().resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop in the parent
        raise UsageError(f"{text}: cannot resolve the output path ({getattr(exc, 'strerror', None) or exc}); "
                         f"choose another output with --out") from None
    if real == cwd or real in cwd.parents:
        raise UsageError(f"{text}: is the current folder or one above it; nncli replaces its output "
                         f"folder, so give a run directory of its own, e.g. --out runs/NAME")
    for p in protect:
        try:
            p_real = Path(p).resolve()
        except (OSError, RuntimeError):
            continue
        if real == p_real or real in p_real.parents:
            raise UsageError(f"{text}: holds {p}, an input of this training, and nncli replaces its output "
                             f"folder; choose another output with --out")
    if path.is_symlink():
        target = os.readlink(path)
        what = "a dangling symbolic link" if not path.exists() else "a symbolic link"
        raise UsageError(f"{text}: is {what} (to {target}); nncli replaces a run directory by renaming, "
                         f"which would replace the link itself — give the real path, or remove the link")
    try:
        if not path.exists():
            return path
        if os.path.ismount(path):
            raise UsageError(f"{text}: is a mount point, which nncli cannot replace by renaming; give a "
                             f"folder inside it, e.g. --out {text.rstrip('/')}/run")
        if not path.is_dir():
            raise UsageError(f"{text}: exists and is not a directory; choose another output with --out")
        kind = ownership(path)
    except OSError as exc:
        raise UsageError(f"{text}: cannot look inside ({exc.strerror}); choose another output with --out") from None
    if kind == "foreign":
        entries = foreign_entries(path)
        more = f" and {len(entries) - 1} more" if len(entries) > 1 else ""
        raise UsageError(f"{text}: exists and holds {entries[0]!r}{more}, which nncli did not write; nncli only "
                         f"replaces run directories it wrote (marked by {MARKER}) — choose another output "
                         f"with --out, or move the folder away")
    if kind == "staging":
        raise UsageError(f"{text}: exists and is not an nncli run directory (no {MARKER} marker, not the five "
                         f"run files); choose another output with --out, or move the folder away")
    return path


def describe_run(out: Path) -> str | None:
    """What a later publish at ``out`` will replace, for the line that says so: None when nothing."""
    try:
        if not out.is_dir() or ownership(out) not in ("run", "legacy"):
            return None
        metrics = read_json(out / "metrics.json", 1 << 20)
    except (OSError, RunDirError):
        return f"the previous run at {out}"
    epochs = metrics.get("epochs_run")
    when = ""
    try:
        import time

        when = time.strftime("written %Y-%m-%d %H:%M", time.localtime((out / "weights.npz").stat().st_mtime))
    except OSError:
        pass
    # metrics.json may come from anyone: only a count training could have run is shown
    plausible = isinstance(epochs, int) and not isinstance(epochs, bool) and 0 <= epochs <= 1_000_000_000
    facts = ([f"{epochs} epochs"] if plausible else []) + ([when] if when else [])
    return f"the previous run at {out}" + (f" ({', '.join(facts)})" if facts else "")
