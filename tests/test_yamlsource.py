"""Tests for nncli.config.load, overrides and messages: positions, YAML errors, limits, overrides and error messages."""

from __future__ import annotations

import os
import textwrap
from typing import Annotated, Literal, Union

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nncli.errors import ConfigError
from nncli.config.load import MAX_DEPTH, Source, load_yaml, parse_yaml_text, source_from_data
from nncli.config.messages import did_you_mean, dotted, format_validation_error, located, position_prefix
from nncli.config.overrides import Override, apply_overrides, format_value, parse_override

# --- small models that mimic the planned config --------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Layer(Strict):
    units: int = Field(gt=0)
    activation: Literal["linear", "relu", "sigmoid", "tanh", "softmax"] = "linear"
    dropout: float = Field(0.0, ge=0, lt=1)


class Model(Strict):
    layers: list[Layer] = Field(min_length=1)


class SGD(Strict):
    name: Literal["sgd"]
    learning_rate: float = Field(0.01, gt=0)
    momentum: float = Field(0.0, ge=0, lt=1)


class Adam(Strict):
    name: Literal["adam"]
    learning_rate: float = Field(0.001, gt=0)


class Training(Strict):
    epochs: int = Field(100, gt=0)
    batch_size: Union[Annotated[int, Field(gt=0)], Literal["full"]] = 32
    optimizer: Annotated[Union[SGD, Adam], Field(discriminator="name")] = Field(
        default_factory=lambda: Adam(name="adam")
    )
    shuffle: bool = True
    metrics: list[str] = Field(default_factory=list)


class Data(Strict):
    path: str
    target: str
    validation_split: float = Field(0.2, ge=0, lt=1)

    @field_validator("path")
    @classmethod
    def _csv(cls, v: str) -> str:
        if not v.endswith(".csv"):
            raise ValueError(f"data file must be a .csv, got {v!r}")
        return v


class Config(Strict):
    name: str = "run"
    data: Data
    model: Model
    training: Training = Field(default_factory=Training)


GOOD = """\
name: xor
data:
  path: xor.csv
  target: y
model:
  layers:
    - {units: 8, activation: tanh}
    - units: 1
      activation: sigmoid
training:
  epochs: 10
  batch_size: full
  optimizer: {name: sgd, learning_rate: 0.1}
"""


def errors_for(text: str, overrides=(), *, model=Config, path="configs/xor.yaml") -> list[str]:
    src = parse_yaml_text(text, path)
    if overrides:
        src = apply_overrides(src, list(overrides))
    with pytest.raises(ValidationError) as info:
        model.model_validate(src.data)
    return format_validation_error(info.value, src, model)


def config_error(fn, *args) -> list[str]:
    with pytest.raises(ConfigError) as info:
        fn(*args)
    return info.value.messages


# --- parsing and positions ------------------------------------------------------------------


def test_good_config_parses_like_safe_load_with_positions():
    src = parse_yaml_text(GOOD, "configs/xor.yaml")
    assert isinstance(src, Source)
    assert src.path == "configs/xor.yaml"
    assert src.data == yaml.safe_load(GOOD)
    Config.model_validate(src.data)
    assert src.value_pos[()] == (1, 1)
    assert src.value_pos[("name",)] == (1, 7)
    assert src.key_pos[("data", "target")] == (4, 3)
    assert src.value_pos[("data", "target")] == (4, 11)
    assert src.value_pos[("model", "layers", 0)] == (7, 7)
    assert src.value_pos[("model", "layers", 0, "activation")] == (7, 30)
    assert src.key_pos[("model", "layers", 1, "activation")] == (9, 7)
    assert src.value_pos[("model", "layers", 1, "units")] == (8, 14)
    assert src.origins == {}


