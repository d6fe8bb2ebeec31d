"""The fast CSV reader behind tables.read_csv / read_csv_stream / read_csv_chunks (issue 16).

The file is read as bytes in blocks of about CHUNK_BYTES of whole lines, so memory is bounded by
bytes whatever the width or length of the file (never a fixed row count). A block of plain text
(ASCII, no quotes, no blank lines, every line as wide as the header, no missing cell) is parsed
exactly by fastfloat.numbers when it holds plain decimal numbers only (whole-array NumPy, in this
process), else by NumPy's C parser (np.loadtxt, numeric columns as float64, text columns as
strings; in worker processes); any other block goes to the precise parser of tables.py (the csv
module, every message with file:line and column). One block never decides for another: a bad
value in row 900,000 costs the precise parse of that block only. NNCLI_FASTFLOAT=0 turns
fastfloat off and NNCLI_CSV_WORKERS=0 the workers (to compare).

Entry points: read_csv (a whole file), read_csv_stream (a whole open stream), read_csv_chunks
(one Table per block, for predict, evaluate and convert).

Shapes: every block becomes a tables.Table of its rows; its numeric columns are views into one
float64 matrix (n_rows, n_numeric) (Table.matrix), so encoding for the network is no copy.
``read_whole`` concatenates the blocks of a whole file into one Table, growing one matrix in place
and refusing, with the estimate, a file whose data cannot fit in the memory available.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import tables as T

#: Bytes of CSV text parsed at a time (a block is this plus the rest of its last line).
CHUNK_BYTES = 1 << 22
_BOM = b"\xef\xbb\xbf"


class _TextAsBytes:
    """A text stream (stdin as text, io.StringIO) read as UTF-8 bytes, so one reader serves both."""

    def __init__(self, fh):
        self.fh = fh
        self.ended = False

    def read(self, n: int) -> bytes:
        text = self.fh.read(n)
        # A text stream returns fewer than n characters only at its end: remember it, so a
        # terminal's Ctrl-D ends the input at once instead of being asked for a second time.
        self.ended = len(text) < n
        return text.encode("utf-8", "surrogatepass")

    def seekable(self) -> bool:
        return self.fh.seekable()

    def seek(self, pos: int) -> None:
        self.fh.seek(pos)


def as_bytes(source):
    """An open stream as a bytes reader (text streams are encoded as they are read)."""
    try:
        if isinstance(source.read(0), str):
            return _TextAsBytes(source)
    except (AttributeError, OSError, ValueError):
        pass
    return source


def _ended(raw, data: bytes) -> bool:
    """Whether a short read reached the end: buffered and text streams return less than asked
    only at their end (reading again would wait for a second Ctrl-D on a terminal)."""
    if isinstance(raw, _TextAsBytes):
        return raw.ended
    return isinstance(raw, io.BufferedReader) and len(data) < CHUNK_BYTES


def _terminators(block: bytes) -> int:
    """Line breaks in ``block`` as the csv module counts them (\\n, \\r\\n or a lone \\r)."""
    if b"\r" not in block:
        return int(np.count_nonzero(np.frombuffer(block, np.uint8) == 10))  # bytes.count: 4x slower
    return block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")


def _cut(buf: bytes, at_eof: bool) -> int:
    """Length of the longest prefix of ``buf`` that ends at a line break (0: none yet)."""
    if at_eof:
        return len(buf)
    i = max(buf.rfind(b"\n"), buf.rfind(b"\r"))
    if i >= 0 and i == len(buf) - 1 and buf[i] == 13:  # a \r last: its \n may be in the next read
        i = max(buf.rfind(b"\n", 0, i), buf.rfind(b"\r", 0, i))
    return i + 1


def blocks(raw, display: str):
    """Yield (byte offset, first line number, block) of whole lines from a binary stream.

    A line that reaches tables.MAX_LINE without a break is an error at its line (input without
    line breaks never grows memory past that); a block never ends inside a quoted field (quote
    parity), unless the open quote runs past MAX_LINE — the precise parser then says where."""
    buf, offset, line, eof, first = b"", 0, 1, False, True
    while not eof:
        data = raw.read(CHUNK_BYTES)
        eof = not data or _ended(raw, data)
        buf += data
        if first and len(buf) >= 3 or eof:
            if first and buf.startswith(_BOM):
                buf, offset = buf[3:], 3
            first = False
        end = _cut(buf, eof)
        if end and not eof and buf.find(b'"', 0, end) >= 0 and buf.count(b'"', 0, end) % 2 and len(buf) <= T.MAX_LINE:
            continue  # inside a quoted field: read on to its end
        if end == 0:
            if len(buf) > T.MAX_LINE:
                if b"\x00" in buf:
                    raise DataError(f"{display}:{line}: holds a NUL byte; this is not a text CSV (a binary or damaged file?)")
                raise DataError(f"{display}:{line}: line is longer than {T.MAX_LINE} characters (no line break); "
                                f"this is not a CSV with one row per line — check the file (binary or endless input?)")
            continue
        block, buf = buf[:end], buf[end:]
        yield offset, line, block
        offset += len(block)
        line += _terminators(block)


def _decode(block: bytes, offset: int, display: str) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{display}: not a UTF-8 text file ({exc.reason} at byte {offset + exc.start}); "
                        f"is it a CSV?") from None


def _header(block: bytes, offset: int, display: str, delimiter: str):
    """(column names, bytes the header takes, lines it takes) from the first block."""
    import csv

    csv.field_size_limit(T.MAX_FIELD)
    text = _decode(block, offset, display)
    sio = io.StringIO(text, newline="")
    reader = csv.reader(T.bounded_lines(sio, display), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{display}: the file is empty; expected a header row and data rows") from None
    except csv.Error as exc:
        raise DataError(f"{display}: malformed CSV: {exc}") from None
    used = len(text[: sio.tell()].encode("utf-8", "surrogatepass"))
    return T.checked_header(header, display), used, reader.line_num


class _Plan:
    """A block the C parser may take: its bytes (\\r\\n made \\n), row count, which columns are
    parsed as numbers and which as strings."""

    def __init__(self, block: bytes, n: int, numeric: list[int], strings: list[int], width: int):
        self.block, self.n, self.numeric, self.strings, self.width = block, n, numeric, strings, width


def _plan(block: bytes, header: list[str], delimiter: str, strings: set[int]) -> _Plan | None:
    """Cheap checks (in the reading process) that a block is plain text the C parser can take
    exactly; None sends it to the precise parser."""
    if not block.isascii() or b'"' in block or b"\x00" in block:
        return None
    if b"\r" in block:
        if block.count(b"\r") != block.count(b"\r\n"):
            return None
        block = block.replace(b"\r\n", b"\n")
    if len(delimiter) != 1 or not delimiter.isascii():
        return None
    b = np.frombuffer(block, np.uint8)
    ends = np.flatnonzero(b == 10)
    if not block.endswith(b"\n"):
        ends = np.append(ends, len(b))
    n, width = len(ends), len(header)
    if n == 0:
        return None
    lines = np.diff(ends, prepend=-1)  # each line's length + 1
    if lines.min() == 1:
        return None  # a blank line: the precise parser skips it
    if lines.max() > min(T.MAX_FIELD, T.MAX_LINE):
        return None  # a line that long may be over a limit: the precise parser says which
    numeric = [j for j in range(width) if j not in strings]
    if len(numeric) < width:  # with usecols np.loadtxt would not see a row of the wrong width
        delims = np.flatnonzero(b == ord(delimiter))
        if len(delims) != n * (width - 1) or (
                width > 1 and np.any(np.diff(np.searchsorted(delims, ends), prepend=0) != width - 1)):
            return None  # some row is not as wide as the header: the precise parser names it
    return _Plan(block, n, numeric, sorted(strings), width)


def _fast(plan: _Plan, delimiter: str):
    """fastfloat on a block of numbers only, in the reading process: (numbers, None), or None when
    it declines the block (or the block has text columns). About 4x faster than NumPy's parser
    and cheaper than sending the block to a worker and its matrix back (NNCLI_FASTFLOAT=0: off)."""
    if plan.strings or len(plan.numeric) != plan.width or os.environ.get("NNCLI_FASTFLOAT") == "0":
        return None
    from .fastfloat import numbers

    matrix = numbers(plan.block, plan.n, plan.width, delimiter)
    return None if matrix is None else (matrix, None)


def _parse(block: bytes, n: int, numeric: list[int], strings: list[int], width: int, delimiter: str):
    """NumPy's C parser on one block: (numbers (n, len(numeric)) float64, strings (n, len(strings))
    or None), or None when it cannot take the block exactly. Runs in a worker process for big
    files (a module-level function of plain arguments)."""
    try:
        matrix = np.empty((n, 0))
        if numeric:
            matrix = np.loadtxt(io.BytesIO(block), delimiter=delimiter, comments=None, quotechar=None, ndmin=2,
                                dtype=np.float64, usecols=numeric if len(numeric) < width else None)
            if matrix.shape != (n, len(numeric)) or np.isnan(matrix).any():
                return None  # NaN cells are "missing" (nan, NaN): the precise parser marks them
        text = None
        if strings:
            text = np.loadtxt(io.BytesIO(block), delimiter=delimiter, comments=None, quotechar=None, ndmin=2,
                              dtype=str, usecols=strings)
            if text.shape != (n, len(strings)):
                return None
    except ValueError:
        return None
    return matrix, text


def _fast_table(plan: _Plan, parsed, line: int, display: str, header: list[str], forced) -> T.Table:
    """The Table of a block the C parser took: numeric columns are views into one matrix."""
    matrix, text = parsed
    n = plan.n
    columns: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    none_missing = np.zeros(n, bool)
    num_at = {j: i for i, j in enumerate(plan.numeric)}
    str_at = {j: i for i, j in enumerate(plan.strings)}
    tokens = list(T.MISSING_TOKENS)
    for j, name in enumerate(header):
        if j in num_at:
            columns[name], missing[name] = matrix[:, num_at[j]], none_missing
            continue
        col = np.char.strip(text[:, str_at[j]])
        miss = np.isin(np.char.lower(col), tokens)
        missing[name] = miss
        columns[name] = col
        if name not in forced:  # as tables._table_from_rows decides: numeric if every cell is a number
            try:
                columns[name] = np.where(miss, "nan", col).astype(np.float64)
            except ValueError:
                pass
    return T.Table(display, columns, missing, np.arange(line, line + n, dtype=np.int64), matrix,
                   [header[j] for j in plan.numeric])


#: Blocks parsed ahead by worker processes (each holds a block's bytes and its parsed matrix):
#: bounds the memory of the pipeline. Workers start from the PARALLEL_FROM-th block on, so small
#: files never pay for a process.
AHEAD = 4
PARALLEL_FROM = 3
_pool = None


def _workers():
    """A pool of processes parsing the blocks fastfloat declines (one per core; None on one core
    or where processes cannot be made): NumPy's parser holds the GIL, so threads would not run it
    in parallel. Blocks fastfloat takes stay in this process: copying 4 MB to a worker and 4 MB of
    float64 back costs about as much as parsing them (measured, issue 16)."""
    global _pool
    if _pool is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if cores < 2 or os.environ.get("NNCLI_CSV_WORKERS") == "0":
            _pool = False
        else:
            try:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
                _pool = ProcessPoolExecutor(max_workers=min(cores, 4), mp_context=ctx, initializer=_worker_init)
            except (OSError, ValueError, ImportError):
                _pool = False
            else:
                import atexit

                atexit.register(_stop_workers)
    return _pool or None


def _stop_workers() -> None:
    """End the workers while the interpreter is whole (a pool collected at its very end prints
    "Exception ignored" lines)."""
    global _pool
    if _pool:
        _pool.shutdown(wait=True, cancel_futures=True)
    _pool = None


def _worker_init() -> None:
    """Workers leave Ctrl-C and SIGTERM to the reading process (it reports and ends them)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def tables(source, display: str, delimiter: str = ",", text_columns=frozenset(), sticky: bool = False):
    """Yield one Table per block of ``source`` (see _block_tables)."""
    for table, _ in _block_tables(source, display, delimiter, text_columns, sticky):
        yield table


