"""Tables in: the readers of data files (CSV with a header, .npz with arrays X and y) and the Table
they return, a set of named columns with the file line of every row (for positioned messages).

Shapes: a Table's columns are 1-D arrays of n_rows values: float64 for numeric columns, a numpy
unicode array for text. read_csv, read_csv_stream and read_csv_chunks share one reader
(csvread.py): the file in blocks of bytes, each parsed by NumPy's C parser when it can parse it
exactly, else by the precise parser here (``precise_table``: the csv module, record checks with
line numbers — field counts, NULs, runaway quotes — then ``_table_from_rows``: missing tokens,
numeric or text columns). Lines are read with a length limit (MAX_LINE), so no input grows memory
without bound; the header checks are ``checked_header``.

Nothing here knows the config: callers pass display names and target names.
"""

from __future__ import annotations

import csv
import errno
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
MAX_FIELD = 1 << 20
#: Longest line (characters) a CSV may have: reading stops there, so input without line breaks
#: (/dev/zero, a binary file, an endless stream on stdin) cannot grow memory without limit.
MAX_LINE = 1 << 24


def human_bytes(n: float) -> str:
    """A size as messages give it: "74.5 GiB"."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


#: Most items a message lists, and most characters of a value it quotes: a line stays readable
#: (a 5000-class list or a 1 MiB cell is elided, not printed).
LIST_LIMIT = 12
TEXT_LIMIT = 60


def short(text, limit: int = TEXT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters ("…" and the full length when cut)."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def listing(items, limit: int = LIST_LIMIT) -> str:
    """Items joined with ", ", at most ``limit`` of them (then "… and N more"), each cut short."""
    items = [short(i) for i in items]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", … and {len(items) - limit} more"


@dataclass
class Table:
    """Columns read from a file: name -> 1-D array (float64 for numeric columns, str objects as a
    numpy unicode array for text). ``missing`` marks empty cells; ``lines`` maps row index -> file
    line number (for messages); ``path`` is shown in messages."""

    path: str
    columns: dict[str, np.ndarray]
    missing: dict[str, np.ndarray]
    lines: np.ndarray
    #: Data that arrived as one numeric array (in-memory arrays, .npz, generators) keeps it here, so
    #: encoding is no copy at all instead of one column at a time: ``columns`` are views into it.
    matrix: np.ndarray | None = None
    matrix_names: list[str] | None = None
    #: True for in-memory arrays and .npz/.npy: ``lines`` are row + 2 (as if a CSV), and messages
    #: name "row R (counting from 0)" instead of a line.
    array_rows: bool = False

    def place(self, r: int) -> str:
        """Where row ``r`` of this table is, for a message: "file:LINE" or "file: row R"."""
        if self.array_rows:
            return f"{self.path}: row {int(self.lines[r]) - 2} (counting from 0)"
        return f"{self.path}:{self.lines[r]}"

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def require(self, names: list[str], what: str, hint: str = "") -> None:
        absent = [n for n in names if n not in self.columns]
        if absent:
            from ..config.messages import did_you_mean

            parts = []
            for n in absent:
                guess = did_you_mean(n, list(self.columns))
                parts.append(f"{n!r}" + (f" (did you mean {guess!r}?)" if guess else ""))
            raise DataError(
                f"{self.path}:1: {what} column{'s' if len(absent) > 1 else ''} {listing(parts)} not in the header "
                f"(columns: {listing(self.columns)}){hint}"
            )

    def take(self, rows: np.ndarray) -> "Table":
        if len(rows) == self.n_rows and (len(rows) == 0 or (rows[0] == 0 and rows[-1] == self.n_rows - 1
                                                            and bool(np.all(np.diff(rows) == 1)))):
            return self  # every row in order (no split): no copy of the data
        if self.matrix is not None:
            matrix = self.matrix[rows]
            index = {name: i for i, name in enumerate(self.matrix_names)}
            columns = {k: (matrix[:, index[k]] if k in index else v[rows]) for k, v in self.columns.items()}
            return Table(self.path, columns, {k: v[rows] for k, v in self.missing.items()}, self.lines[rows],
                         matrix, self.matrix_names, self.array_rows)
        return Table(self.path, {k: v[rows] for k, v in self.columns.items()},
                     {k: v[rows] for k, v in self.missing.items()}, self.lines[rows], array_rows=self.array_rows)


def check_readable_file(path: Path, display: str) -> None:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataError(f"{display}: too many levels of symbolic links (a link loop?); fix the link or give "
                            f"the real path") from None
        if exc.errno == errno.ENAMETOOLONG:
            raise DataError(f"{display}: the name is too long; use a shorter path") from None
        try:
            where = f" (looked for {path.resolve()})"
        except (OSError, RuntimeError):
            where = ""
        raise DataError(f"{display}: file not found{where}; check the path") from None
    except ValueError:  # a NUL byte
        raise DataError(f"{display!r}: the path holds a NUL byte; give a path without it") from None
    if path.is_dir():
        raise DataError(f"{display}: is a directory, not a data file")
    if not os.access(path, os.R_OK):
        raise DataError(f"{display}: cannot read the file (permission denied)")


def precise_table(fh, display: str, delimiter: str, header: list[str], line0: int,
                  text_columns=frozenset()) -> "Table | None":
    """The precise parser (the csv module): the records of a text stream of whole lines that
    follow the header, checked with their line numbers (``line0`` lines came before), as one
    Table; None when there are only blank lines. Every message names file:line."""
    csv.field_size_limit(MAX_FIELD)
    rows: list[list[str]] = []
    lines: list[int] = []
    width = len(header)
    try:
        reader = csv.reader(bounded_lines(fh, display, line0), delimiter=delimiter)
        end = line0  # the line the previous record ended on
        for row in reader:
            start, line = end + 1, line0 + reader.line_num
            end = line
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if "\x00" in ",".join(row):  # NumPy would silently drop trailing NULs of a cell
                raise DataError(f"{display}:{line}: holds a NUL byte; this is not a text CSV (a binary or damaged file?)")
            if len(row) != width:
                if line > start and any("\n" in f or "\r" in f for f in row):
                    raise DataError(
                        f"{display}:{start}: a quoted field runs on to line {line}; close the quote "
                        f"(row has {len(row)} fields, the header {width})"
                    )
                raise DataError(
                    f"{display}:{line}: row has {len(row)} fields but the header has {width}; "
                    f"fix the row (a stray or missing delimiter?)"
                )
            rows.append(row)
            lines.append(line)
    except csv.Error as exc:
        raise DataError(f"{display}: malformed CSV: {exc}") from None
    if not rows:
        return None
    return _table_from_rows(display, header, rows, lines, text_columns)


def checked_header(header: list[str], display: str) -> list[str]:
    """The column names of a CSV's first record, stripped; an empty, unnamed or repeated name is an
    error at line 1. (Any CSV reader, fast or not, starts here.)"""
    if "\x00" in ",".join(header):
        raise DataError(f"{display}:1: holds a NUL byte; this is not a text CSV (a binary or damaged file?)")
    header = [h.strip() for h in header]
    if not any(header):
        raise DataError(f"{display}:1: the header row is empty")
    seen: set[str] = set()
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{display}:1: column {i + 1} has no name in the header")
        if name in seen:
            raise DataError(f"{display}:1: column name {name!r} appears twice in the header")
        seen.add(name)
    return header


def bounded_lines(fh, display: str, line0: int = 0):
    """The lines of a text stream, each read with a length limit (MAX_LINE): a line that reaches it
    is an error instead of a string as long as the input. (csv.field_size_limit bounds a field,
    but only after the file iterator has read the whole line.)"""
    readline, number = fh.readline, line0
    while True:
        line = readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE and line[-1] not in "\r\n":
            if "\x00" in line:
                raise DataError(f"{display}:{number}: holds a NUL byte; this is not a text CSV (a binary or damaged file?)")
            raise DataError(f"{display}:{number}: line is longer than {MAX_LINE} characters (no line break); "
                            f"this is not a CSV with one row per line — check the file (binary or endless input?)")
        yield line


def _table_from_rows(display: str, header: list[str], rows: list[list[str]], lines: list[int],
                     text_columns=frozenset()) -> Table:
    width = len(header)
    text = np.array(rows, dtype=str).reshape(len(rows), width)
    columns: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        col = np.char.strip(text[:, j])
        miss = np.isin(np.char.lower(col), list(MISSING_TOKENS))
        try:
            if name in text_columns:
                raise ValueError(name)
            columns[name] = np.where(miss, "nan", col).astype(np.float64)
        except ValueError:
            columns[name] = col
        missing[name] = miss
    return Table(display, columns, missing, np.asarray(lines, dtype=np.int64))


def read_npz_xy(path: Path, display: str) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Arrays X and y of an .npz data file, and its column names (array 'features', as nncli data
    convert writes it) or None. Shared by training (data.path, validation, test) and evaluate."""
    check_readable_file(path, display)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "X" not in z.files or "y" not in z.files:
                raise DataError(f"{display}: an .npz data file needs arrays 'X' and 'y' (found: {', '.join(z.files) or 'none'})")
            wanted = [n for n in ("X", "y", "features") if n in z.files]
            _check_npz_sizes(z, wanted, display)  # before anything is inflated
            X, y = z["X"], z["y"]
            features = z["features"] if "features" in z.files else None  # nncli data convert
    except DataError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{display}: not a readable NumPy file ({exc})") from None
    if y.ndim == 0:
        raise DataError(f"{display}: y must hold one target per row of X, got a single value")
    if features is not None and features.ndim != 1:
        raise DataError(f"{display}: 'features' must be a 1-D array of column names, got shape {features.shape}")
    names = None if features is None else [str(n) for n in features]
    if names is not None and X.ndim == 2 and len(names) != X.shape[1]:
        raise DataError(f"{display}: 'features' names {len(names)} columns but X has {X.shape[1]}")
    return X, y, names


