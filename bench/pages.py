"""Page weight: `python -m bench.pages` starts Parta with the demo data and reports, per page,
the bytes transferred cold (empty cache) and warm, the requests, the JavaScript bytes and
the server's median time to answer. The last line is one JSON object.

Sizes are what goes over the wire: compressed as served (gzip or brotli), headers excluded.
A warm visit re-fetches only the HTML: static files carry a year-long cache lifetime.
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
BUDGET_BYTES = 100 * 1024
RESOURCE = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*\shref|img[^>]*\ssrc)="([^"]+)"')


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(instance):
    port = free_port()
    env = {
        **os.environ,
        "INSTANCE_PATH": instance,
        "DATABASE_URL": f"sqlite:///{instance}/parta.db",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "ASYNC_MODE": "eventlet",
        "RATELIMIT_ENABLED": "0",
    }
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "setup"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=1).ok:
                return process, base
        except requests.ConnectionError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not start")


def fetch(session, url):
    response = session.get(url, headers={"Accept-Encoding": "br, gzip"}, stream=True)
    body = response.raw.read(decode_content=False)
    return response, len(body)


def sign_in(session, base, identifier):
    page = session.get(base + "/auth/login").text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    session.post(base + "/auth/login", data={"csrf_token": token, "identifier": identifier, "password": "parta-demo"})


def measure(session, base, path, repeats):
    url = base + path
    response, html_bytes = fetch(session, url)
    text = session.get(url).text
    resources = sorted({urljoin(url, src) for src in RESOURCE.findall(text)})
    foreign = [r for r in resources if urlsplit(r).netloc != urlsplit(base).netloc]
    cold = html_bytes
    js = 0
    for resource in resources:
        if resource in foreign:
            continue
        _response, size = fetch(session, resource)
        cold += size
        if resource.split("?")[0].endswith(".js"):
            js += size
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        session.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "path": path,
        "status": response.status_code,
        "cold_bytes": cold,
        "warm_bytes": html_bytes,
        "requests": 1 + len(resources),
        "js_bytes": js,
        "foreign_requests": len(foreign),
        "median_ms": round(statistics.median(timings), 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        process, base = start_server(instance)
        try:
            session = requests.Session()
            results = [measure(session, base, "/", args.repeats), measure(session, base, "/auth/login", args.repeats)]
            sign_in(session, base, "+79000000002")
            school = re.search(r'href="(/schools/\d+)"', session.get(base + "/").text).group(1)
            for path in ("/", school, school + "/participants", "/profile", "/notifications", "/contacts"):
                results.append(measure(session, base, path, args.repeats))
        finally:
            process.terminate()
            process.wait(timeout=10)
    for row in results:
        print(
            f"{row['path']:<28} {row['status']} cold {row['cold_bytes']:>7} B  warm {row['warm_bytes']:>6} B"
            f"  requests {row['requests']:>2}  js {row['js_bytes']:>6} B  median {row['median_ms']:>6} ms"
        )
    over = [r["path"] for r in results if r["cold_bytes"] > BUDGET_BYTES or r["foreign_requests"]]
    print(json.dumps({"pages": results, "over_budget": over}, ensure_ascii=False))


if __name__ == "__main__":
    main()
