"""nncli.data.fastfloat: every value it accepts is bit-identical to float(); everything that is not
a plain decimal number (or a row of the wrong width) is declined, so the precise parser names it."""

from __future__ import annotations

import numpy as np
import pytest

from nncli.data import csvread
from nncli.data import fastfloat as ff


def parse(lines: list[str], width: int, delimiter: str = ",", newline_at_end: bool = True):
    block = ("\n".join(lines) + ("\n" if newline_at_end else "")).encode()
    return ff.numbers(block, len(lines), width, delimiter)


def reference(lines: list[str], width: int, delimiter: str = ","):
    """float() of every cell, or None when a row is ragged or a cell is not a number float() and
    NumPy's parser both take (float() also reads '1_0', ' 1', 'nan': fastfloat must decline)."""
    rows = [line.split(delimiter) for line in lines]
    if any(len(r) != width for r in rows):
        return None
    try:
        return np.array([[float(c) for c in r] for r in rows], dtype=np.float64)
    except ValueError:
        return None


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool((a.view(np.uint64) == b.view(np.uint64)).all())


def check_exact(lines: list[str], width: int, must_accept: bool = False):
    got = parse(lines, width)
    ref = reference(lines, width)
    assert ref is not None
    if got is None:
        assert not must_accept, "declined a block of plain numbers"
        return
    bad = np.argwhere(got.view(np.uint64) != ref.view(np.uint64))
    assert not len(bad), [(lines[r].split(",")[c], got[r, c], ref[r, c]) for r, c in bad[:5]]


FORMATS = ["%.4f", "%.6f", "%.1f", "%.10f", "%.18e", "%.17g", "%.9g", "%g", "%e", "%.6E", "%.3e", "%.15g", "%.20f"]
SCALES = [1e-300, 1e-30, 1e-8, 1e-3, 1.0, 1e3, 1e8, 1e15, 1e22, 1e30, 1e300]


@pytest.mark.parametrize("fmt", FORMATS)
def test_random_values_in_printf_formats_are_bit_identical(fmt):
    rng = np.random.default_rng(abs(hash(fmt)) % 2**32)
    for scale in SCALES:
        v = rng.standard_normal(1200) * scale
        cells = [fmt % x for x in v]
        check_exact([",".join(cells[i:i + 4]) for i in range(0, len(cells), 4)], 4)


@pytest.mark.parametrize("fmt", ["%.4f", "%.6f", "%.18e", "%.17g", "repr", "%g", "int"])
def test_common_formats_take_the_fast_path(fmt):
    rng = np.random.default_rng(1)
    v = rng.standard_normal(4000)
    if fmt == "repr":
        cells = [repr(float(x)) for x in v]
    elif fmt == "int":
        cells = [str(int(x * 1000)) for x in v]
    else:
        cells = [fmt % x for x in v]
    check_exact([",".join(cells[i:i + 8]) for i in range(0, len(cells), 8)], 8, must_accept=True)


def test_integers_and_long_mantissas():
    rng = np.random.default_rng(2)
    cells = [str(int(x)) for x in rng.integers(-10**18, 10**18, 3000)]
    cells += [str(int(x)) for x in rng.integers(-10**8, 10**8, 3000)]
    check_exact([",".join(cells[i:i + 6]) for i in range(0, len(cells), 6)], 6, must_accept=True)


def test_nineteen_digit_mantissas_near_every_exponent_of_the_long_double_path():
    """M < 2^64 and |e| <= 27 are rounded in long double and then to float64: a result exactly on
    a float64 midpoint must not be rounded twice."""
    rng = np.random.default_rng(3)
    cells = []
    for e in range(-27, 28):
        for m in rng.integers(10**18, 2**63, 40):
            cells.append(f"{m}e{e}")
            cells.append(f"-{str(m)[:1]}.{str(m)[1:]}e{e + 18}")
    # Exact float64 midpoints written with all their digits: 2^53 + 1, and x.5 ulp above 1.
    cells += ["9007199254740993", "9007199254740995", "18014398509481986", "18014398509481989",
              "1.00000000000000011102230246251565404236316680908203125",
              "1.0000000000000002220446049250313080847263336181640625", "9223372036854775807",
              "9223372036854775808", "18446744073709551615", "18446744073709551616"]
    while len(cells) % 5:
        cells.append("0")
    check_exact([",".join(cells[i:i + 5]) for i in range(0, len(cells), 5)], 5)