def _block_tables(source, display: str, delimiter: str = ",", text_columns=frozenset(), sticky: bool = False):
    """Yield (Table, bytes of CSV text it came from), one per block of ``source`` (a binary or
    text stream, at its start), in file order.

    ``text_columns`` stay text in every block. Columns a block finds to be text are parsed as
    strings in later blocks (cheaply) and, with ``sticky``, stay text there too (a whole-file read:
    a column is text if any of its cells is). Blocks of numbers only are parsed here by
    fastfloat; from the PARALLEL_FROM-th block on, those it declines and blocks with text columns
    are parsed AHEAD at a time by worker processes; results are taken in order, so nothing changes
    but the time."""
    from collections import deque

    raw = as_bytes(source)
    state = {"header": None, "forced": set(text_columns), "strings": set(), "any": False}
    pending: deque = deque()  # (offset, line, block, plan, future or parsed)
    count = 0

    def finish(offset, line, block, plan, parsed):
        header, forced = state["header"], state["forced"]
        if hasattr(parsed, "result"):
            parsed = parsed.result()
        if parsed is not None:
            table = _fast_table(plan, parsed, line, display, header, forced)
        else:
            text = _decode(block, offset, display)
            table = T.precise_table(io.StringIO(text, newline=""), display, delimiter, header, line - 1, forced)
            if table is None:
                return None  # only blank lines
        for j, name in enumerate(header):
            if table.columns[name].dtype.kind != "f":
                state["strings"].add(j)
                if sticky:
                    forced.add(name)
        state["any"] = True
        return table, len(block)

    try:
        for offset, line, block in blocks(raw, display):
            if state["header"] is None:
                state["header"], used, lines = _header(block, offset, display, delimiter)
                state["strings"] = {j for j, h in enumerate(state["header"]) if h in state["forced"]}
                block, offset, line = block[used:], offset + used, line + lines
                if not block:
                    continue
            count += 1
            plan = _plan(block, state["header"], delimiter, state["strings"])
            parsed = None if plan is None else _fast(plan, delimiter)
            if plan is not None and parsed is None:  # NumPy's parser: in a worker from the PARALLEL_FROM-th block
                pool = _workers() if count >= PARALLEL_FROM else None
                args = (plan.block, plan.n, plan.numeric, plan.strings, plan.width, delimiter)
                parsed = pool.submit(_parse, *args) if pool is not None else _parse(*args)
            pending.append((offset, line, block, plan, parsed))
            ahead = AHEAD if any(hasattr(item[4], "result") for item in pending) else 0
            while len(pending) > ahead:
                done = finish(*pending.popleft())
                if done:
                    yield done
        while pending:
            done = finish(*pending.popleft())
            if done:
                yield done
    finally:
        for item in pending:  # a reader stopped early (an error, a restart): drop the work ahead
            if hasattr(item[4], "cancel"):
                item[4].cancel()
    if state["header"] is None:
        raise DataError(f"{display}: the file is empty; expected a header row and data rows")
    if not state["any"]:
        raise DataError(f"{display}: has a header but no data rows")


