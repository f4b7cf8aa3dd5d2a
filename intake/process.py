"""Run the intake service in a child process on a free loopback port (tests, benchmarks, drills)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from settings import PROJECT_ROOT

SERVICE_PROTOCOL = "intake.protocol:Open311Protocol"  # uvicorn --http: Open311 errors for malformed HTTP


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """`uvicorn intake.service:app` against a database URL; start(), stop() or kill() (-9).

    env: settings for the service on top of ours (e.g. {"CITYOPS_INTAKE_QUEUE_MAX": "2"})."""

    def __init__(
        self,
        database_url: str,
        *,
        port: int | None = None,
        log_path: Path | None = None,
        access_log: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.env = env or {}
        self.port = port or free_port()
        self.log_path = log_path
        self.access_log = access_log
        self.process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServiceProcess:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "intake.service:app",
            "--http",
            SERVICE_PROTOCOL,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        if not self.access_log:
            command.append("--no-access-log")
        # The child reads its settings from its environment: pass ours on with the database URL.
        env = {**os.environ, **self.env, "DATABASE_URL": self.database_url}
        self._output = open(self.log_path, "ab") if self.log_path else None  # closed in _close_log
        self.process = process = subprocess.Popen(  # noqa: S603 - our own fixed command
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self._output or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(process, timeout)
        return self

    def _wait_ready(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the intake service exited with {process.returncode} at start-up"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the intake service did not answer on {self.url} within {timeout:.0f} s")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait (uvicorn finishes requests in flight); SIGKILL if it hangs."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def kill(self) -> None:
        """SIGKILL: the crash a power cut or the OOM killer would cause."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._output:
            self._output.close()
            self._output = None

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