def test_without_x87_long_double_long_mantissas_are_exact_or_declined(monkeypatch):
    monkeypatch.setattr(ff, "_LONG", False)
    rng = np.random.default_rng(8)
    cells = ["%.18e" % x for x in rng.standard_normal(400)] + ["%.4f" % x for x in rng.standard_normal(4000)]
    check_exact([",".join(cells[i:i + 4]) for i in range(0, len(cells), 4)], 4)


HOSTILE_NUMBERS = ["-0", "-0.0", "+0", "0e0", ".5", "5.", "+.5", "-.5e-3", "1.e5", "1E+05", "00012", "1e0005",
                   "1e400", "-1e400", "1e-400", "0e999", "99999999999999999999999", "12345678901234567890",
                   "9007199254740993", "0.1", "1e22", "1e23", "123456789012345678e-5", "4.9406564584124654e-324",
                   "2.2250738585072011e-308", "1.7976931348623157e308", "0.000000000000000000000000000001",
                   "0.0000000000000000000001234567890123456789", "000000000000000000000000001.5",
                   "12345678901234567890123456789012345678901234567890"]
NOT_NUMBERS = ["1.2.3", "1e5e5", "1-2", "e5", "1e", "1e+", ".", "-", "+", "--5", "+-5", "5e+-3", "1e5.3", "5e",
               "e", "1..", "1.e", "-.", "0x10", "1_0", " 1", "1 ", "", "nan", "NaN", "inf", "-inf", "Infinity",
               "1,5".replace(",", ";"), "1\t", "\"1\"", "١", "1e5_0", "5-", "5+", ".e5", "-e5", "1.5.", "0.5e",
               "1." + "2" * 70]


@pytest.mark.parametrize("token", HOSTILE_NUMBERS + NOT_NUMBERS)
def test_hostile_tokens_are_exact_or_declined(token):
    for lines in ([f"{token},1"], [f"1,{token}"], [f"{token},1", "2,3"], ["0.5,0.25"] * 30 + [f"1,{token}"],
                  ["1.234567890123456789e-05,0.5"] * 30 + [f"{token},2.5"]):
        got = parse(lines, 2)
        ref = reference(lines, 2)
        if token in NOT_NUMBERS:
            assert got is None, (token, lines[-1])
        elif got is not None:
            assert ref is not None and same_bits(got, ref), (token, got, ref)


def test_hostile_numbers_in_bulk_are_bit_identical():
    """Many odd but valid numbers in one block (the general path's stream positions)."""
    cells = HOSTILE_NUMBERS * 40
    lines = [",".join(cells[i:i + 3]) for i in range(0, len(cells) - len(cells) % 3, 3)]
    got = parse(lines, 3)
    if got is not None:
        assert same_bits(got, reference(lines, 3))


@pytest.mark.parametrize("lines,width", [
    (["1,2", "3", "4,5,6"], 2),  # ragged
    (["1,2", "3,4,5"], 2),
    (["1,2,3", "4,5"], 3),
    (["1,,2"], 3),  # empty field
    ([",1"], 2),
    (["1,"], 2),
    (["1,2", ""], 2),  # blank line
    (["1,2\r", "3,4\r"], 2),  # \r\n left in the block
    (["1;2"], 2),  # another delimiter
])
def test_shapes_that_are_not_a_table_of_numbers_are_declined(lines, width):
    assert parse(lines, width) is None


def test_last_line_without_break_and_other_delimiters():
    assert same_bits(parse(["1.5,2", "-3,4e2"], 2, newline_at_end=False), np.array([[1.5, 2], [-3, 400.0]]))
    assert same_bits(ff.numbers(b"1.5;2\n-3;4\n", 2, 2, ";"), np.array([[1.5, 2], [-3, 4.0]]))
    assert same_bits(ff.numbers(b"1.5\t2\n", 1, 2, "\t"), np.array([[1.5, 2]]))
    assert ff.numbers(b"1.5.2\n", 1, 2, ".") is None  # a delimiter that is part of numbers
    assert ff.numbers(b"1,2\n", 2, 2, ",") is None  # fewer lines than the caller counted


def test_one_column_and_long_lines():
    check_exact([repr(float(x)) for x in np.random.default_rng(4).standard_normal(500)], 1, must_accept=True)
    row = ",".join("%.18e" % x for x in np.random.default_rng(5).standard_normal(3000))
    check_exact([row, row], 3000, must_accept=True)


