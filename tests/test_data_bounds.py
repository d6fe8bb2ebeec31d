"""Readers keep memory bounded whatever the input: a line without end (/dev/zero, a binary file,
an endless stream on stdin) stops at a line limit with one positioned line; an .npz whose headers
claim more than the file holds, or more than the machine has, is refused before it is inflated."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nncli.data import tables
from nncli.data.csvread import read_csv, read_csv_chunks, read_csv_stream
from nncli.data.tables import read_npz_xy
from nncli.errors import DataError

ROOT = Path(__file__).resolve().parent.parent
NUL = r"holds a NUL byte; this is not a text CSV \(a binary or damaged file\?\)"
zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")


@zero
def test_dev_zero_as_a_data_file_stops_at_the_line_limit():
    with pytest.raises(DataError, match=r"^/dev/zero:1: " + NUL + "$"):
        read_csv("/dev/zero")


@zero
def test_dev_zero_after_a_header_stops_at_its_line(tmp_path):
    with open("/dev/zero", "rb") as raw:
        stream = io.TextIOWrapper(_Prefixed(b"a,b\n1,2\n", raw), encoding="utf-8", newline="")
        with pytest.raises(DataError, match=r"^<stdin>:3: " + NUL + "$"):
            for _ in read_csv_chunks(stream, "<stdin>", chunk_rows=1):
                pass


def test_a_line_over_the_limit_is_one_positioned_error(monkeypatch):
    monkeypatch.setattr(tables, "MAX_LINE", 100)
    text = "a,b\n1,2\n" + "3," + "4" * 500 + "\n"
    with pytest.raises(DataError, match=r"^f\.csv:3: line is longer than 100 characters \(no line break\); "
                                        r"this is not a CSV with one row per line — check the file"):
        read_csv_stream(io.StringIO(text, newline=""), "f.csv")


def test_lines_up_to_the_limit_read_as_before(monkeypatch):
    monkeypatch.setattr(tables, "MAX_LINE", 8)
    t = read_csv_stream(io.StringIO("a,b\r\n1,2222\r\n\"3\",4\n5,6", newline=""), "f.csv")
    assert t.columns["b"].tolist() == [2222.0, 4.0, 6.0] and t.lines.tolist() == [2, 3, 4]


@zero
def test_predict_reading_dev_zero_on_stdin_fails_in_one_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NNCLI_DEBUG", None)
    run = tmp_path / "run"
    made = subprocess.run([sys.executable, "-m", "nncli", "train", str(ROOT / "configs/xor.yaml"), "--out", str(run),
                           "--quiet", "--set", "training.epochs=1"], capture_output=True, text=True, env=env, timeout=300)
    assert made.returncode == 0, made.stderr
    with open("/dev/zero", "rb") as stdin:
        r = subprocess.run([sys.executable, "-m", "nncli", "predict", str(run), "-"], stdin=stdin,
                           capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert "<stdin>:1: holds a NUL byte" in r.stderr


def _npz_with_header(path: Path, name: str, shape: tuple, payload: bytes, compress: bool) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr(name + ".npy", header.getvalue() + payload)
        other = io.BytesIO()
        np.save(other, np.zeros(4, np.int64))
        zf.writestr(("y" if name == "X" else "X") + ".npy", other.getvalue())


@pytest.mark.parametrize("compress", [True, False])
def test_npz_header_claiming_more_than_the_file_holds_is_refused_before_inflating(tmp_path, compress):
    path = tmp_path / "bomb.npz"
    _npz_with_header(path, "X", (10**13, 4), b"\0" * 64, compress)
    with pytest.raises(DataError, match=r"bomb\.npz: array 'X' claims shape \(10000000000000, 4\) \(160000000000000 "
                                        r"bytes\) but the file holds 64; damaged or truncated — write it again$"):
        read_npz_xy(path, str(path))


def test_npz_larger_than_memory_is_refused_with_the_memory_mapped_way(tmp_path, monkeypatch):
    path = tmp_path / "d.npz"
    np.savez_compressed(path, X=np.zeros((1000, 10), np.float32), y=np.zeros(1000))
    monkeypatch.setattr(tables, "memory_bytes", lambda: 10_000)
    with pytest.raises(DataError, match=r"d\.npz: its arrays need 46\.9 KiB in memory, more than this machine has "
                                        r"\(9\.8 KiB\); .* set data\.path and data\.y_path \(read memory-mapped\)$"):
        read_npz_xy(path, str(path))


def test_an_honest_compressed_npz_reads_as_before(tmp_path):
    path = tmp_path / "d.npz"
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.savez_compressed(path, X=X, y=np.array([0, 1, 0, 1]), features=np.array(["a", "b", "c"]))
    X2, y2, names = read_npz_xy(path, str(path))
    np.testing.assert_array_equal(X2, X)
    assert y2.tolist() == [0, 1, 0, 1] and names == ["a", "b", "c"]


class _Prefixed(io.RawIOBase):
    """A raw binary stream: ``prefix`` then everything of ``rest`` (like `cat prefix - < /dev/zero`)."""

    def __init__(self, prefix: bytes, rest):
        self.prefix, self.rest = prefix, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self.prefix:
            n = min(len(buf), len(self.prefix))
            buf[:n], self.prefix = self.prefix[:n], self.prefix[n:]
            return n
        data = self.rest.read(len(buf))
        buf[:len(data)] = data
        return len(data)


def test_targets_npy_whose_header_claims_terabytes_is_refused_before_allocating(tmp_path):
    from nncli.data.memmap import read_npy

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    (tmp_path / "y.npy").write_bytes(header.getvalue() + b"\0" * 64)
    with pytest.raises(DataError, match=r"y\.npy: truncated or damaged \.npy file \(its header claims shape "
                                        r"\(1000000000000,\), 8000000000000 bytes, but the file holds 64\); write it again$"):
        read_npy(tmp_path / "y.npy", str(tmp_path / "y.npy"))
    np.save(tmp_path / "ok.npy", np.arange(5))
    assert read_npy(tmp_path / "ok.npy", "ok.npy").tolist() == [0, 1, 2, 3, 4]
