"""The block reader (nncli/data/csvread.py, issue 16): a CSV read in blocks of bytes, each by
NumPy's C parser when it can take it exactly, else by the precise parser — and the result is the
same Table (values, missing cells, line numbers, text columns) as the precise parser alone gives,
whatever the block size, with or without worker processes."""

from __future__ import annotations

import numpy as np
import pytest

from nncli.data import csvread
from nncli.data.convert import convert
from nncli.data.csvread import read_csv, read_csv_chunks
from nncli.errors import DataError


def precise_only(monkeypatch):
    monkeypatch.setattr(csvread, "_plan", lambda *a, **k: None)


def same(a, b):
    assert list(a.columns) == list(b.columns)
    np.testing.assert_array_equal(a.lines, b.lines)
    for name in a.columns:
        x, y = a.columns[name], b.columns[name]
        assert x.dtype.kind == y.dtype.kind, name
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y)
        else:
            assert x.tolist() == y.tolist()
        np.testing.assert_array_equal(a.missing[name], b.missing[name])


def numbers(rows: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, 5))
    lines = ["a,b,c,d,y"] + [",".join(f"{v:.6g}" for v in r[:4]) + f",{int(r[4] > 0)}" for r in X]
    return "\n".join(lines) + "\n"


def both(tmp_path, monkeypatch, text: str, chunk: int = 256):
    p = tmp_path / "d.csv"
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    monkeypatch.setattr(csvread, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(csvread, "PARALLEL_FROM", 1 << 30)
    fast = read_csv(p)
    with monkeypatch.context() as m:
        precise_only(m)
        slow = read_csv(p)
    same(fast, slow)
    return fast


@pytest.mark.parametrize("chunk", [64, 256, 4096, 1 << 22])
def test_numeric_file_reads_the_same_at_any_block_size(tmp_path, monkeypatch, chunk):
    t = both(tmp_path, monkeypatch, numbers(300), chunk)
    assert t.n_rows == 300 and t.matrix is not None and t.lines.tolist() == list(range(2, 302))


@pytest.mark.parametrize("variant", ["crlf", "blank_lines", "quotes_midway", "missing_midway", "bom", "no_final_newline",
                                     "spaces", "nan_token", "inf"])
def test_awkward_files_read_as_the_precise_parser_reads_them(tmp_path, monkeypatch, variant):
    lines = numbers(200).splitlines()
    if variant == "crlf":
        text = "\r\n".join(lines) + "\r\n"
    elif variant == "blank_lines":
        lines.insert(120, "")
        lines.insert(50, "   ")
        text = "\n".join(lines) + "\n"
    elif variant == "quotes_midway":
        lines[150] = '"1.5",2,3,4,"1"'
        text = "\n".join(lines) + "\n"
    elif variant == "missing_midway":
        lines[170] = "1,,3,NA,0"
        text = "\n".join(lines) + "\n"
    elif variant == "bom":
        text = "\ufeff" + "\n".join(lines) + "\n"
    elif variant == "no_final_newline":
        text = "\n".join(lines)
    elif variant == "spaces":
        lines[90] = " 1 , 2,3 ,4, 0"
        text = "\n".join(lines) + "\n"
    elif variant == "nan_token":
        lines[33] = "nan,2,3,4,1"
        text = "\n".join(lines) + "\n"
    else:
        lines[77] = "inf,2,-inf,4,1"
        text = "\n".join(lines) + "\n"
    both(tmp_path, monkeypatch, text)


def test_a_column_that_turns_text_late_is_text_for_the_whole_file(tmp_path, monkeypatch):
    lines = numbers(400).splitlines()
    lines[380] = "1,2,hello,4,0"
    t = both(tmp_path, monkeypatch, "\n".join(lines) + "\n")
    assert t.columns["c"].dtype.kind == "U" and t.columns["c"][379] == "hello" and t.columns["c"][0] == lines[1].split(",")[2]


def test_a_text_column_from_the_start_reads_fast_and_the_same(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    text = "x,kind,y\n" + "".join(f"{rng.standard_normal():.5f},{'ab'[i % 2]}{i % 7},{i % 3}\n" for i in range(500))
    t = both(tmp_path, monkeypatch, text)
    assert t.columns["kind"].dtype.kind == "U" and t.matrix_names == ["x", "y"]


def test_a_bad_row_late_in_the_file_is_named_at_its_line(tmp_path, monkeypatch):
    lines = numbers(400).splitlines()
    lines[333] = "1,2,3"
    p = tmp_path / "d.csv"
    p.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 256)
    with pytest.raises(DataError, match=r"d\.csv:334: row has 3 fields but the header has 5; "):
        read_csv(p)


def test_worker_processes_give_the_same_table(tmp_path, monkeypatch):
    lines = numbers(3000, seed=3).splitlines()
    lines[2500] = "1,,3,4,0"  # a block the precise parser takes, between blocks the workers took
    p = tmp_path / "d.csv"
    p.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 2048)
    monkeypatch.setattr(csvread, "PARALLEL_FROM", 1)
    parallel = read_csv(p)
    monkeypatch.setattr(csvread, "PARALLEL_FROM", 1 << 30)
    same(parallel, read_csv(p))


def test_chunks_are_bounded_by_bytes_not_rows(tmp_path, monkeypatch):
    p = tmp_path / "wide.csv"
    p.write_text(",".join(f"c{i}" for i in range(400)) + "\n" + ("\n".join(",".join("1.25" for _ in range(400))
                                                                           for _ in range(100))) + "\n")
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 8192)
    sizes = [t.n_rows for t in read_csv_chunks(p)]
    assert sum(sizes) == 100 and max(sizes) <= 8192 // (400 * 5) + 1


def test_convert_reads_once_and_writes_what_read_csv_reads(tmp_path, monkeypatch):
    text = numbers(500, seed=5)
    p = tmp_path / "d.csv"
    p.write_text(text)
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 512)
    whole = read_csv(p)
    convert(str(p), str(tmp_path / "d.npz"), "y")
    convert(str(p), str(tmp_path / "d.npy"), "y")
    z = np.load(tmp_path / "d.npz")
    X = np.stack([whole.columns[c] for c in "abcd"], axis=1).astype(np.float32)
    np.testing.assert_array_equal(z["X"], X)
    np.testing.assert_array_equal(np.load(tmp_path / "d.npy"), X)
    np.testing.assert_array_equal(np.load(tmp_path / "d.npy", mmap_mode="r"), X)
    assert z["y"].dtype == np.int64 and np.load(tmp_path / "d.y.npy").tolist() == z["y"].tolist()
    assert sorted(q.name for q in tmp_path.iterdir()) == ["d.csv", "d.names.json", "d.npy", "d.npz", "d.y.npy"]


def test_convert_a_target_that_turns_text_late(tmp_path, monkeypatch):
    lines = numbers(300).splitlines()
    lines[290] = lines[290].rsplit(",", 1)[0] + ",maybe"
    p = tmp_path / "d.csv"
    p.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 256)
    convert(str(p), str(tmp_path / "d.npz"), "y")
    y = np.load(tmp_path / "d.npz")["y"]
    assert y.dtype.kind == "U" and y[289] == "maybe" and y[0] in ("0", "1")