# ---------------------------------------------------------------- end to end through csvread
def write_mixed_csv(path, rows: int = 6000):
    rng = np.random.default_rng(6)
    v = rng.standard_normal((rows, 5))
    with open(path, "w") as fh:
        fh.write("a,b,c,d,e,label\n")
        for i in range(rows):
            fh.write(f"{v[i, 0]:.4f},{v[i, 1]:.18e},{float(v[i, 2])!r},{v[i, 3] * 1e-7:g},{int(v[i, 4] * 100)},{i % 3}\n")


def tables_equal(a, b) -> None:
    assert list(a.columns) == list(b.columns)
    for name in a.columns:
        assert a.columns[name].dtype == b.columns[name].dtype
        if a.columns[name].dtype.kind == "f":
            assert same_bits(a.columns[name], b.columns[name]), name
        else:
            assert (a.columns[name] == b.columns[name]).all(), name
        assert (a.missing[name] == b.missing[name]).all()
    assert (a.lines == b.lines).all()


def test_a_csv_read_with_the_fast_path_gives_the_same_table(tmp_path, monkeypatch):
    path = tmp_path / "mixed.csv"
    write_mixed_csv(path)
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 1 << 16)  # many blocks
    monkeypatch.setenv("NNCLI_CSV_WORKERS", "0")
    calls = []
    numbers = ff.numbers

    def counted(*args):
        out = numbers(*args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(ff, "numbers", counted)
    fast = csvread.read_csv(path)
    assert len(calls) > 5 and all(calls)  # every block went through the fast path
    monkeypatch.setenv("NNCLI_FASTFLOAT", "0")
    calls.clear()
    slow = csvread.read_csv(path)
    assert not calls
    tables_equal(fast, slow)
    chunks_fast = list(csvread.read_csv_chunks(path))
    monkeypatch.delenv("NNCLI_FASTFLOAT")
    chunks_slow = list(csvread.read_csv_chunks(path))
    assert len(chunks_fast) == len(chunks_slow) > 5
    for a, b in zip(chunks_fast, chunks_slow):
        tables_equal(a, b)


def test_a_block_with_an_empty_or_odd_cell_goes_to_the_precise_parser(tmp_path, monkeypatch):
    """The fast path declines the block with a missing cell or a word; the rows around it keep
    their fast values and the cell its line, as with the fast path off."""
    path = tmp_path / "holes.csv"
    write_mixed_csv(path)
    lines = path.read_text().splitlines()
    cells = lines[4001].split(",")
    cells[0] = ""  # row 4000 (line 4002): a missing value in column a
    lines[4001] = ",".join(cells)
    cells = lines[5001].split(",")
    cells[3] = "NaN"
    lines[5001] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 1 << 16)
    monkeypatch.setenv("NNCLI_CSV_WORKERS", "0")
    fast = csvread.read_csv(path)
    assert fast.missing["a"][4000] and fast.lines[4000] == 4002 and fast.missing["d"][5000]
    assert fast.missing["a"].sum() == 1 and fast.columns["a"].dtype.kind == "f"
    monkeypatch.setenv("NNCLI_FASTFLOAT", "0")
    tables_equal(fast, csvread.read_csv(path))


def test_blocks_fastfloat_declines_go_to_the_workers_in_order(tmp_path, monkeypatch):
    """Blocks of %.4f (fastfloat, in this process) then of %.25f (more than 24 digits: declined, so
    NumPy's parser in worker processes): the same Table as all in one process, fast path off."""
    rng = np.random.default_rng(7)
    v = rng.standard_normal((4000, 3))
    path = tmp_path / "two.csv"
    with open(path, "w") as fh:
        fh.write("a,b,c\n")
        for i, row in enumerate(v):
            fmt = "%.4f" if i < 2000 else "%.25f"
            fh.write(",".join(fmt % x for x in row) + "\n")
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 1 << 14)
    monkeypatch.setattr(csvread, "PARALLEL_FROM", 1)
    submitted = []

    class Pool:  # records what goes to the workers; runs it at once
        def submit(self, fn, *args):
            submitted.append(args[1])
            from concurrent.futures import Future

            f = Future()
            f.set_result(fn(*args))
            return f

    monkeypatch.setattr(csvread, "_workers", lambda: Pool())
    mixed = csvread.read_csv(path)
    assert 2000 <= sum(submitted) < 2000 + 730  # the %.25f rows, and the block holding both formats
    monkeypatch.undo()
    monkeypatch.setenv("NNCLI_FASTFLOAT", "0")
    monkeypatch.setenv("NNCLI_CSV_WORKERS", "0")
    tables_equal(mixed, csvread.read_csv(path))
