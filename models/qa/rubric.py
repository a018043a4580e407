"""The QA rubric: weights per violation label and failed check, critical labels, contact limits.

Loaded from TOML (``default_rubric.toml`` beside this file, or any path). Every mistake
in a rubric file is reported as a ``RubricError`` naming the key at fault.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from ..rules import CHECK_NAMES, VIOLATION_NAMES

DEFAULT_RUBRIC_PATH = Path(__file__).resolve().parent / "default_rubric.toml"
_TOP_KEYS = {"name", "version", "critical", "violations", "checks", "contact"}
_CONTACT_KEYS = {"quiet_hours_start", "quiet_hours_end", "max_dials_per_day"}


class RubricError(ValueError):
    """A rubric file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Rubric:
    name: str
    version: str
    violation_weights: dict[str, float]
    check_weights: dict[str, float]
    critical: tuple[str, ...]
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    max_dials_per_day: int = 6
    source: str = field(default="", compare=False)

    def score(self, violation_labels: set[str], failed_checks: set[str]) -> tuple[float, list[str]]:
        """(score 0-100, the critical labels present, in rubric order)."""
        critical = [label for label in self.critical if label in violation_labels]
        if critical:
            return 0.0, critical
        lost = sum(self.violation_weights[v] for v in violation_labels)
        lost += sum(self.check_weights[c] for c in failed_checks)
        return round(max(0.0, 100.0 - lost), 1), []

    def in_quiet_hours(self, moment: time) -> bool:
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= moment < self.quiet_end
        return moment >= self.quiet_start or moment < self.quiet_end


def _weights(table: object, where: str, names: tuple[str, ...], path: str) -> dict[str, float]:
    if not isinstance(table, dict):
        raise RubricError(f"{path}: [{where}] must be a table of weights")
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise RubricError(f"{path}: unknown label(s) in [{where}]: {', '.join(unknown)}; "
                          f"known: {', '.join(names)}")
    missing = [n for n in names if n not in table]
    if missing:
        raise RubricError(f"{path}: [{where}] has no weight for: {', '.join(missing)}")
    out = {}
    for name, weight in table.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 100:
            raise RubricError(f"{path}: [{where}] {name} = {weight!r}: a weight must be a number from 0 to 100")
        out[name] = float(weight)
    return out


def _clock(value: object, key: str, path: str) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        raise RubricError(f"{path}: [contact] {key} = {value!r}: expected a time as \"HH:MM\"")
    hours, minutes = int(value[:2]), int(value[3:])
    if hours > 23 or minutes > 59:
        raise RubricError(f"{path}: [contact] {key} = {value!r}: not a time of day")
    return time(hours, minutes)


def parse_rubric(data: dict, path: str = "<rubric>") -> Rubric:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise RubricError(f"{path}: unknown key(s): {', '.join(unknown)}; expected {', '.join(sorted(_TOP_KEYS))}")
    for key in ("violations", "checks"):
        if key not in data:
            raise RubricError(f"{path}: missing table [{key}]")
    violations = _weights(data["violations"], "violations", VIOLATION_NAMES, path)
    checks = _weights(data["checks"], "checks", CHECK_NAMES, path)
    critical = data.get("critical", [])
    if not isinstance(critical, list) or not all(isinstance(c, str) for c in critical):
        raise RubricError(f"{path}: critical must be a list of violation labels")
    bad = [c for c in critical if c not in VIOLATION_NAMES]
    if bad:
        raise RubricError(f"{path}: unknown label(s) in critical: {', '.join(bad)}; "
                          f"known: {', '.join(VIOLATION_NAMES)}")
    contact = data.get("contact", {})
    if not isinstance(contact, dict):
        raise RubricError(f"{path}: [contact] must be a table")
    unknown = sorted(set(contact) - _CONTACT_KEYS)
    if unknown:
        raise RubricError(f"{path}: unknown key(s) in [contact]: {', '.join(unknown)}")
    dials = contact.get("max_dials_per_day", 6)
    if isinstance(dials, bool) or not isinstance(dials, int) or dials < 1:
        raise RubricError(f"{path}: [contact] max_dials_per_day = {dials!r}: expected a whole number >= 1")
    for key in ("name", "version"):
        if key in data and not isinstance(data[key], str | int):
            raise RubricError(f"{path}: {key} must be a string")
    return Rubric(
        name=str(data.get("name", Path(path).stem)),
        version=str(data.get("version", "")),
        violation_weights=violations,
        check_weights=checks,
        critical=tuple(dict.fromkeys(critical)),
        quiet_start=_clock(contact.get("quiet_hours_start", "22:00"), "quiet_hours_start", path),
        quiet_end=_clock(contact.get("quiet_hours_end", "08:00"), "quiet_hours_end", path),
        max_dials_per_day=dials,
        source=path,
    )


def load_rubric(path: str | Path | None = None) -> Rubric:
    """Load and validate a rubric TOML file; ``None`` loads the default rubric."""
    path = Path(path) if path is not None else DEFAULT_RUBRIC_PATH
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RubricError(f"cannot read rubric {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"{path}: not valid TOML: {exc}") from exc
    return parse_rubric(data, str(path))
