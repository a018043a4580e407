"""Model artifacts: one directory per model, loadable without pickle.

Layout (kept for every model we ship)::

    <model_dir>/
        manifest.json   format version, name, version, kind, labels, thresholds,
                        corpus hash, library versions, created, files
        model.skops     the fitted estimators (skops format, never pickle)
        metrics.json    evaluation figures written by training
        README.md       the model card written by training

Loading refuses any type inside the skops file that is not on the allow-list below,
so a tampered file cannot run code. Older format versions keep loading: each version
that changed the layout gets a branch in ``_upgrade_manifest``.
"""

from __future__ import annotations

import json
import logging
import platform
import zipfile
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

from .labels import FLAG_NAMES, STAGE_NAMES

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = (1,)
MANIFEST = "manifest.json"
METRICS = "metrics.json"
CARD = "README.md"
MODEL_FILE = "model.skops"

# Types a skops file of ours may hold. Anything else is refused on load.
TRUSTED_TYPES = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
        "numpy.dtype",
        "numpy.float32",
        "numpy.float64",
        "numpy.int64",
        "numpy.ndarray",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
    }
)

_LIBRARIES = ("cuishou", "scikit-learn", "skops", "numpy", "scipy", "opencc", "cn2an", "jieba", "pydantic")


class ArtifactError(Exception):
    """A model directory that is missing, incomplete or not ours."""


@dataclass
class Artifact:
    manifest: dict
    payload: dict
    path: Path

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def version(self) -> str:
        return self.manifest["version"]


def library_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Python's version and each library's (``extra``: more libraries a kind depends on)."""
    versions = {"python": platform.python_version()}
    for lib in _LIBRARIES + tuple(extra):
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = "not installed"
    return versions


def build_manifest(
    *,
    name: str,
    version: str,
    kind: str,
    thresholds: dict[str, float],
    corpus_hash: str,
    config: dict | None = None,
    files: dict[str, str | None] | None = None,
) -> dict:
    """The manifest of a new model. ``files`` overrides the default file names; a kind that
    keeps no scikit-learn estimators (the neural tier, the cascade) sets ``model`` to None
    and names its own files."""
    return {
        "format_version": FORMAT_VERSION,
        "name": name,
        "version": version,
        "kind": kind,
        "labels": {"stages": list(STAGE_NAMES), "flags": list(FLAG_NAMES)},
        "thresholds": {k: round(float(v), 6) for k, v in thresholds.items()},
        "corpus_hash": corpus_hash,
        "library_versions": library_versions(),
        "created": datetime.now().replace(microsecond=0).isoformat(),
        "config": config or {},
        "files": {"model": MODEL_FILE, "metrics": METRICS, "card": CARD, **(files or {})},
    }


def save_artifact(
    model_dir: str | Path, manifest: dict, payload: dict, metrics: dict, card: str
) -> Path:
    path = Path(model_dir)
    path.mkdir(parents=True, exist_ok=True)
    model_file = manifest.get("files", {}).get("model", MODEL_FILE)
    if model_file is not None:
        import skops.io as sio  # here: only fast-tier payloads need it, and it imports scikit-learn

        sio.dump(payload, path / model_file, compression=zipfile.ZIP_DEFLATED)
        untrusted = set(sio.get_untrusted_types(file=path / model_file)) - TRUSTED_TYPES
        if untrusted:
            raise ArtifactError(f"model holds types that loading would refuse: {sorted(untrusted)}")
    (path / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (path / METRICS).write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (path / CARD).write_text(card, encoding="utf-8")
    log.info("saved model %s %s to %s", manifest["name"], manifest["version"], path)
    return path


def read_manifest(model_dir: str | Path) -> dict:
    path = Path(model_dir)
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise ArtifactError(f"model directory not found: {path}")
    if not manifest_path.is_file():
        raise ArtifactError(f"not a cuishou model directory (no {MANIFEST}): {path}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"unreadable {MANIFEST} in {path}: {exc}") from exc
    return _upgrade_manifest(manifest, path)


def _upgrade_manifest(manifest: dict, path: Path) -> dict:
    version = manifest.get("format_version")
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise ArtifactError(
            f"model format version {version!r} in {path} is not supported "
            f"(this cuishou reads {', '.join(map(str, SUPPORTED_FORMAT_VERSIONS))})"
        )
    for key in ("name", "version", "kind", "labels"):
        if key not in manifest:
            raise ArtifactError(f"{MANIFEST} in {path} lacks {key!r}")
    unknown = set(manifest["labels"].get("stages", [])) - set(STAGE_NAMES)
    unknown |= set(manifest["labels"].get("flags", [])) - set(FLAG_NAMES)
    if unknown:
        raise ArtifactError(f"model in {path} uses labels this cuishou does not know: {sorted(unknown)}")
    return manifest


def load_artifact(model_dir: str | Path) -> Artifact:
    path = Path(model_dir)
    manifest = read_manifest(path)
    model_file = manifest.get("files", {}).get("model", MODEL_FILE)
    for role, name in manifest.get("files", {}).items():
        if name is not None and role not in ("metrics", "card") and not (path / name).is_file():
            raise ArtifactError(f"{role} file missing: {path / name}")
    if model_file is None:  # a kind whose files are read by its classifier (onnx, tokenizer)
        return Artifact(manifest, {}, path)
    import skops.io as sio  # here: it imports all of scikit-learn (and torch, where installed)

    model_path = path / model_file
    if not model_path.is_file():
        raise ArtifactError(f"model file missing: {model_path}")
    try:
        untrusted = set(sio.get_untrusted_types(file=model_path)) - TRUSTED_TYPES
        if untrusted:
            raise ArtifactError(f"refusing to load {model_path}: untrusted types {sorted(untrusted)}")
        payload = sio.load(model_path, trusted=sorted(sio.get_untrusted_types(file=model_path)))
    except ArtifactError:
        raise
    except Exception as exc:  # skops raises many types for corrupt files
        raise ArtifactError(f"cannot read model file {model_path}: {exc}") from exc
    return Artifact(manifest, payload, path)
