"""The shape of nncli/data/: who imports whom, one scaling implementation for every source, one
label extraction for in-memory and memory-mapped data."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import numpy as np
import pytest

from nncli.config import config_from_dict
from nncli.data.memmap import MappedNpy, column_stats
from nncli.data.prepare import class_labels, prepare
from nncli.data.preprocess import SCALINGS, MatrixStats, Preprocessor
from nncli.errors import DataError

DATA = Path(__file__).resolve().parent.parent / "nncli" / "data"


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module relative to nncli.data, imported names) of every `from .x import ...` in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out.append((node.module or "", [a.name for a in node.names]))
    return out


def test_memmap_takes_only_readers_and_preprocessing_from_data():
    assert {m for m, _ in _imports(DATA / "memmap.py")} <= {"tables", "preprocess"}


def test_no_private_names_cross_data_modules():
    for path in DATA.glob("*.py"):
        for module, names in _imports(path):
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{path.name} imports {private} from .{module}"


def test_data_modules_form_no_cycle():
    graph = {p.stem: {m.split(".")[0] for m, _ in _imports(p) if m} for p in DATA.glob("*.py")}

    def reach(start, node, seen):
        for nxt in graph.get(node, ()):
            if nxt == start:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reach(start, nxt, seen):
                    return True
        return False

    assert not [m for m in graph if reach(m, m, set())]


def test_every_scaling_mode_is_offered_by_the_config_and_accepted_in_a_run():
    # A new mode is one entry in preprocess.SCALINGS; these two lists name it too (the config's
    # choices, the run directory check): a missed one fails here instead of at a user.
    from nncli.config.schema import DataConfig
    from nncli.run import checks

    offered = set(typing.get_args(DataConfig.model_fields["scaling"].annotation))
    assert offered == set(SCALINGS)
    assert set(checks.SCALINGS) == set(SCALINGS)


@pytest.mark.parametrize("mode", sorted(SCALINGS))
def test_streamed_statistics_scale_like_the_matrix_in_memory(tmp_path, mode):
    X = np.random.default_rng(3).normal(5.0, 3.0, size=(2000, 4))
    X[:, 2] = 7.0  # a constant column keeps scale 1
    np.save(tmp_path / "X.npy", X)
    rows = np.arange(len(X))
    streamed = Preprocessor("regression", ["a", "b", "c", "d"], ["y"], scaling=mode)
    streamed.fit_scaling_from(column_stats(MappedNpy(tmp_path / "X.npy", "X.npy"), rows, None, streamed.features))
    memory = Preprocessor("regression", ["a", "b", "c", "d"], ["y"], scaling=mode)
    memory.fit_scaling(X)
    np.testing.assert_allclose(streamed.offset, memory.offset, rtol=1e-12)
    np.testing.assert_allclose(streamed.scale, memory.scale, rtol=1e-12)
    assert memory.scale[2] == 1.0


def test_matrix_stats_compute_only_what_the_mode_reads():
    stats = MatrixStats(np.arange(6.0).reshape(3, 2))
    SCALINGS["standardize"](stats)
    assert "lo" not in vars(stats) and "hi" not in vars(stats)


def _cfg(tmp_path, data):
    return config_from_dict({"name": "t", "seed": 0, "data": data,
                             "model": {"layers": [{"units": 3, "activation": "softmax"}]},
                             "training": {"epochs": 1, "batch_size": 8, "loss": "cross_entropy",
                                          "optimizer": {"name": "sgd", "learning_rate": 0.1}}},
                            base_dir=tmp_path)


def test_memmap_and_npz_agree_on_labels_splits_and_scaling(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = np.repeat([2.0, 5.0, 9.0], 30)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    for scaling in sorted(SCALINGS):
        data = {"validation_split": 0.2, "test_split": 0.1, "scaling": scaling}
        lazy = prepare(_cfg(tmp_path, {"path": "X.npy", "y_path": "y.npy", **data}))
        eager = prepare(_cfg(tmp_path, {"path": "d.npz", **data}))
        assert lazy.preprocessor.classes == eager.preprocessor.classes == [2, 5, 9]
        np.testing.assert_array_equal(lazy.train.y, eager.train.y)
        np.testing.assert_array_equal(lazy.validation.y, eager.validation.y)
        np.testing.assert_allclose(lazy.preprocessor.offset, eager.preprocessor.offset, rtol=1e-12)
        np.testing.assert_allclose(lazy.preprocessor.scale, eager.preprocessor.scale, rtol=1e-12)
        np.testing.assert_allclose(lazy.train.X.to_array(), eager.train.X, rtol=1e-6)


def test_class_labels_are_sorted_plain_values_with_row_indices():
    classes, idx = class_labels(np.array(["b", "a", "c", "a"]), "f.csv: target column 'y'")
    assert classes == ["a", "b", "c"] and idx.tolist() == [1, 0, 2, 0] and idx.dtype == np.int64
    classes, idx = class_labels(np.array([1.0, 2.5, 1.0]), "y.npy:")
    assert classes == [1, 2.5] and idx.tolist() == [0, 1, 0]
    with pytest.raises(DataError, match=r"^y\.npy: has only one class \(1\); classification needs at least two$"):
        class_labels(np.array([1.0, 1.0]), "y.npy:")