def test_scalars_resolve_like_safe_load_plus_exponent_floats():
    text = textwrap.dedent(
        """\
        a: 1
        b: 0.5
        c: 1.0e+3
        d: true
        e: null
        f: ~
        g: 'quoted'
        h: 0x10
        i: 1_000
        j: .inf
        k: 2020-01-02
        lr: 1e-3
        big: 1E5
        neg: -2.5e-2
        dot: .5e+2
        word: e5
        qs: "1e-3"
        ver: 1.2.3
        """
    )
    data = parse_yaml_text(text, "x.yaml").data
    expected = yaml.safe_load(text)
    for key in "abcdefghijk":
        assert data[key] == expected[key] and type(data[key]) is type(expected[key]), key
    assert data["lr"] == 0.001 and isinstance(data["lr"], float)
    assert data["big"] == 100000.0 and isinstance(data["big"], float)
    assert data["neg"] == -0.025
    assert data["dot"] == 50.0
    assert data["word"] == "e5"
    assert data["qs"] == "1e-3"  # quoted stays text
    assert data["ver"] == "1.2.3"


def test_load_yaml_reads_file(tmp_path):
    p = tmp_path / "xor.yaml"
    p.write_text(GOOD)
    src = load_yaml(p)
    assert src.path == str(p)
    assert src.data["training"]["optimizer"] == {"name": "sgd", "learning_rate": 0.1}


def test_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.yaml"
    p.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_yaml(p).data == {"a": 1}


def test_merge_keys_and_aliases():
    text = "base: &b {units: 4, activation: relu}\nlayer:\n  <<: *b\n  units: 8\nother: *b\n"
    src = parse_yaml_text(text, "m.yaml")
    assert src.data["layer"] == {"units": 8, "activation": "relu"}
    assert src.data["other"] == {"units": 4, "activation": "relu"}
    assert src.value_pos[("layer", "units")] == (4, 10)
    assert src.value_pos[("layer", "activation")] == (1, 33)
    src.data["other"]["units"] = 99  # aliases are copies, not shared objects
    assert src.data["base"]["units"] == 4


# --- YAML-level errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, line",
    [
        ("a: 1\nb:\n  c: d: e\n", "configs/bad.yaml:3:7: YAML syntax error: mapping values are not allowed here"),
        (
            "a: 1\nb: [1, 2\n",
            "configs/bad.yaml:3:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"
            " (while parsing a flow sequence at line 2, column 4)",
        ),
        (
            'a: "open\n',
            "configs/bad.yaml:2:1: YAML syntax error: found unexpected end of stream"
            " (while scanning a quoted scalar at line 1, column 4)",
        ),
        (
            "a:\n\t- 1\n",
            "configs/bad.yaml:2:1: YAML syntax error: found character '\\t' that cannot start any token"
            " (YAML does not allow tabs for indentation; use spaces)",
        ),
        (
            "a:\n  b: 1\n c: 2\n",
            "configs/bad.yaml:3:2: YAML syntax error: expected <block end>, but found '<block mapping start>'"
            " (while parsing a block mapping at line 1, column 1) — check the indentation of this line",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "configs/bad.yaml:2:1: YAML syntax error: more than one YAML document ('---') in the file;"
            " a config is one document",
        ),
        ("a: *nope\n", "configs/bad.yaml:1:4: YAML syntax error: found undefined alias 'nope'"),
        ("a: \x01\n", "configs/bad.yaml:1:4: YAML syntax error: unacceptable character #x0001 (control characters are not allowed in YAML)"),
    ],
)
def test_yaml_syntax_errors(text, line):
    assert config_error(parse_yaml_text, text, "configs/bad.yaml") == [line]


def test_duplicate_keys_all_reported():
    text = "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n"
    assert config_error(parse_yaml_text, text, "d.yaml") == [
        "d.yaml:4:3: b.c: duplicate key 'c' (first given on line 3) — remove one of them",
        "d.yaml:5:1: a: duplicate key 'a' (first given on line 1) — remove one of them",
    ]


@pytest.mark.parametrize(
    "text, line",
    [
        ("- 1\n- 2\n", "t.yaml:1:1: the top level of a config must be a mapping of 'key: value' lines, got a list"),
        ("hello\n", "t.yaml:1:1: the top level of a config must be a mapping of 'key: value' lines, got the single value 'hello'"),
        ("", "t.yaml: the config file is empty — write the config as 'key: value' lines (a YAML mapping)"),
        ("# just a comment\n\n", "t.yaml: the config file is empty — write the config as 'key: value' lines (a YAML mapping)"),
    ],
)
def test_top_level_must_be_a_mapping(text, line):
    assert config_error(parse_yaml_text, text, "t.yaml") == [line]


