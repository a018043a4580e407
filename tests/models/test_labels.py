"""Label names in models/labels.py must be exactly the spec's."""

import re

from models import labels


def _section(spec: str, number: int) -> str:
    start = spec.index(f"## {number}.")
    end = spec.find(f"## {number + 1}.", start)
    return spec[start : end if end != -1 else None]


def _table_labels(section: str) -> list[str]:
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M)


def test_stages_match_spec_table_in_order(spec_dir):
    spec = (spec_dir / "labels.md").read_text(encoding="utf-8")
    assert list(labels.STAGE_NAMES) == _table_labels(_section(spec, 1))


def test_stage_order_line_matches(spec_dir):
    spec = (spec_dir / "labels.md").read_text(encoding="utf-8")
    order = re.search(r"Order, low to high: (.+?)\. For", spec, flags=re.S).group(1)
    assert [s.strip() for s in order.replace("\n", " ").split("<")] == list(labels.STAGE_NAMES)


def test_flags_match_spec_table(spec_dir):
    spec = (spec_dir / "labels.md").read_text(encoding="utf-8")
    assert list(labels.FLAG_NAMES) == _table_labels(_section(spec, 2))


def test_amount_roles_match_spec(spec_dir):
    spec = (spec_dir / "labels.md").read_text(encoding="utf-8")
    roles_text = _section(spec, 3).split("`role`, one of:")[1].split("- A card tail")[0]
    assert re.findall(r"`([a-z_]+)`", roles_text) == list(labels.AMOUNT_ROLE_NAMES)


def test_deadline_kinds_match_spec(spec_dir):
    spec = (spec_dir / "labels.md").read_text(encoding="utf-8")
    kinds = re.findall(r"`(absolute|relative)`", _section(spec, 4))
    assert sorted(set(kinds)) == sorted(labels.DEADLINE_KINDS)


def test_every_flag_has_chinese_name_and_basis():
    for flag in labels.FLAGS:
        assert flag.zh and flag.explanation and flag.basis
        assert re.search(r"[\u4e00-\u9fff]", flag.zh)


def test_highest_stage():
    assert labels.highest_stage(["reminder", "litigation", "agency"]) == "litigation"
    assert labels.highest_stage([]) == "none"
