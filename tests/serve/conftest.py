"""Fixtures for the service tests: one app with the real shipped model per module."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("pydantic_settings")
pytest.importorskip("prometheus_client")

# A threatening SMS: violence, exposure to colleagues, insult, a deadline and an amount.
THREAT_SMS = "你这个老赖，今晚8点前不还2.5w就把你照片发到你公司群，小心你家人的安全！"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from serve.app import create_app
    from serve.settings import Settings

    with TestClient(create_app(Settings())) as c:
        yield c


def start_server(log_path, env: dict | None = None, timeout: float = 30.0, args: tuple[str, ...] = ()):
    """Start `cuishou serve` on a free loopback port; return (base_url, process) once ready."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    cuishou = Path(sys.executable).with_name("cuishou")
    if not cuishou.exists():
        pytest.skip(f"the cuishou entry point is not installed beside {sys.executable}")
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(cuishou), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{Path(log_path).read_text()}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=0.5) as r:
                if r.status == 200:
                    return base, proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            pytest.fail(f"server not ready in {timeout:.0f} s:\n{Path(log_path).read_text()}")
        time.sleep(0.1)


def stop_server(proc) -> None:
    import signal
    import subprocess

    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
