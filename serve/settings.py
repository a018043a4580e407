"""Service settings, read from the environment with the prefix ``CUISHOU_``.

``CUISHOU_MODEL_DIR``, ``CUISHOU_MAX_TEXT_CHARS``, ``CUISHOU_MAX_BATCH``,
``CUISHOU_MAX_BODY_BYTES``, ``CUISHOU_API_KEY``, ``CUISHOU_LOG_LEVEL``,
``CUISHOU_INFERENCE_PROCESS``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.analyzer import ARTIFACTS_DIR

# The service's default model is the fast tier, not the cascade the CLI and the Python API
# default to: the cascade runs the neural tier on more than half of the requests, and on 2 cores
# that takes /v1/analyze from 3,764 to 456 req/s and its p99 at 32 clients from 2.7x to 13.6x
# /healthz (docs/service.md). CUISHOU_MODEL_DIR picks the cascade where accuracy matters more.
SERVICE_DEFAULT_MODEL = ARTIFACTS_DIR / "cuishou-fast"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUISHOU_", extra="ignore", protected_namespaces=())

    model_dir: Path | None = Field(
        default=None, description="Model directory; empty means the service's default, the shipped cuishou-fast.")
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
        """The model directory the service loads."""
        return self.model_dir or SERVICE_DEFAULT_MODEL
