"""Rubric loading: the default loads; every mistake gives a clear RubricError."""

from __future__ import annotations

import pytest

from models.qa import DEFAULT_RUBRIC_PATH, RubricError, load_rubric
from models.rules import CHECK_NAMES, VIOLATION_NAMES

DEFAULT = DEFAULT_RUBRIC_PATH.read_text(encoding="utf-8")


def _write(tmp_path, text: str):
    path = tmp_path / "rubric.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_rubric_covers_every_label():
    rubric = load_rubric()
    assert set(rubric.violation_weights) == set(VIOLATION_NAMES)
    assert set(rubric.check_weights) == set(CHECK_NAMES)
    assert {"violent_threat", "false_legal_threat", "scam_risk"} <= set(rubric.critical)
    assert rubric.max_dials_per_day == 6 and f"{rubric.quiet_start:%H:%M}" == "22:00"


def test_rubric_loads_from_any_path(tmp_path):
    rubric = load_rubric(_write(tmp_path, DEFAULT.replace('name = "default"', 'name = "team-b"')))
    assert rubric.name == "team-b"


@pytest.mark.parametrize(("edit", "message"), [
    (("insult = 30", "insult = 30\nshouting = 5"), "unknown label(s) in [violations]: shouting"),
    (("debt_stated = 10", "debt_stated = 10\nsmiled = 1"), "unknown label(s) in [checks]: smiled"),
    (("insult = 30", "insult = -5"), "insult = -5: a weight must be a number from 0 to 100"),
    (("insult = 30", "insult = 300"), "a weight must be a number from 0 to 100"),
    (("insult = 30", 'insult = "high"'), "insult = 'high'"),
    (("insult = 30", "insult = true"), "insult = True"),
    (("insult = 30\n", ""), "[violations] has no weight for: insult"),
    (('critical = ["violent_threat"', 'critical = ["murder"'), "unknown label(s) in critical: murder"),
    (("max_dials_per_day = 6", "max_dials_per_day = 0"), "max_dials_per_day = 0"),
    (('quiet_hours_start = "22:00"', 'quiet_hours_start = "25:00"'), "not a time of day"),
    (('quiet_hours_start = "22:00"', "quiet_hours_start = 22"), 'expected a time as "HH:MM"'),
    (('name = "default"', 'name = "default"\nweights = 1'), "unknown key(s): weights"),
    (("[violations]", "[violation]"), "unknown key(s): violation"),
    (("insult = 30", "insult = = 30"), "not valid TOML"),
])
def test_bad_rubrics_name_the_problem(tmp_path, edit, message):
    old, new = edit
    assert old in DEFAULT
    with pytest.raises(RubricError) as info:
        load_rubric(_write(tmp_path, DEFAULT.replace(old, new, 1)))
    assert message in str(info.value)
    assert "rubric.toml" in str(info.value)


def test_missing_rubric_file(tmp_path):
    with pytest.raises(RubricError, match="cannot read rubric"):
        load_rubric(tmp_path / "nope.toml")
