"""Service settings, read from the environment with the prefix ``CUISHOU_``.

``CUISHOU_MODEL_DIR``, ``CUISHOU_REVIEW_MODEL_DIR``, ``CUISHOU_MAX_TEXT_CHARS``, ``CUISHOU_MAX_BATCH``,
``CUISHOU_MAX_BODY_BYTES``, ``CUISHOU_API_KEY``, ``CUISHOU_LOG_LEVEL``,
``CUISHOU_INFERENCE_PROCESS``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.analyzer import ARTIFACTS_DIR

# Two models serve two kinds of request. Pipelines that call /v1/analyze in volume get the
# fast tier: the cascade runs the neural tier on more than half of all texts, and on 2 cores
# that takes /v1/analyze at 32 clients from about 3,000 to 500-600 req/s and its p99 from
# about 3x to 11-13x /healthz (docs/service.md). Requests where accuracy comes first (the borrower
# page, QA scoring of calls, and /v1/analyze?model=cuishou-cascade) get the cascade, the
# default of the CLI and the Python API: on calls the fast tier is far weaker.
SERVICE_DEFAULT_MODEL = ARTIFACTS_DIR / "cuishou-fast"
SERVICE_REVIEW_MODEL = ARTIFACTS_DIR / "cuishou-cascade"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUISHOU_", extra="ignore", protected_namespaces=())

    model_dir: Path | None = Field(
        default=None, description="Model directory for /v1/analyze; empty means the shipped cuishou-fast.")
    review_model_dir: Path | None = Field(
        default=None,
        description="Model directory for the borrower page, QA scoring and /v1/analyze?model=<its name>; "
                    "empty means the shipped cuishou-cascade.")
    max_text_chars: int = Field(default=20_000, ge=1, description="Most characters in one text (or all turns).")
    max_batch: int = Field(default=256, ge=1, description="Most items in one batch request.")
    max_body_bytes: int = Field(default=2_000_000, ge=1, description="Largest request body in bytes.")
    api_key: SecretStr | None = Field(default=None, description="When set, /v1/analyze* require it.")
    log_level: str = Field(default="INFO", description="Log level of the service loggers.")
    inference_process: bool = Field(
        default=True,
        description="Analyse /v1/analyze requests in a child process beside the event loop "
                    "(false: on a thread of the server process; see serve/inference.py).",
    )

    def model_path(self) -> Path:
        """The model directory behind /v1/analyze (and the batch endpoint) by default."""
        return self.model_dir or SERVICE_DEFAULT_MODEL

    def review_model_path(self) -> Path:
        """The model directory for requests where accuracy comes first."""
        return self.review_model_dir or SERVICE_REVIEW_MODEL