def available_memory() -> int | None:
    """Bytes of memory this process can still take (MemAvailable), else the physical memory."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for row in fh:
                if row.startswith(b"MemAvailable:"):
                    return int(row.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return T.memory_bytes()


class _Whole:
    """Blocks' Tables concatenated: numeric columns in one float64 matrix grown in place."""

    def __init__(self, display: str, size: int | None):
        self.display, self.size = display, size
        self.numeric: list[str] | None = None
        self.matrix = np.empty((0, 0))
        self.rows = 0
        self.text: dict[str, list[np.ndarray]] = {}
        self.text_bytes = 0
        self.missing: dict[str, list[tuple[int, np.ndarray]]] = {}
        self.lines: list[np.ndarray] = []
        self.header: list[str] = []
        self.read_bytes = 0

    def add(self, t: T.Table, block_bytes: int) -> list[str]:
        """Append a block's Table; returns columns that turned text (the read starts again)."""
        if self.numeric is None:
            self.header = list(t.columns)
            self.numeric = [n for n in self.header if t.columns[n].dtype.kind == "f"]
            self.text = {n: [] for n in self.header if n not in self.numeric}
            self.matrix = np.empty((0, len(self.numeric)))
        turned = [n for n in self.numeric if t.columns[n].dtype.kind != "f"]
        if turned:
            return turned
        k, r0 = t.n_rows, self.rows
        self._grow(r0 + k, block_bytes + self.read_bytes)
        if t.matrix is not None and t.matrix_names == self.numeric:
            self.matrix[r0:r0 + k] = t.matrix
        else:
            for j, n in enumerate(self.numeric):
                self.matrix[r0:r0 + k, j] = t.columns[n]
        for n in self.text:
            self.text[n].append(t.columns[n])
            self.text_bytes += t.columns[n].nbytes
        for n in self.header:
            if t.missing[n].any():
                self.missing.setdefault(n, []).append((r0, t.missing[n]))
        self.lines.append(t.lines)
        self.rows += k
        self.read_bytes += block_bytes
        return []

    def _grow(self, rows: int, read: int) -> None:
        cap = len(self.matrix)
        if rows <= cap:
            return
        new = max(rows, int(cap * 1.25) + 1024)
        per_row = (self.matrix.shape[1] * 8 + 8 + self.text_bytes / max(self.rows, 1))
        need = new * per_row
        if self.size and read:  # a regular file: what the whole file needs, from what was read so far
            need = max(need, rows * per_row * self.size / read)
        avail = available_memory()
        if avail is not None and need > avail:
            width = len(self.header)
            raise DataError(f"{self.display}: reading it needs about {T.human_bytes(need)} ({width} columns, {rows} rows so far), "
                            f"more than the {T.human_bytes(avail)} of memory available; "
                            f"convert it with `nncli data convert FILE OUT.npy --target COLUMN` and train from the "
                            f".npy (memory-mapped)")
        self.matrix.resize((new, self.matrix.shape[1]), refcheck=False)  # realloc: no copy of the rows

    def table(self) -> T.Table:
        n = self.rows
        self.matrix.resize((n, self.matrix.shape[1]), refcheck=False)
        m = self.matrix
        none = np.zeros(n, bool)
        columns, missing = {}, {}
        index = {name: j for j, name in enumerate(self.numeric)}
        for name in self.header:
            if name in index:
                columns[name] = m[:, index[name]]
            else:
                parts = self.text[name]
                columns[name] = np.concatenate(parts) if len(parts) > 1 else parts[0]
                self.text[name] = []
            if name in self.missing:
                mask = np.zeros(n, bool)
                for r0, part in self.missing[name]:
                    mask[r0:r0 + len(part)] = part
                missing[name] = mask
            else:
                missing[name] = none
        lines = np.concatenate(self.lines) if self.lines else np.empty(0, np.int64)
        return T.Table(self.display, columns, missing, lines, m, list(self.numeric))


