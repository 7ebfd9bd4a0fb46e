"""A real help-center server for the load benchmark and the fault drills.

A throwaway KB_DATA_DIR with the demo content migrated, imported and indexed, served
by gunicorn on 127.0.0.1 (a free port). Used by bench/load.py and tests/reliability.

Per-IP limits (votes, API throttling) are lifted in the generated settings: every
simulated visitor comes from 127.0.0.1. Per-visitor limits stay as configured.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

SETTINGS_MODULE = "kb_livesite_settings"
SETTINGS = """\
from kb_site.settings.dev import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Every simulated visitor comes from 127.0.0.1.
KB_VOTE_RATE_LIMIT_IP = 10**9
KB_CONTACT_RATE_LIMIT_IP = 10**9
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveSite:
    """One site: `prepare()` once, then `start()` / `stop()` the server."""

    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int = 2,
        threads: int = 1,
        database_url: str | None = None,
        env: dict | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / f"{SETTINGS_MODULE}.py").write_text(SETTINGS)
        self.workers = workers
        self.threads = threads
        self.database_url = database_url
        self.extra_env = env or {}
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.log_path = self.data_dir / "gunicorn.log"

    # --- set-up -------------------------------------------------------------------

    def env(self, **overrides) -> dict:
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        env.update(
            {
                "KB_DATA_DIR": str(self.data_dir),
                "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
                "PYTHONPATH": os.pathsep.join([str(self.data_dir), str(REPO)]),
                "KB_API_RATE_PER_IP": "1000000/min",
                "KB_API_RATE_PER_KEY": "widget=1000000/min,bot=1000000/min",
                "KB_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def manage(self, *args, timeout: float = 900, check: bool = True, **env):
        """Runs `manage.py ARGS` against this site; returns the CompletedProcess."""
        result = subprocess.run(
            [PYTHON, str(REPO / "manage.py"), *args],
            cwd=REPO,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def prepare(self, content: Path = REPO / "content") -> None:
        """Migrates, imports the demo content and builds the search index."""
        self.manage("migrate", "--noinput")
        self.manage("import_content", str(content))
        self.manage("update_index")

    def create_api_key(self, name: str = "load", scope: str = "widget") -> str:
        return self.manage("create_api_key", name, "--scope", scope).stdout.strip()

    def query(self, code: str) -> object:
        """Runs Python in a Django shell of this site; returns what it printed as JSON.

        `code` must print one JSON document (and nothing else) to stdout.
        """
        out = self.manage("shell", "--no-imports", "-c", code).stdout
        return json.loads(out.strip().splitlines()[-1])

    # --- the server ---------------------------------------------------------------

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, timeout: float = 120) -> None:
        self.port = free_port()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "kb_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=REPO,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.process = None

    def server_errors(self) -> str:
        """What gunicorn logged (tracebacks of 500s end up here)."""
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