def memory_bytes() -> int | None:
    """Bytes of memory this process may use (nncli/machine.py), or None where the system does not say."""
    from ..machine import memory_bytes as found

    return found()


def _check_npz_sizes(z, names: list[str], display: str) -> None:
    """Check the arrays ``names`` of an open .npz (numpy NpzFile) before numpy inflates them: numpy
    allocates the shape an .npy header declares, so a small compressed file could claim terabytes.
    Each header must fit in what the archive holds for it, and all of them in physical memory."""
    total = 0
    for name in names:
        member = name + ".npy"
        if member not in z.zip.namelist():
            continue  # not an .npy member: numpy does not read it as an array
        info = z.zip.getinfo(member)
        with z.zip.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                continue  # numpy reads or refuses other versions itself, with its own message
            header_len = fh.tell()
        if dtype.hasobject:
            continue  # np.load refuses it (allow_pickle=False)
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        held = max(0, info.file_size - header_len)
        if nbytes > held:
            raise DataError(f"{display}: array {name!r} claims shape {shape} ({nbytes} bytes) but the file holds "
                            f"{held}; damaged or truncated — write it again")
        total += nbytes
    memory = memory_bytes()
    if memory is not None and total > memory:
        raise DataError(f"{display}: its arrays need {human_bytes(total)} in memory, more than this machine has "
                        f"({human_bytes(memory)}); "
                        f"for data larger than memory save X and y as .npy files and set data.path and data.y_path "
                        f"(read memory-mapped)")