def read_whole(open_stream, display: str, delimiter: str = ",", text_columns=frozenset()) -> T.Table:
    """A whole CSV as one Table. ``open_stream()`` gives the stream at its start: called again when
    a column turns out to be text only in a later block (the read starts over, that column text)."""
    forced = set(text_columns)
    while True:
        fh = open_stream()
        size = None
        try:
            st = os.fstat(fh.fileno())
            import stat

            size = st.st_size if stat.S_ISREG(st.st_mode) else None
        except (AttributeError, OSError, io.UnsupportedOperation):
            pass
        whole = _Whole(display, size)
        restart: list[str] = []
        for t, nbytes in _block_tables(fh, display, delimiter, forced, sticky=True):
            restart = whole.add(t, nbytes)
            if restart:
                break
        if not restart:
            return whole.table()
        forced |= set(restart)


# ---------------------------------------------------------------- entry points
def read_csv(path: str | Path, display: str | None = None, delimiter: str = ",") -> T.Table:
    """Read a CSV with a header row, whole. Numeric columns become float64 (views into one matrix,
    Table.matrix); others stay text."""
    path = Path(path)
    display = display or str(path)
    T.check_readable_file(path, display)
    opened = []

    def open_stream():
        for fh in opened:
            fh.close()
        opened.append(open(path, "rb"))
        return opened[-1]

    try:
        return read_whole(open_stream, display, delimiter)
    except UnicodeDecodeError as exc:
        raise DataError(f"{display}: not a UTF-8 text file ({exc.reason} at byte {exc.start}); is it a CSV?") from None
    except OSError as exc:
        raise DataError(f"{display}: cannot read: {exc.strerror}") from None
    finally:
        for fh in opened:
            fh.close()


