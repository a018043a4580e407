"""Training configs: TOML files plus ``--set KEY=VALUE`` overrides."""

from __future__ import annotations

import pytest

from tests.conftest import REPO_ROOT
from training.config import ConfigError, load_config, parse_override

FAST = REPO_ROOT / "training" / "configs" / "fast.toml"


@pytest.mark.parametrize("text, expected", [
    ("epochs=3", ("epochs", 3)),
    ("learning_rate=2e-4", ("learning_rate", 2e-4)),
    ("device=\"cuda\"", ("device", "cuda")),
    ("device=cuda:1", ("device", "cuda:1")),  # a bare word is a string
    ("base=.gpu/e5-pruned.bin", ("base", ".gpu/e5-pruned.bin")),
    ("select_epoch=false", ("select_epoch", False)),
    ("layers=[0, 2, 4]", ("layers", [0, 2, 4])),
])
def test_parse_override_reads_toml_values_else_strings(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["epochs", "=3", ""])
def test_parse_override_needs_key_and_value(text):
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override(text)


def test_overrides_replace_file_settings():
    base = load_config(FAST)
    changed = load_config(FAST, {"seed": base.seed + 7, "name": "other"})
    assert changed.seed == base.seed + 7 and changed.name == "other"
    assert changed.output == base.output  # the rest comes from the file


def test_unknown_override_and_kind_override_are_refused():
    with pytest.raises(ConfigError, match="not_a_setting"):
        load_config(FAST, {"not_a_setting": 1})
    with pytest.raises(ConfigError, match="kind cannot be overridden"):
        load_config(FAST, {"kind": "neural-e5"})