@pytest.mark.parametrize(
    "text, line",
    [
        ("a: !!python/object/apply:os.system [ls]\n", "u.yaml:1:4: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' (only plain YAML values are allowed)"),
        ("a: !!python/name:os.system x\n", "u.yaml:1:4: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system' (only plain YAML values are allowed)"),
        ("a: !custom 1\n", "u.yaml:1:4: unsupported YAML tag '!custom' (only plain YAML values are allowed)"),
        ("a: 2020-13-45\n", "u.yaml:1:4: invalid value '2020-13-45': month must be in 1..12"),
        ("a: !!int\n", "u.yaml:1:4: invalid value '': not a valid int"),
        ("a: !!float x\n", "u.yaml:1:4: invalid value 'x': could not convert string to float: 'x'"),
        ("a: !!binary abc\n", "u.yaml:1:4: failed to decode base64 data: Incorrect padding"),
        ("? [a, b]\n: 1\n", "u.yaml:1:3: mapping keys must be plain values, not lists or mappings"),
        ("a: &x [1, *x]\n", "u.yaml:1:4: a YAML alias refers to the collection that contains it (recursive alias)"),
    ],
)
def test_unsafe_or_invalid_values(text, line):
    assert config_error(parse_yaml_text, text, "u.yaml") == [line]


def test_billion_laughs_is_refused(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    p = tmp_path / "lol.yaml"
    p.write_text("\n".join(lines) + "\n")
    assert config_error(load_yaml, p) == [
        f"{p}: uses YAML aliases that expand to more than 100000 nodes; refusing to load it"
    ]


def test_many_plain_values_are_refused(monkeypatch):
    import nncli.config.load as ys

    monkeypatch.setattr(ys, "MAX_NODES", 1000)  # the real limit is exercised by billion laughs
    text = "a: [" + ", ".join(["1"] * 1001) + "]\n"
    assert config_error(parse_yaml_text, text, "big.yaml") == [
        "big.yaml: has more than 1000 values; refusing to load it (put data in a separate file)"
    ]


def test_deep_flow_nesting_is_refused():
    text = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    (msg,) = config_error(parse_yaml_text, text, "deep.yaml")
    assert msg == f"deep.yaml:1:{3 + MAX_DEPTH}: nested more than {MAX_DEPTH} levels deep; refusing to load it"


def test_deep_block_nesting_is_refused():
    text = "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n"
    (msg,) = config_error(parse_yaml_text, text, "deep.yaml")
    assert msg.startswith("deep.yaml:") and msg.endswith(f"nested more than {MAX_DEPTH} levels deep; refusing to load it")


def test_deep_nesting_through_aliases_is_refused():
    lines = ["a0: &a0 [1]"]
    for i in range(1, 60):
        lines.append(f"a{i}: &a{i} [[*a{i - 1}]]")
    (msg,) = config_error(parse_yaml_text, "\n".join(lines) + "\n", "alias.yaml")
    assert "nested more than 100 levels deep (through aliases)" in msg


def test_moderate_nesting_is_fine():
    text = "a: " + "[" * 50 + "1" + "]" * 50 + "\n"
    data = parse_yaml_text(text, "ok.yaml").data
    depth = 0
    cur = data["a"]
    while isinstance(cur, list):
        cur, depth = cur[0], depth + 1
    assert (depth, cur) == (50, 1)


# --- file errors ------------------------------------------------------------------------------


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config_error(load_yaml, "configs/nope.yaml") == [
        "configs/nope.yaml: config file not found — check the path (relative paths are resolved"
        f" from the current directory {tmp_path})"
    ]


def test_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("configs")
    (tmp_path / "configs" / "xor.yaml").write_text(GOOD)
    assert config_error(load_yaml, "configs") == [
        "configs: is a directory, not a config file — give the path of a .yaml file (e.g. configs/xor.yaml)"
    ]


def test_unreadable_file(tmp_path, monkeypatch):
    import nncli.config.load as ys

    p = tmp_path / "secret.yaml"
    p.write_text(GOOD)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ys, "open", denied, raising=False)  # works even when running as root
    assert config_error(load_yaml, p) == [
        f"{p}: cannot read the config file (permission denied) — check its permissions"
    ]


