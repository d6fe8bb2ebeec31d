"""Tests for nncli.data.generators and the bundled CSVs in datasets/."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from nncli.data import generators as g

DATASETS = Path(__file__).resolve().parent.parent / "datasets"

N_CLASSES = {"xor": 2, "spirals": 3, "moons": 2, "circles": 2, "blobs": 3}
ALL = sorted(g.GENERATORS)


def make(name: str, seed: int = 0, **kw):
    return g.generate(g.get(name).params_model(**kw), np.random.default_rng(seed))


# --------------------------------------------------------------------------- registry / API


def test_registry_has_every_generator():
    assert set(ALL) == {"xor", "line", "linear", "sine", "spirals", "moons", "circles", "blobs"}
    for name, spec in g.GENERATORS.items():
        assert spec.params_model().name == name
        assert spec.task == ("classification" if name in N_CLASSES else "regression")
        assert spec.target_name == "y"


def test_get_unknown_lists_names():
    with pytest.raises(KeyError) as e:
        g.get("nope")
    for name in ALL:
        assert name in str(e.value)


def test_discriminated_union_picks_model_by_name():
    ta = TypeAdapter(g.GeneratorParams)
    p = ta.validate_python({"name": "spirals", "classes": 4, "n_samples": 40})
    assert isinstance(p, g.SpiralsParams) and p.classes == 4
    with pytest.raises(ValidationError):
        ta.validate_python({"name": "nope"})
    # a key belonging to another generator is rejected, not silently dropped
    with pytest.raises(ValidationError):
        ta.validate_python({"name": "moons", "factor": 0.3})


def test_generate_accepts_dict_and_int_seed():
    X1, y1 = g.generate({"name": "moons", "n_samples": 30}, 5)
    X2, y2 = make("moons", seed=5, n_samples=30)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_feature_names():
    assert g.get("xor").feature_names(g.XorParams()) == ["x1", "x2"]
    assert g.get("line").feature_names(g.LineParams()) == ["x"]
    assert g.get("blobs").feature_names(g.BlobsParams(dimensions=4)) == ["x1", "x2", "x3", "x4"]


# --------------------------------------------------------------------------- every generator


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("n", [7, 500])
def test_shapes_and_dtypes(name, n):
    spec = g.get(name)
    params = spec.params_model(n_samples=n)
    X, y = g.generate(params, np.random.default_rng(0))
    assert X.dtype == np.float64 and X.shape == (n, len(spec.feature_names(params)))
    if spec.task == "classification":
        assert y.dtype == np.int64 and y.shape == (n,)
    else:
        assert y.dtype == np.float64 and y.shape == (n, 1)
    assert np.isfinite(X).all() and np.isfinite(y).all()


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_arrays_other_seed_differs(name):
    X1, y1 = make(name, seed=42)
    X2, y2 = make(name, seed=42)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make(name, seed=43)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", sorted(N_CLASSES))
@pytest.mark.parametrize("n", [6, 7, 500, 501])
def test_labels_cover_all_classes_and_are_balanced(name, n):
    _, y = make(name, n_samples=n)
    counts = np.bincount(y)
    assert len(counts) == N_CLASSES[name]
    assert counts.min() >= 1 and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", sorted(N_CLASSES))
def test_rows_are_shuffled(name):
    # the last 20% (a typical validation split) must not be one class
    _, y = make(name, n_samples=500)
    assert len(np.unique(y[-100:])) == N_CLASSES[name]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "bad",
    [{"n_samples": 0}, {"n_samples": -3}, {"n_samples": 2.5}, {"bogus": 1}, {"name": "other"}],
)
def test_params_reject_bad_values(name, bad):
    with pytest.raises(ValidationError):
        g.get(name).params_model(**bad)


@pytest.mark.parametrize("name", [n for n in ALL if n != "blobs"])
def test_negative_noise_rejected(name):
    with pytest.raises(ValidationError):
        g.get(name).params_model(noise=-0.1)


@pytest.mark.parametrize(
    "model, bad",
    [
        (g.LineParams, {"low": 2, "high": 2}),
        (g.SineParams, {"low": 1, "high": -1}),
        (g.SpiralsParams, {"classes": 1}),
        (g.SpiralsParams, {"turns": 0}),
        (g.SpiralsParams, {"classes": 5, "n_samples": 4}),
        (g.CirclesParams, {"factor": 1.0}),
        (g.CirclesParams, {"factor": 0}),
        (g.BlobsParams, {"spread": 0}),
        (g.BlobsParams, {"centers": 1}),
        (g.BlobsParams, {"dimensions": 0}),
        (g.BlobsParams, {"center_box": -1}),
        (g.BlobsParams, {"noise": 0.1}),  # blobs has `spread`, not `noise`
        (g.XorParams, {"n_samples": 3}),
    ],
)
def test_specific_params_rejected(model: type[BaseModel], bad):
    with pytest.raises(ValidationError):
        model(**bad)


# --------------------------------------------------------------------------- geometry


def test_xor_points_cluster_at_corners_with_xor_label():
    X, y = make("xor", n_samples=400, noise=0.0)
    corners = X.astype(np.int64)
    np.testing.assert_array_equal(X, corners)
    np.testing.assert_array_equal(y, corners[:, 0] ^ corners[:, 1])
    assert Counter(map(tuple, corners)) == {(0, 0): 100, (0, 1): 100, (1, 0): 100, (1, 1): 100}
    # with noise, rounding still recovers the corner for nearly every point
    X, y = make("xor", n_samples=400, noise=0.1)
    r = np.clip(np.rint(X), 0, 1).astype(np.int64)
    assert np.mean((r[:, 0] ^ r[:, 1]) == y) > 0.99


def test_line_least_squares_recovers_slope_and_intercept():
    X, y = make("line", n_samples=2000, noise=0.1)
    A = np.column_stack((X[:, 0], np.ones(len(X))))
    slope, intercept = np.linalg.lstsq(A, y[:, 0], rcond=None)[0]
    assert abs(slope - 3.0) < 0.05 and abs(intercept - 2.0) < 0.05
    assert X.min() >= -2 and X.max() <= 2
    resid = y[:, 0] - (3.0 * X[:, 0] + 2.0)
    assert abs(resid.std() - 0.1) < 0.01


def test_line_custom_params():
    X, y = make("line", n_samples=50, slope=-1.5, intercept=0.5, low=10, high=11, noise=0.0)
    assert X.min() >= 10 and X.max() <= 11
    np.testing.assert_allclose(y[:, 0], -1.5 * X[:, 0] + 0.5)


def test_linear_recovers_generating_weights_and_bias():
    p = g.LinearParams(weights=[1.5, -2.0, 0.25], bias=-0.5, noise=0.0, n_samples=50)
    X, y = g.generate(p, 3)
    assert X.shape == (50, 3) and g.get("linear").feature_names(p) == ["x1", "x2", "x3"]
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, y[:, 0], rcond=None)
    np.testing.assert_allclose(coef, [1.5, -2.0, 0.25, -0.5], atol=1e-10)


def test_sine_matches_sin_at_zero_noise():
    X, y = make("sine", n_samples=300, noise=0.0)
    np.testing.assert_allclose(y[:, 0], np.sin(X[:, 0]))
    assert X.min() >= -np.pi and X.max() <= np.pi


def test_circles_radii():
    X, y = make("circles", n_samples=400, noise=0.0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    # with noise the mean radius per class stays near 1 and factor
    X, y = make("circles", n_samples=2000, noise=0.05, factor=0.5)
    r = np.hypot(X[:, 0], X[:, 1])
    assert abs(r[y == 0].mean() - 1.0) < 0.02 and abs(r[y == 1].mean() - 0.5) < 0.02


def test_moons_half_circles():
    X, y = make("moons", n_samples=300, noise=0.0)
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0)
    assert (outer[:, 1] >= -1e-12).all()  # upper half
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0)
    assert (inner[:, 1] <= 0.5 + 1e-12).all()  # lower half


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_spirals_arms(classes):
    n = 120 * classes
    X, y = make("spirals", n_samples=n, classes=classes, noise=0.0, turns=1.5)
    assert (np.bincount(y) == n // classes).all()
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() >= 0 and r.max() <= 1 + 1e-12
    # at noise 0 the angle along arm k is 2*pi*(turns*r + k/classes)
    expected = 2 * np.pi * (1.5 * r + y / classes)
    diff = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - expected)))
    far = r > 1e-9  # the angle at the origin is undefined
    np.testing.assert_allclose(diff[far], 0.0, atol=1e-9)


def test_blobs_clusters():
    X, y = make("blobs", n_samples=3000, centers=4, dimensions=3, spread=0.5, center_box=5)
    assert X.shape == (3000, 3) and set(np.unique(y)) == {0, 1, 2, 3}
    for k in range(4):
        pts = X[y == k]
        assert (np.abs(pts.mean(axis=0)) <= 5 + 0.1).all()
        assert abs(pts.std(axis=0).mean() - 0.5) < 0.05


# --------------------------------------------------------------------------- bundled CSVs


def read_csv(name: str) -> tuple[list[str], list[list[str]]]:
    with open(DATASETS / name, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_iris_csv():
    header, rows = read_csv("iris.csv")
    assert header == ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    assert len(rows) == 150
    assert Counter(r[4] for r in rows) == {"setosa": 50, "versicolor": 50, "virginica": 50}
    values = np.array([[float(v) for v in r[:4]] for r in rows])
    assert values.min() > 0 and values.max() < 8


def test_digits_csv():
    header, rows = read_csv("digits.csv")
    assert header == [f"p{i}" for i in range(64)] + ["digit"]
    assert len(rows) == 1797
    values = np.array([[int(v) for v in r] for r in rows])  # int() fails on any non-integer
    assert values[:, :64].min() == 0 and values[:, :64].max() == 16
    counts = Counter(values[:, 64].tolist())
    assert sorted(counts) == list(range(10))
    assert min(counts.values()) >= 170


def test_xor_csv():
    header, rows = read_csv("xor.csv")
    assert header == ["x1", "x2", "y"]
    assert [tuple(map(int, r)) for r in rows] == [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]


def test_line_csv():
    header, rows = read_csv("line.csv")
    assert header == ["x", "y"] and len(rows) == 200
    assert all(len(v.split(".")[1]) == 6 for r in rows for v in r)
    xy = np.array(rows, dtype=float)
    assert xy[:, 0].min() >= -2 and xy[:, 0].max() <= 2
    slope, intercept = np.polyfit(xy[:, 0], xy[:, 1], 1)
    assert abs(slope - 3) < 0.05 and abs(intercept - 2) < 0.05
