"""Training configs: small TOML files, one per shipped model."""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from .fast import FastConfig, train_fast

REPO_ROOT = Path(__file__).resolve().parent.parent
# Config class per model kind. The neural kind is named by "module:Class" and imported only
# when a config asks for it, so that the fast tier never imports torch.
_KINDS: dict[str, type | str] = {"fast-linear": FastConfig, "neural-e5": "training.neural:NeuralConfig",
                                  "cascade": "training.cascade:CascadeConfig"}
# The function that trains each kind: (config, splits, corpus_hash, output=None) -> Path.
_TRAINERS: dict[str, Callable | str] = {"fast-linear": train_fast, "neural-e5": "training.neural:train_neural",
                                        "cascade": "training.cascade:train_cascade"}


class ConfigError(ValueError):
    """A config file that cannot be read or names unknown settings."""


def _resolve(target: type | Callable | str) -> Any:
    if not isinstance(target, str):
        return target
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def config_class(kind: str) -> type:
    """The config dataclass of a model kind (importing its training module if needed)."""
    if kind not in _KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; known: {', '.join(_KINDS)}")
    return _resolve(_KINDS[kind])


def trainer(config: Any) -> Callable[..., Path]:
    """The training function for a loaded config: ``trainer(config)(config, splits, hash, output=...)``."""
    for kind, cls in _KINDS.items():
        if isinstance(cls, str) and type(config).__name__ != cls.rpartition(":")[2]:
            continue  # cannot be this kind: do not import its module
        if isinstance(config, _resolve(cls)):
            return _resolve(_TRAINERS[kind])
    raise ConfigError(f"no trainer for {type(config).__name__}")


def parse_override(assignment: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as a TOML value (``layers=6``, ``device="cuda"``), else as a string."""
    key, sep, value = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"expected KEY=VALUE, got {assignment!r}")
    try:
        return key, tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError:
        return key, value  # a bare word or path: take it as a string


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> Any:
    """The config dataclass a TOML file describes (``kind`` picks the class; default fast).

    ``overrides`` replace settings of the file (``cuishou train CONFIG --set key=value``).
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config not found: {path}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from exc
    if "kind" in (overrides or {}):
        raise ConfigError("the model kind cannot be overridden; use a config of that kind")
    raw.update(overrides or {})
    kind = raw.pop("kind", "fast-linear")
    if kind not in _KINDS:
        raise ConfigError(f"unknown model kind {kind!r} in {path}; known: {', '.join(_KINDS)}")
    cls = config_class(kind)
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"unknown settings in {path}: {', '.join(sorted(unknown))}")
    return cls(**raw)


def resolve_output(config: Any) -> Path:
    out = Path(config.output)
    return out if out.is_absolute() else REPO_ROOT / out
