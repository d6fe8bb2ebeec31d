"""Property-based tests: whatever the input, the config loader and the CSV reader give a result or
a clean NncliError (one message that names the file) — never another exception."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nncli.config import config_from_dict, load_config
from nncli.data.preprocess import Preprocessor
from nncli.data.csvread import read_csv, read_csv_stream
from nncli.errors import NncliError

SETTINGS = settings(max_examples=int(__import__("os").environ.get("NNCLI_HYPOTHESIS_EXAMPLES", 150)), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like YAML often enough to reach deep into the loader: keys of the config,
# YAML punctuation, anchors, aliases and tags, numbers, and arbitrary characters.
YAML_TOKENS = st.sampled_from([
    "name", "seed", "data", "model", "layers", "training", "units", "activation", "tanh", "relu", "softmax",
    "loss", "mse", "cross_entropy", "optimizer", "adam", "epochs", "batch_size", "full", "early_stopping",
    "schedule", "generator", "spirals", "path", ":", ": ", "- ", "\n", "\n  ", "\n    ", "{", "}", "[", "]", ",",
    "&a ", "*a", "<<: ", "!!python/object:os.system ", "!!str ", "!!int ", "!!binary ", "---", "...", "'", '"',
    "#", "?", "|", ">", "%YAML 1.1", "\t", "0", "-1", "1e-3", "3.5", ".nan", ".inf", "null", "~", "true", "9" * 30,
])
yaml_like = st.lists(st.one_of(YAML_TOKENS, st.text(max_size=5)), max_size=60).map("".join)

VALID = """name: p
data: {generator: {name: xor, n_samples: 8}}
model:
  layers:
    - {units: 3, activation: tanh}
    - {units: 1, activation: sigmoid}
training: {epochs: 1, loss: binary_crossentropy}
"""


def _load_text(text: str | bytes):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "c.yaml"
        p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        try:
            return load_config(p)
        except NncliError as exc:
            assert exc.message.strip(), "an error needs a message"
            assert str(p) in exc.message or "<" in exc.message, exc.message
            return exc


@SETTINGS
@given(yaml_like)
def test_config_loader_on_yaml_like_text(text):
    _load_text(text)


@SETTINGS
@given(st.binary(max_size=300))
def test_config_loader_on_arbitrary_bytes(data):
    _load_text(data)


@SETTINGS
@given(st.integers(0, len(VALID)), st.integers(0, len(VALID)), yaml_like)
def test_config_loader_on_damaged_valid_configs(i, j, insert):
    i, j = sorted((i, j))
    _load_text(VALID[:i] + insert + VALID[j:])


def test_the_valid_config_loads():
    assert _load_text(VALID).name == "p"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**30) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8) | st.sampled_from(
        ["name", "seed", "data", "model", "layers", "units", "activation", "training", "loss", "optimizer",
         "epochs", "batch_size", "generator", "dropout", "early_stopping", "schedule", "output"]), children, max_size=5),
    max_leaves=25)


@SETTINGS
@given(json_values)
def test_config_from_arbitrary_nested_data(data):
    try:
        config_from_dict(data if isinstance(data, dict) else {"model": data})
    except NncliError as exc:
        assert exc.message.strip()


@SETTINGS
@given(st.dictionaries(st.sampled_from(["units", "activation", "dropout", "initializer"]), json_values, max_size=4),
       st.dictionaries(st.sampled_from(["epochs", "batch_size", "loss", "optimizer", "schedule", "early_stopping",
                                        "l1", "l2", "clip_norm", "class_weight", "metrics", "checkpoint_every", "snapshots", "dtype"]),
                       json_values, max_size=5))
def test_config_with_arbitrary_layer_and_training_values(layer, training):
    try:
        config_from_dict({"model": {"layers": [layer]}, "training": training})
    except NncliError as exc:
        assert exc.message.strip()


# ---------------------------------------------------------------- the CSV reader
CSV_TOKENS = st.sampled_from([",", ",", ",", "\n", "\n", "\r\n", "\r", '"', '""', "x1", "x2", "y", "0", "1", "-2.5",
                              "1e999", "nan", "NA", "?", "inf", "-inf", " ", "\t", "a", "é", "\x00", "\ufeff", ";"])
csv_like = st.lists(st.one_of(CSV_TOKENS, st.text(max_size=4)), max_size=80).map("".join)


def _check_table(table, display):
    assert table.n_rows >= 1 and table.columns
    for name, col in table.columns.items():
        assert len(col) == table.n_rows == len(table.missing[name])
        assert col.dtype.kind in "fU"
    assert all(ln >= 2 for ln in table.lines)


@SETTINGS
@given(csv_like)
def test_csv_reader_on_csv_like_text(text):
    try:
        table = read_csv_stream(io.StringIO(text, newline=""), "<t>")
    except NncliError as exc:
        assert exc.message.startswith("<t>"), exc.message
        assert "\n" not in exc.message.strip()
        return
    _check_table(table, "<t>")


@SETTINGS
@given(st.binary(max_size=400))
def test_csv_reader_on_arbitrary_bytes(data):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f.csv"
        p.write_bytes(data)
        try:
            table = read_csv(p)
        except NncliError as exc:
            assert exc.message.startswith(str(p)), exc.message
            return
        _check_table(table, str(p))


@SETTINGS
@given(csv_like)
def test_features_from_any_table_are_finite_or_a_clean_error(text):
    """Past the reader: encoding the columns as features gives finite floats or a clean error."""
    try:
        table = read_csv_stream(io.StringIO(text, newline=""), "<t>")
    except NncliError:
        return
    pre = Preprocessor(task="regression", features=list(table.columns), targets=[])
    try:
        X = pre.encode_features(table)
    except NncliError as exc:
        assert exc.message.startswith("<t>:"), exc.message
        return
    assert X.shape == (table.n_rows, len(table.columns)) and np.isfinite(X).all()