def table_from_arrays(X: np.ndarray, y: np.ndarray, path: str, target: str | list[str] | None = None,
                      names: list[str] | None = None) -> Table:
    """In-memory arrays X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets) as a
    Table, so they take the same path as file data. ``target`` (data.target) names the y columns
    when it fits their number (else y, or y1..yK); ``names`` the X columns (else x1..xN)."""
    if X.ndim != 2:
        raise DataError(f"{path}: X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if len(y) != len(X):
        raise DataError(f"{path}: X has {len(X)} rows but y has {len(y)}")
    names = names or [f"x{i + 1}" for i in range(X.shape[1])]
    cols = {n: X[:, i] for i, n in enumerate(names)}
    y2 = y.reshape(len(y), -1) if y.ndim > 1 else y[:, None]
    tnames = ["y"] if y2.shape[1] == 1 else [f"y{i + 1}" for i in range(y2.shape[1])]
    if isinstance(target, str) and y2.shape[1] == 1:
        tnames = [target]
    elif isinstance(target, list) and len(target) == y2.shape[1]:
        tnames = list(target)
    for i, n in enumerate(tnames):
        cols[n] = y2[:, i]
    none_missing = np.zeros(len(X), bool)  # features have no empty cells: one mask shared by them
    missing = {n: none_missing for n in cols}
    for n in tnames:  # targets may: NaN, or a text label that is a missing token (NA, None, "")
        missing[n] = target_missing(cols[n])
    return Table(path, cols, missing, np.arange(2, len(X) + 2), X, list(names), array_rows=True)


def target_missing(y: np.ndarray) -> np.ndarray:
    """(n,) True where a target value from an array is missing: NaN, or text that is empty or a
    missing token (NA, None, null, nan, ?), as a CSV cell would be."""
    if y.dtype.kind == "f":
        return np.isnan(y)
    if y.dtype.kind in "US":
        text = np.char.lower(np.char.strip(y.astype(str)))
        return np.isin(text, list(MISSING_TOKENS))
    return np.zeros(len(y), bool)
