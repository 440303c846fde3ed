"""The rtc process starts on its own, apart from the web process, and answers on loopback."""
import os
import subprocess
import sys
from pathlib import Path

import requests

from conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]


def test_rtc_process_starts_and_reports_health():
    port = free_port()
    env = {**os.environ, "RTC_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "rtc"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:

        def answers():
            try:
                return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok
            except requests.ConnectionError:
                return False

        assert wait_until(answers, timeout=20)
        body = requests.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
        assert body["status"] == "ok" and body["aiortc"]
        import aiortc

        assert body["aiortc"] == aiortc.__version__
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_only_the_entry_point_imports_eventlet():
    importers = [
        str(path.relative_to(ROOT))
        for folder in ("blueprints", "db", "rtc", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if "import eventlet" in path.read_text() or "from eventlet" in path.read_text()
    ]
    assert importers == []
    assert "import eventlet" in (ROOT / "app.py").read_text()
