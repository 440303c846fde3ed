"""Synthetic participants for tests and benchmarks: generated media and the signalling dance.

Not used by the server. The tracks pace themselves in real time (15 fps video, 20 ms
audio frames) like a camera and a microphone would. :class:`LessonPeer` plays the web
app's part against the HTTP API (join, publish, subscribe, answer) with aiortc peer
connections, so tests exercise exactly what the web app will do.
"""
import asyncio
import fractions
import math
import struct
import time

import aiohttp
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.codecs import opus as aiortc_opus
from aiortc.codecs import vpx as aiortc_vpx
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, AudioResampler, VideoFrame

WIDTH, HEIGHT, FPS = 320, 180, 15
VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms
TEACHER_VIDEO_BITRATE = 150_000
BROWSER_OPUS_BITRATE = 24_000  # static/js/lesson.js: AUDIO.maxBitrate, maxaveragebitrate
BROWSER_OPUS_PTIME = 40  # static/js/lesson.js: PTIME


class SyntheticVideoTrack(MediaStreamTrack):
    """A 320x180 picture with a moving bar, 15 frames a second."""

    kind = "video"

    def __init__(self, width=WIDTH, height=HEIGHT, fps=FPS):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._start = None
        self._index = 0
        probe = VideoFrame(width, height, "yuv420p")
        sizes = [plane.buffer_size for plane in probe.planes]
        stride = probe.planes[0].line_size
        self._chroma = [bytes([128]) * sizes[1], bytes([160]) * sizes[2]]
        self._lumas = []
        for step in range(fps * 2):
            bar = (step * width // (fps * 2)) % width
            row = bytearray(stride)
            for x in range(width):
                row[x] = 235 if bar <= x < bar + 24 else 16 + (x * 200 // width)
            self._lumas.append(bytes(row) * height)

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._index / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = VideoFrame(self.width, self.height, "yuv420p")
        frame.planes[0].update(self._lumas[self._index % len(self._lumas)])
        frame.planes[1].update(self._chroma[0])
        frame.planes[2].update(self._chroma[1])
        frame.pts = self._index * 90000 // self.fps
        frame.time_base = VIDEO_TIME_BASE
        self._index += 1
        return frame


class SyntheticAudioTrack(MediaStreamTrack):
    """20 ms s16 48 kHz frames: a tone (a voice, for the level extension) or silence."""

    kind = "audio"

    def __init__(self, frequency=440.0, amplitude=8000, layout="mono"):
        super().__init__()
        self.layout = layout
        channels = 2 if layout == "stereo" else 1
        self._start = None
        self._index = 0
        samples = []
        for i in range(AUDIO_SAMPLES):
            value = int(amplitude * math.sin(2 * math.pi * frequency * i / AUDIO_RATE))
            samples.extend([value] * channels)
        self._payload = struct.pack(f"<{len(samples)}h", *samples)

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._index * AUDIO_SAMPLES / AUDIO_RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = AudioFrame(format="s16", layout=self.layout, samples=AUDIO_SAMPLES)
        frame.planes[0].update(self._payload)
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._index * AUDIO_SAMPLES
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._index += 1
        return frame


class TeacherVp8Encoder(aiortc_vpx.Vp8Encoder):
    """aiortc's VP8 encoder held at ~150 kbit/s (its setter clamps at 250k, REMB would raise it)."""

    def __init__(self):
        super().__init__()
        self._Vp8Encoder__target_bitrate = TEACHER_VIDEO_BITRATE

    @property
    def target_bitrate(self):
        return TEACHER_VIDEO_BITRATE

    @target_bitrate.setter
    def target_bitrate(self, bitrate):
        pass  # the lesson's camera bitrate is fixed, whatever the server estimates


class BrowserOpusEncoder(aiortc_opus.OpusEncoder):
    """Opus as a browser sends it under the lesson's answer (static/js/lesson.js ``tuneOpus``):
    mono, 24 kbit/s, in-band FEC, 40 ms a packet. aiortc's own is stereo, 96 kbit/s, 20 ms."""

    def __init__(self, bitrate=BROWSER_OPUS_BITRATE, frame_ms=BROWSER_OPUS_PTIME):
        super().__init__()
        self.codec.bit_rate = bitrate
        self.codec.layout = "mono"
        self.codec.options = {"application": "voip", "frame_duration": str(frame_ms), "fec": "1", "packet_loss": "5"}
        self.resampler = AudioResampler(
            format="s16", layout="mono", rate=AUDIO_RATE, frame_size=AUDIO_RATE * frame_ms // 1000
        )


def use_teacher_encoders(opus_bitrate=BROWSER_OPUS_BITRATE):
    """In a client process: make aiortc's senders send what the lesson's browsers send, the
    150 kbit/s VP8 camera and :class:`BrowserOpusEncoder` at ``opus_bitrate``."""
    import aiortc.rtcrtpsender

    stock = aiortc.rtcrtpsender.get_encoder

    def get_encoder(codec):
        if codec.name == "VP8":
            return TeacherVp8Encoder()
        if codec.name.lower() == "opus":
            return BrowserOpusEncoder(bitrate=opus_bitrate)
        return stock(codec)

    aiortc.rtcrtpsender.get_encoder = get_encoder


def client_configuration():
    """No STUN, and max-bundle (aiortc's balanced policy strands extra video transceivers)."""
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


class LessonPeer:
    """One participant driven through the rtc HTTP API, as the web app would drive a browser."""

    def __init__(self, http: aiohttp.ClientSession, base: str, room: str, pid: str, role="student"):
        self.http, self.base, self.room, self.pid, self.role = http, base, room, pid, role
        self.publish_pc = None
        self.subscribe_pc = None
        self.tracks = {}  # mid -> remote track
        self.slots = {}

    @property
    def url(self):
        return f"{self.base}/rooms/{self.room}/participants/{self.pid}"

    async def call(self, method, path="", body=None, expect=200):
        async with self.http.request(method, self.url + path, json=body) as response:
            payload = await response.json()
            if expect is not None and response.status != expect:
                raise AssertionError(f"{method} {path or '/'}: {response.status} {payload}")
            return response.status, payload

    async def join(self, expect=200):
        return await self.call("POST", "", {"role": self.role}, expect=expect)

    async def publish(self, tracks, screen_tracks=(), expect=200):
        """Send ``tracks`` (and ``screen_tracks``, marked by mid) sendonly; returns (status, body)."""
        pc = RTCPeerConnection(client_configuration())
        screen_transceivers = []
        for track in tracks:
            pc.addTransceiver(track, direction="sendonly")
        for track in screen_tracks:
            screen_transceivers.append(pc.addTransceiver(track, direction="sendonly"))
        await pc.setLocalDescription(await pc.createOffer())
        body = {
            "sdp": pc.localDescription.sdp,
            "type": "offer",
            "screen_mids": [t.mid for t in screen_transceivers],
        }
        status, answer = await self.call("POST", "/publish", body, expect=expect)
        if status != 200:
            await pc.close()
            return status, answer
        await pc.setRemoteDescription(RTCSessionDescription(**answer))
        self.publish_pc = pc
        return status, answer

    async def subscribe(self, mode="speaker"):
        """Answer the server's slot offer (all recvonly); remote tracks land in ``tracks`` by mid."""
        status, offer = await self.call("POST", "/subscribe", {"mode": mode})
        self.slots = offer.get("slots", {})
        pc = RTCPeerConnection(client_configuration())

        @pc.on("track")
        def on_track(track):
            for transceiver in pc.getTransceivers():
                if transceiver.receiver.track is track:
                    self.tracks[transceiver.mid] = track

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type=offer["type"]))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.call("POST", "/subscribe/answer", {"sdp": pc.localDescription.sdp, "type": "answer"})
        self.subscribe_pc = pc
        return offer

    async def refresh_slots(self):
        _, body = await self.call("GET", "/slots")
        self.slots = body["slots"]
        return self.slots

    async def close(self):
        for pc in (self.publish_pc, self.subscribe_pc):
            if pc is not None:
                await pc.close()
