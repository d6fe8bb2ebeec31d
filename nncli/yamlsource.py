"""INTERIM minimal version; replaced by the full position-keeping loader (branch yamlsource)."""
from __future__ import annotations
import difflib
from dataclasses import dataclass, field
import yaml
from .errors import ConfigError


@dataclass
class Source:
    path: str
    data: object
    value_pos: dict = field(default_factory=dict)
    key_pos: dict = field(default_factory=dict)
    origins: dict = field(default_factory=dict)


def load_yaml(path):
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}")
    return parse_yaml_text(text, path)


def parse_yaml_text(text, display_path):
    return Source(display_path, yaml.safe_load(text))


def apply_overrides(source, overrides):
    import copy
    data = copy.deepcopy(source.data)
    for item in overrides:
        key, _, value = item.partition("=")
        parts = key.split(".")
        node = data
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        last = parts[-1]
        v = yaml.safe_load(value)
        if isinstance(node, list):
            node[int(last)] = v
        else:
            node[last] = v
    return Source(source.path, data)


def did_you_mean(word, choices):
    m = difflib.get_close_matches(str(word).lower(), [str(c) for c in choices], n=1, cutoff=0.6)
    return m[0] if m else None


def position_prefix(source, path):
    return source.path


def format_validation_error(exc, source):
    return [f"{source.path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