def test_empty_file(tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("")
    assert config_error(load_yaml, p) == [
        f"{p}: the config file is empty — write the config as 'key: value' lines (a YAML mapping)"
    ]


def test_two_mib_file_is_refused(tmp_path):
    p = tmp_path / "huge.yaml"
    p.write_text("a: " + "x" * (2 * 1024 * 1024) + "\n")
    assert config_error(load_yaml, p) == [
        f"{p}: is 2.0 MiB; config files over 1 MiB are refused — is this really the config file?"
        " (put data in a separate file and refer to it)"
    ]


def test_huge_text_is_refused():
    (msg,) = config_error(parse_yaml_text, "a: " + "x" * (2 * 1024 * 1024), "t.yaml")
    assert msg.startswith("t.yaml: is larger than 1 MiB; config files over 1 MiB are refused")


def test_not_utf8(tmp_path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes(b"a: 1\nname: caf\xe9\n")
    assert config_error(load_yaml, p) == [
        f"{p}:2:10: not UTF-8 text (byte 0xe9) — save the config file as UTF-8"
    ]


# --- overrides ----------------------------------------------------------------------------------


def base() -> Source:
    return parse_yaml_text(GOOD, "configs/xor.yaml")


def test_overrides_set_values_and_leave_input_untouched():
    src = base()
    before = (yaml.safe_dump(src.data), dict(src.value_pos), dict(src.key_pos), dict(src.origins))
    new = apply_overrides(
        src,
        [
            "training.optimizer.learning_rate=0.01",
            "model.layers.0.units=32",
            "model.layers.1.activation=relu",
            "training.epochs=1e3",
            "training.metrics=[accuracy, f1]",
            "name=null",
            "data.target = label",
        ],
    )
    assert before == (yaml.safe_dump(src.data), dict(src.value_pos), dict(src.key_pos), dict(src.origins))
    assert new.data["training"]["optimizer"]["learning_rate"] == 0.01
    assert new.data["model"]["layers"][0]["units"] == 32
    assert new.data["model"]["layers"][1]["activation"] == "relu"
    assert new.data["training"]["epochs"] == 1000.0
    assert new.data["training"]["metrics"] == ["accuracy", "f1"]
    assert new.data["name"] is None
    assert new.data["data"]["target"] == " label"[1:]
    assert new.origins[("model", "layers", 0, "units")] == "--set model.layers.0.units=32"
    assert new.origins[("training", "metrics")] == "--set training.metrics=[accuracy, f1]"
    assert new.origins[("training", "metrics", 1)] == "--set training.metrics=[accuracy, f1]"
    assert ("model", "layers", 0, "units") not in new.value_pos
    assert new.value_pos[("model", "layers", 0, "activation")] == (7, 30)  # untouched sibling


def test_override_creates_missing_mappings():
    src = parse_yaml_text("training:\n  epochs: 3\n", "c.yaml")
    new = apply_overrides(src, ["training.optimizer.momentum=0.9", "training.optimizer.name=sgd"])
    assert new.data["training"]["optimizer"] == {"momentum": 0.9, "name": "sgd"}
    assert new.origins[("training", "optimizer")] == "--set training.optimizer.momentum=0.9"
    assert new.origins[("training", "optimizer", "name")] == "--set training.optimizer.name=sgd"
    # an empty (null) value is replaced by a mapping too
    src = parse_yaml_text("training:\n  optimizer:\n", "c.yaml")
    assert apply_overrides(src, ["training.optimizer.name=adam"]).data["training"]["optimizer"] == {"name": "adam"}


def test_later_overrides_win():
    new = apply_overrides(base(), ["training.epochs=5", "training.epochs=7"])
    assert new.data["training"]["epochs"] == 7
    assert new.origins[("training", "epochs")] == "--set training.epochs=7"


@pytest.mark.parametrize(
    "item, line",
    [
        ("model.layers.5.units=3", "--set model.layers.5.units=3: model.layers has 2 items (indices 0-1)"),
        ("model.layers.x.units=3", "--set model.layers.x.units=3: model.layers is a list; use an index 0-1 instead of 'x'"),
        ("model.0.units=3", "--set model.0.units=3: model is a mapping, not a list, and has no key '0'"),
        ("training.epochs.max=3", "--set training.epochs.max=3: training.epochs is 10 (a number), not a mapping or list, so it has no key 'max'"),
        ("name.0=3", "--set name.0=3: name is 'xor' (text), not a mapping or list, so it has no item '0'"),
        ("training.schedule.0=3", "--set training.schedule.0=3: training.schedule does not exist, so it cannot be indexed; set the whole list instead"),
        ("no equals sign", "--set no equals sign: expected dotted.path=value (for example training.epochs=50); there is no '='"),
        ("=3", "--set =3: nothing before '='; write dotted.path=value (for example training.epochs=50)"),
        ("training..epochs=3", "--set training..epochs=3: empty part in the path 'training..epochs'; parts are separated by single dots"),
        ("training.epochs=", "--set training.epochs=: no value after '='; write training.epochs=null to clear it"),
        (
            "model.layers=[1, 2",
            "--set model.layers=[1, 2: the value is not valid YAML (expected ',' or ']', but got '<stream end>');"
            " quote text containing ': ', '#', '[' or '{'",
        ),
        ("name=!!python/name:os.system", "--set name=!!python/name:os.system: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system' (only plain YAML values are allowed)"),
        ("x=" + "[" * 200 + "]" * 200, "--set x=" + "[" * 200 + "]" * 200 + ": the value is nested more than 100 levels deep; refusing to load it"),
        ("data={a: 1, a: 2}", "--set data={a: 1, a: 2}: data.a: duplicate key 'a' — remove one of them"),
    ],
)
def test_override_errors(item, line):
    assert config_error(apply_overrides, base(), [item]) == [line]


def test_override_index_into_one_and_empty_lists():
    src = parse_yaml_text("a: [1]\nb: []\n", "l.yaml")
    assert config_error(apply_overrides, src, ["a.1=2"]) == ["--set a.1=2: a has 1 item (indices 0)"]
    assert config_error(apply_overrides, src, ["b.0=2"]) == ["--set b.0=2: b is an empty list, so it has no item 0"]


def test_override_values_are_yaml_scalars():
    new = apply_overrides(
        base(),
        ["a=0.01", "b=relu", "c=[8,8]", "d=null", "e=true", "f='007'", "g={x: 1}", "h=1e-4", "i=a=b"],
    )
    assert {k: new.data[k] for k in "abcdefghi"} == {
        "a": 0.01, "b": "relu", "c": [8, 8], "d": None, "e": True, "f": "007", "g": {"x": 1},
        "h": 0.0001, "i": "a=b",
    }


# --- did_you_mean ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word, choices, expected",
    [
        ("activaton", ["units", "activation", "dropout"], "activation"),
        ("relu6", ["linear", "relu", "sigmoid", "tanh", "leaky_relu", "softmax"], "relu"),
        ("adamm", ["sgd", "adam", "adamw", "rmsprop", "adagrad"], "adam"),
        ("lerning_rate", ["name", "learning_rate", "momentum"], "learning_rate"),
        ("ReLU", ["linear", "relu"], "relu"),
        ("Adam", ["sgd", "adam"], "adam"),
        ("xyzzy", ["linear", "relu", "sigmoid"], None),
        ("a", ["units", "activation"], None),
        ("anything", [], None),
        (5, ["5", "6"], "5"),
    ],
)
def test_did_you_mean(word, choices, expected):
    assert did_you_mean(word, choices) == expected


# --- validation error formatting -------------------------------------------------------------------

BAD = """\
name: 123
data:
  path: xor.txt
model:
  layers:
    - {units: 8, activation: relu6}
    - units: ten
      activaton: sigmoid
      dropout: 1.5
training:
  epochs: -3
  batch_size: ful
  shuffle: maybe
  metrics: accuracy
  optimizer:
    name: sgd
    learning_rate: -0.1
    momentu: 0.9
"""


def test_all_errors_sorted_with_positions():
    assert errors_for(BAD) == [
        "configs/xor.yaml:1:7: name: expected text, got 123 — put it in quotes: '123'",
        "configs/xor.yaml:2:1: data: missing required key 'target'",
        "configs/xor.yaml:3:9: data.path: data file must be a .csv, got 'xor.txt'",
        "configs/xor.yaml:6:30: model.layers[0].activation: unknown value 'relu6' — did you mean 'relu'?"
        " (allowed: linear, relu, sigmoid, tanh, softmax)",
        "configs/xor.yaml:7:14: model.layers[1].units: expected an integer, got 'ten'",
        "configs/xor.yaml:8:7: model.layers[1].activaton: unknown key — did you mean 'activation'?",
        "configs/xor.yaml:9:16: model.layers[1].dropout: must be < 1, got 1.5",
        "configs/xor.yaml:11:11: training.epochs: must be > 0, got -3",
        "configs/xor.yaml:12:15: training.batch_size: expected an integer or 'full', got 'ful' — did you mean 'full'?",
        "configs/xor.yaml:13:12: training.shuffle: expected true or false, got 'maybe'",
        "configs/xor.yaml:14:12: training.metrics: expected a list, got 'accuracy'",
        "configs/xor.yaml:17:20: training.optimizer.learning_rate: must be > 0, got -0.1",
        "configs/xor.yaml:18:5: training.optimizer.momentu: unknown key — did you mean 'momentum'?",
    ]


def test_unknown_key_without_close_match_lists_allowed_keys():
    text = GOOD.replace("  target: y\n", "  target: y\n  zzz: 1\n")
    assert errors_for(text) == [
        "configs/xor.yaml:5:3: data.zzz: unknown key (allowed: path, target, validation_split)"
    ]


def test_unknown_key_without_model_class():
    src = parse_yaml_text(GOOD.replace("name: xor", "nmae: xor"), "c.yaml")
    with pytest.raises(ValidationError) as info:
        Config.model_validate(src.data)
    assert format_validation_error(info.value, src) == ["c.yaml:1:1: nmae: unknown key"]


def test_unknown_top_level_key():
    assert errors_for(GOOD + "traning: {}\n") == [
        "configs/xor.yaml:14:1: traning: unknown key — did you mean 'training'?"
    ]


def test_discriminated_union_bad_tag_points_at_name():
    text = GOOD.replace("{name: sgd, learning_rate: 0.1}", "{name: adamm, learning_rate: 0.1}")
    assert errors_for(text) == [
        "configs/xor.yaml:13:21: training.optimizer.name: unknown value 'adamm' — did you mean 'adam'?"
        " (allowed: sgd, adam)"
    ]


def test_discriminated_union_missing_tag():
    text = GOOD.replace("{name: sgd, learning_rate: 0.1}", "{learning_rate: 0.1}")
    assert errors_for(text) == [
        "configs/xor.yaml:13:3: training.optimizer: missing required key 'name' (one of: sgd, adam)"
    ]


def test_discriminated_union_given_as_string():
    text = GOOD.replace("{name: sgd, learning_rate: 0.1}", "adam")
    assert errors_for(text) == [
        "configs/xor.yaml:13:14: training.optimizer: expected a mapping, got 'adam' — write {name: adam}"
    ]


def test_union_with_constraint_gives_one_constraint_message():
    text = GOOD.replace("batch_size: full", "batch_size: -4")
    assert errors_for(text) == ["configs/xor.yaml:12:15: training.batch_size: must be > 0, got -4"]


def test_union_with_float_gives_one_message():
    text = GOOD.replace("batch_size: full", "batch_size: 2.5")
    assert errors_for(text) == [
        "configs/xor.yaml:12:15: training.batch_size: expected an integer or 'full', got 2.5"
    ]


def test_missing_sections_and_empty_values():
    text = "name: x\nmodel:\n  layers: []\n"
    assert errors_for(text) == [
        "configs/xor.yaml:1:1: (top level): missing required key 'data'",
        "configs/xor.yaml:3:11: model.layers: must have at least 1 item, got 0",
    ]
    text = GOOD.replace("    - units: 1\n", "    - units:\n")
    assert errors_for(text) == [
        "configs/xor.yaml:8:13: model.layers[1].units: expected an integer, got nothing (the value is empty/null)"
    ]


def test_missing_key_in_flow_list_item():
    text = GOOD.replace("{units: 8, activation: tanh}", "{activation: tanh}")
    assert errors_for(text) == [
        "configs/xor.yaml:7:7: model.layers[0]: missing required key 'units'"
    ]


def test_errors_on_overridden_values_name_the_override():
    lines = errors_for(
        GOOD,
        [
            "training.optimizer.learning_rate=-1",
            "model.layers.1={units: 0, activaton: relu}",
            "data={path: a.csv}",
            "training.optimizer.nesterov=true",
        ],
    )
    assert lines == [
        "--set training.optimizer.learning_rate=-1: training.optimizer.learning_rate: must be > 0, got -1",
        "--set model.layers.1={units: 0, activaton: relu}: model.layers[1].units: must be > 0, got 0",
        "--set model.layers.1={units: 0, activaton: relu}: model.layers[1].activaton: unknown key"
        " — did you mean 'activation'?",
        "--set data={path: a.csv}: data: missing required key 'target'",
        "--set training.optimizer.nesterov=true: training.optimizer.nesterov: unknown key"
        " (allowed: name, learning_rate, momentum)",
    ]


def test_file_and_override_errors_together():
    lines = errors_for(GOOD.replace("epochs: 10", "epochs: 0"), ["training.optimizer.name=rmsprop"])
    assert lines == [
        "configs/xor.yaml:11:11: training.epochs: must be > 0, got 0",
        "--set training.optimizer.name=rmsprop: training.optimizer.name: unknown value 'rmsprop'"
        " (allowed: sgd, adam)",
    ]


def test_duplicates_are_removed():
    class Both(Strict):
        a: int
        b: int

    src = parse_yaml_text("a: x\nb: y\n", "d.yaml")
    with pytest.raises(ValidationError) as info:
        Both.model_validate(src.data)
    out = format_validation_error(info.value, src, Both)
    assert out == ["d.yaml:1:4: a: expected an integer, got 'x'", "d.yaml:2:4: b: expected an integer, got 'y'"]


def test_validation_error_for_in_memory_data():
    src = apply_overrides(source_from_data({"data": {"path": "a.csv", "target": "y"}}, "<dict>"),
                          ["model.layers=[]"])
    with pytest.raises(ValidationError) as info:
        Config.model_validate(src.data)
    assert format_validation_error(info.value, src, Config) == [
        "--set model.layers=[]: model.layers: must have at least 1 item, got 0"
    ]
    src = source_from_data({"data": {"path": "a.csv", "target": 3}, "model": {"layers": [{"units": 1}]}})
    with pytest.raises(ValidationError) as info:
        Config.model_validate(src.data)
    assert format_validation_error(info.value, src, Config) == [
        "<config>: data.target: expected text, got 3 — put it in quotes: '3'"
    ]


def test_enum_and_other_types():
    import enum

    class Scaling(str, enum.Enum):
        standardize = "standardize"
        minmax = "minmax"
        none = "none"

    class M(Strict):
        scaling: Scaling = Scaling.standardize
        ratio: float = Field(0.5, multiple_of=0.25)
        mapping: dict[str, int] = Field(default_factory=dict)
        tag: str = Field("abc", min_length=2)

    text = "scaling: standardise\nratio: 0.3\nmapping: [1]\ntag: a\n"
    assert errors_for(text, model=M, path="e.yaml") == [
        "e.yaml:1:10: scaling: unknown value 'standardise' — did you mean 'standardize'?"
        " (allowed: standardize, minmax, none)",
        "e.yaml:2:8: ratio: must be a multiple of 0.25, got 0.3",
        "e.yaml:3:10: mapping: expected a mapping, got a list",
        "e.yaml:4:6: tag: must have at least 2 characters, got 'a'",
    ]


# --- position helpers ----------------------------------------------------------------------------


def test_position_prefix_and_located():
    src = apply_overrides(base(), ["training.optimizer.learning_rate=0.5"])
    assert position_prefix(src, ("model", "layers", 1, "units")) == "configs/xor.yaml:8:14"
    assert position_prefix(src, ("model", "layers", 1, "activation"), key=True) == "configs/xor.yaml:9:7"
    assert position_prefix(src, ("model", "layers", 1, "nope")) == "configs/xor.yaml:8:7"
    assert position_prefix(src, ["training", "optimizer", "learning_rate"]) == "--set training.optimizer.learning_rate=0.5"
    assert position_prefix(src, ("training", "optimizer", "name")) == "configs/xor.yaml:13:21"
    assert located(src, ("model", "layers", 1, "units"), "last layer has 1 unit but the data has 3 classes") == (
        "configs/xor.yaml:8:14: model.layers[1].units: last layer has 1 unit but the data has 3 classes"
    )
    assert position_prefix(source_from_data({"a": 1}, "<dict>"), ("a",)) == "<dict>"
    assert dotted(("model", "layers", 0, "units")) == "model.layers[0].units"
    assert dotted(()) == "(top level)"


# --- robustness ------------------------------------------------------------------------------------

YAMLISH = st.text(
    alphabet=st.sampled_from(list("ab01 .:-[]{}&*!|>'\"%@`#,?\n\t=~<+eE\\") + ["\x00", "é", "\ufeff", "\u2028"]),
    max_size=80,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(YAMLISH, st.text(max_size=80)))
def test_arbitrary_text_gives_source_or_config_error(text):
    try:
        src = parse_yaml_text(text, "fuzz.yaml")
    except ConfigError as exc:
        assert exc.messages and all(m.startswith("fuzz.yaml") and "\n" not in m for m in exc.messages)
    else:
        assert isinstance(src.data, dict)


@settings(max_examples=300, deadline=None)
@given(st.one_of(YAMLISH, st.text(max_size=40)))
def test_arbitrary_overrides_give_source_or_config_error(item):
    try:
        new = apply_overrides(base(), [item])
    except ConfigError as exc:
        assert exc.messages and all(m.startswith("--set ") for m in exc.messages)
    else:
        assert isinstance(new.data, dict)


# --- overrides as values (sweeps) and the one value parser ----------------------------------


@pytest.mark.parametrize(
    "value", [0.1, 1e-5, 3e20, 1.5e-7, 8, True, None, "tanh", "1e-3", "yes", [8, 8], {"name": "adam", "learning_rate": 0.01}]
)
def test_format_value_round_trips_through_yaml(value):
    assert yaml.safe_load(format_value(value)) == value
    assert parse_override(f"a.b={format_value(value)}").value == value


def test_an_override_built_from_a_value_equals_the_parsed_text():
    src = parse_yaml_text("model:\n  layers:\n    - {units: 4}\n", "c.yaml")
    built = apply_overrides(src, [Override("model.layers.0.units", 8)])
    parsed = apply_overrides(src, ["model.layers.0.units=8"])
    assert built.data == parsed.data == {"model": {"layers": [{"units": 8}]}}
    assert built.origins == parsed.origins == {("model", "layers", 0, "units"): "--set model.layers.0.units=8"}
    assert str(Override("training.optimizer.learning_rate", 1e-5)) == "training.optimizer.learning_rate=1.0e-05"
    assert src.data == {"model": {"layers": [{"units": 4}]}}  # input untouched


def test_a_structured_override_is_named_in_messages_like_the_text():
    src = parse_yaml_text("model:\n  layers: []\n", "c.yaml")
    with pytest.raises(ConfigError) as e:
        apply_overrides(src, [Override("model.layers.2.units", 8)])
    assert str(e.value) == "--set model.layers.2.units=8: model.layers is an empty list, so it has no item 2"
