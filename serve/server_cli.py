"""``cuishou serve``: run the HTTP API and the borrower page with uvicorn."""

from __future__ import annotations

import os

import click

_MISSING = "the HTTP service needs its extra: pip install -e '.[serve]'"


def log_config(level: str) -> dict:
    """uvicorn's logging, with the masking filter on every handler."""
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask": {"()": "serve.masking.MaskingFilter"}},
        "formatters": {"plain": {"format": fmt}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "plain", "filters": ["mask"]}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["stderr"], "level": level, "propagate": False},
            "serve": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to bind.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each loads the model).")
@click.option("--model", "model_dir", default=None, type=click.Path(file_okay=False),
              help="Model directory for /v1/analyze (default: CUISHOU_MODEL_DIR, else the shipped cuishou-fast).")
@click.option("--review-model", "review_model_dir", default=None, type=click.Path(file_okay=False),
              help="Model directory for the borrower page, QA scoring and /v1/analyze?model=<its name> "
                   "(default: CUISHOU_REVIEW_MODEL_DIR, else the shipped cuishou-cascade).")
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log every request line.")
def serve(host: str, port: int, workers: int, model_dir: str | None, review_model_dir: str | None,
          access_log: bool) -> None:
    """Serve the API (/v1/analyze, /v1/analyze/batch, /v1/transcripts/score, /v1/models, /healthz,
    /readyz, /metrics, /docs) and the page at /.

    Settings come from CUISHOU_* environment variables (see serve/settings.py).
    """
    try:
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
        import pydantic_settings  # noqa: F401
        import uvicorn
    except ModuleNotFoundError as exc:
        raise click.ClickException(f"{_MISSING} ({exc.name} is missing)") from exc
    from .settings import Settings

    # Workers read their settings from the environment.
    if model_dir is not None:
        os.environ["CUISHOU_MODEL_DIR"] = model_dir
    if review_model_dir is not None:
        os.environ["CUISHOU_REVIEW_MODEL_DIR"] = review_model_dir
    settings = Settings()
    from .protocol import NoDelayHttpProtocol

    uvicorn.run("serve.app:create_app", factory=True, host=host, port=port, workers=workers, http=NoDelayHttpProtocol,
                log_config=log_config(settings.log_level.upper()), access_log=access_log,
                timeout_graceful_shutdown=10)
