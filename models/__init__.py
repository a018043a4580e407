"""Shared inference code: labels, normalisation, extractors, classifiers, the Analyzer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .analyzer import Analyzer

__all__ = ["Analyzer"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that ``models.labels`` or ``models.text`` stay light.
    if name == "Analyzer":
        from .analyzer import Analyzer

        return Analyzer
    raise AttributeError(name)
