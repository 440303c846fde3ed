"""The rtc process's control API on loopback. Lesson calls build on it (issue: lessons)."""
import os
import time

import aiortc
from aiohttp import web


def make_app():
    app = web.Application()
    app["started"] = time.monotonic()
    app.router.add_get("/health", health)
    return app


async def health(request):
    """What the web process and `make run` check: the process is up and aiortc is loaded."""
    return web.json_response(
        {
            "status": "ok",
            "aiortc": aiortc.__version__,
            "uptime_s": round(time.monotonic() - request.app["started"], 1),
        }
    )


def main():
    host = os.environ.get("RTC_HOST", "127.0.0.1")
    port = int(os.environ.get("RTC_PORT", "8765"))
    print(f" * Parta rtc (aiortc {aiortc.__version__}) on http://{host}:{port}/", flush=True)
    web.run_app(make_app(), host=host, port=port, print=None)
