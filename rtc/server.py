"""The rtc process's control API on loopback (contract: /tmp/parta/rtc-contract.md).

The web app is this API's only client; browsers exchange media with this process but
signal through the web app. Every body is JSON; refusals are 4xx ``{"error": code}``.
"""
import ipaddress
import json
import logging
import os
import time

import aiortc
from aiohttp import web

from rtc import forwarding
from rtc.sfu import MODES, ROLES, Sfu, SfuError

logger = logging.getLogger(__name__)


def make_app():
    app = web.Application(middlewares=[loopback_only, json_errors])
    app["started"] = time.monotonic()
    app["sfu"] = Sfu()
    app.on_startup.append(_install_forwarding)
    app.on_shutdown.append(_close_connections)
    app.router.add_get("/health", health)
    app.router.add_put("/rooms/{room}", put_room)
    app.router.add_get("/rooms/{room}", get_room)
    app.router.add_delete("/rooms/{room}", delete_room)
    base = "/rooms/{room}/participants/{pid}"
    app.router.add_post(base, join)
    app.router.add_delete(base, leave)
    app.router.add_post(base + "/publish", publish)
    app.router.add_post(base + "/subscribe", subscribe)
    app.router.add_post(base + "/subscribe/answer", subscribe_answer)
    app.router.add_post(base + "/mode", set_mode)
    app.router.add_post(base + "/media", set_media)
    app.router.add_get(base + "/slots", get_slots)
    return app


async def _install_forwarding(app):
    """This process forwards media: aiortc must neither decode nor encode (rtc/forwarding.py)."""
    forwarding.install()


async def _close_connections(app):
    count = await app["sfu"].close()
    print(f" * Parta rtc: closed {count} peer connections", flush=True)


@web.middleware
async def loopback_only(request, handler):
    """Only the web app on this machine may drive the media server."""
    try:
        allowed = ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        allowed = False
    if not allowed:
        return web.json_response({"error": "not_allowed"}, status=403)
    return await handler(request)


@web.middleware
async def json_errors(request, handler):
    try:
        return await handler(request)
    except SfuError as exc:
        return web.json_response({"error": exc.code}, status=exc.status)


async def _body(request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SfuError(400, "bad_request") from exc
    if not isinstance(body, dict):
        raise SfuError(400, "bad_request")
    return body


def _sfu(request) -> Sfu:
    return request.app["sfu"]


def _room(request):
    return _sfu(request).room(request.match_info["room"])


def _mode(body) -> str:
    mode = body.get("mode", "speaker")
    if mode not in MODES:
        raise SfuError(400, "bad_request")
    return mode


def _description(body, expected_type) -> str:
    sdp = body.get("sdp")
    if not isinstance(sdp, str) or not sdp or body.get("type", expected_type) != expected_type:
        raise SfuError(400, "bad_sdp")
    return sdp


async def health(request):
    """What the web process and `make run` check: the process is up and aiortc is loaded."""
    return web.json_response(
        {
            "status": "ok",
            "aiortc": aiortc.__version__,
            "uptime_s": round(time.monotonic() - request.app["started"], 1),
            "rooms": len(request.app["sfu"].rooms),
        }
    )


async def put_room(request):
    body = await _body(request)
    host = body.get("host")
    cap = body.get("max_participants")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise SfuError(400, "bad_request")
    room = _sfu(request).put_room(request.match_info["room"], None if host is None else str(host), cap)
    return web.json_response({"room": room.id, "max_participants": room.max_participants})


async def get_room(request):
    return web.json_response(_room(request).describe())


async def delete_room(request):
    await _sfu(request).delete_room(request.match_info["room"])
    return web.json_response({})


async def join(request):
    body = await _body(request)
    role = body.get("role", "student")
    if role not in ROLES:
        raise SfuError(400, "bad_request")
    _room(request).join(request.match_info["pid"], role)
    return web.json_response({})


async def leave(request):
    await _sfu(request).leave(request.match_info["room"], request.match_info["pid"])
    return web.json_response({})


async def publish(request):
    body = await _body(request)
    sdp = _description(body, "offer")
    screen_mids = body.get("screen_mids") or []
    if not isinstance(screen_mids, list):
        raise SfuError(400, "bad_request")
    answer = await _room(request).publish(request.match_info["pid"], sdp, [str(m) for m in screen_mids])
    return web.json_response({"sdp": answer.sdp, "type": answer.type})


async def subscribe(request):
    body = await _body(request)
    offer, slots = await _room(request).subscribe(request.match_info["pid"], _mode(body))
    return web.json_response({"sdp": offer.sdp, "type": offer.type, "slots": slots})


async def subscribe_answer(request):
    body = await _body(request)
    sdp = _description(body, "answer")
    await _room(request).subscribe_answer(request.match_info["pid"], sdp)
    return web.json_response({})


async def set_mode(request):
    body = await _body(request)
    slots = _room(request).set_mode(request.match_info["pid"], _mode(body))
    return web.json_response({"slots": slots})


async def set_media(request):
    body = await _body(request)
    _room(request).set_media(request.match_info["pid"], body)
    return web.json_response({})


async def get_slots(request):
    return web.json_response({"slots": _room(request).slots(request.match_info["pid"])})


def main():
    host = os.environ.get("RTC_HOST", "127.0.0.1")
    port = int(os.environ.get("RTC_PORT", "8765"))
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"RTC_HOST must be a loopback address, not {host}")
    logging.basicConfig(level=os.environ.get("RTC_LOG_LEVEL", "WARNING"))
    print(f" * Parta rtc (aiortc {aiortc.__version__}) on http://{host}:{port}/", flush=True)
    web.run_app(make_app(), host=host, port=port, print=None)
