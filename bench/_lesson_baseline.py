"""The yardstick of bench/lesson.py: the same lesson through stock aiortc ``MediaRelay``.

This is how an aiortc server relays without our forwarding: the teacher's tracks are
decoded once (aiortc's receivers always decode), ``MediaRelay`` hands the decoded frames
to one proxy track per student, and every student's sender encodes them again (one VP8
and one Opus encoder per student). It speaks just enough of the rtc contract for the
benchmark: PUT room, join, publish, subscribe (1 audio + 1 video), subscribe/answer,
GET room. ``PORT`` comes from the environment. Run: ``python -m bench._lesson_baseline``.
"""
import asyncio
import os

from aiohttp import web
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay


def configuration():
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


def make_app():
    app = web.Application()
    app["relay"] = MediaRelay()
    app["teacher_tracks"] = {}
    app["pcs"] = {}
    app.router.add_get("/health", lambda request: web.json_response({"status": "ok"}))
    app.router.add_put("/rooms/{room}", lambda request: web.json_response({"room": request.match_info["room"]}))
    app.router.add_get("/rooms/{room}", lambda request: web.json_response({"participants": [], "forwarded": {}}))
    base = "/rooms/{room}/participants/{pid}"
    app.router.add_post(base, lambda request: web.json_response({}))
    app.router.add_post(base + "/publish", publish)
    app.router.add_post(base + "/subscribe", subscribe)
    app.router.add_post(base + "/subscribe/answer", answer)
    app.on_shutdown.append(close_all)
    return app


async def publish(request):
    body = await request.json()
    pc = RTCPeerConnection(configuration())
    request.app["pcs"][("publish", request.match_info["pid"])] = pc

    @pc.on("track")
    def on_track(track):
        request.app["teacher_tracks"][track.kind] = track

    await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return web.json_response({"sdp": pc.localDescription.sdp, "type": "answer"})


async def subscribe(request):
    pc = RTCPeerConnection(configuration())
    request.app["pcs"][("subscribe", request.match_info["pid"])] = pc
    relay = request.app["relay"]
    body = await request.json()
    for kind in ("audio", "video"):
        track = request.app["teacher_tracks"].get(kind)
        if track is not None and not (kind == "video" and body.get("mode") == "audio"):
            pc.addTransceiver(relay.subscribe(track, buffered=False), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    return web.json_response({"sdp": pc.localDescription.sdp, "type": "offer", "slots": {}})


async def answer(request):
    body = await request.json()
    pc = request.app["pcs"][("subscribe", request.match_info["pid"])]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type="answer"))
    return web.json_response({})


async def close_all(app):
    await asyncio.gather(*(pc.close() for pc in app["pcs"].values()), return_exceptions=True)


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(os.environ["PORT"]), print=None)
