"""Training configs: small TOML files, one per shipped model."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from .fast import FastConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
_KINDS = {"fast-linear": FastConfig}


class ConfigError(ValueError):
    """A config file that cannot be read or names unknown settings."""


def load_config(path: str | Path) -> FastConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config not found: {path}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from exc
    kind = raw.pop("kind", "fast-linear")
    if kind not in _KINDS:
        raise ConfigError(f"unknown model kind {kind!r} in {path}; known: {', '.join(_KINDS)}")
    cls = _KINDS[kind]
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"unknown settings in {path}: {', '.join(sorted(unknown))}")
    return cls(**raw)


def resolve_output(config: FastConfig) -> Path:
    out = Path(config.output)
    return out if out.is_absolute() else REPO_ROOT / out