def read_csv_stream(fh, display: str, delimiter: str = ",") -> T.Table:
    """Parse CSV text from an open stream (a file, or stdin for `-`), whole."""
    start = fh.tell() if fh.seekable() else None
    if start is None:  # not seekable: a column found to be text late cannot be read again
        rows = [table for table in read_csv_chunks(fh, display, delimiter=delimiter)]
        return concat_tables(rows, display)

    def open_stream():
        fh.seek(start)
        return fh

    return read_whole(open_stream, display, delimiter)


def concat_tables(parts: list[T.Table], display: str) -> T.Table:
    """Tables of consecutive rows as one (a column text in any part is text in all: numbers of the
    other parts become their shortest text, as a stream cannot be read again)."""
    if len(parts) == 1:
        return parts[0]
    columns, missing = {}, {}
    for name in parts[0].columns:
        cols = [p.columns[name] for p in parts]
        if any(c.dtype.kind != "f" for c in cols):
            cols = [c if c.dtype.kind != "f" else np.array([repr(float(v)) for v in c], dtype=str) for c in cols]
        columns[name] = np.concatenate(cols)
        missing[name] = np.concatenate([p.missing[name] for p in parts])
    return T.Table(display, columns, missing, np.concatenate([p.lines for p in parts]))


def read_csv_chunks(source, display: str | None = None, chunk_rows: int | None = None, delimiter: str = ",",
                    text_columns: frozenset[str] | set[str] = frozenset()):
    """Yield Tables of the file's rows in blocks of about csvread.CHUNK_BYTES bytes of text (so
    memory is bounded by bytes whatever the width), each cut to at most ``chunk_rows`` rows.

    ``source`` is a path, or an open stream (stdin). Line numbers count from the file's start in
    every chunk. ``text_columns`` stay text even when a chunk's cells all look numeric (one-hot
    columns whose categories are digits). Errors in a later chunk are raised when that chunk is
    read, after the earlier chunks were yielded."""
    def cut(stream, shown):
        for table in tables(stream, shown, delimiter, text_columns):
            if chunk_rows is None or table.n_rows <= chunk_rows:
                yield table
                continue
            for s in range(0, table.n_rows, chunk_rows):
                yield _retyped(table.take(np.arange(s, min(s + chunk_rows, table.n_rows))), text_columns)

    if hasattr(source, "read"):
        yield from cut(source, display or "<stdin>")
        return
    path = Path(source)
    display = display or str(path)
    T.check_readable_file(path, display)
    try:
        with open(path, "rb") as fh:
            yield from cut(fh, display)
    except UnicodeDecodeError as exc:
        raise DataError(f"{display}: not a UTF-8 text file ({exc.reason} at byte {exc.start}); is it a CSV?") from None
    except OSError as exc:
        raise DataError(f"{display}: cannot read: {exc.strerror}") from None


def _retyped(table: T.Table, text_columns) -> T.Table:
    """A part of a block's Table with each text column decided again on its own rows (numeric if
    every cell is a number or missing), as _table_from_rows decides for a chunk."""
    for name, col in table.columns.items():
        if col.dtype.kind == "U" and name not in text_columns:
            try:
                table.columns[name] = np.where(table.missing[name], "nan", col).astype(np.float64)
            except ValueError:
                pass
    return table
