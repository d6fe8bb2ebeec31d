"""The config: positioned YAML loading, the pydantic schema, cross-field checks, messages.

``Config``, ``load_config`` and ``config_from_dict`` are the public face; the rest lives in the
submodules.
"""

from .schema import Config, config_from_dict, load_config

__all__ = ["Config", "config_from_dict", "load_config"]
