"""How the rtc process forwards media without decoding or encoding it (installed once at startup).

aiortc is built for endpoints: every RTCRtpReceiver decodes what it receives (in a thread
running the module-level ``aiortc.rtcrtpreceiver.decoder_worker``) and every RTCRtpSender
encodes what its track yields. A lesson server that did both would spend a VP8 encoder
per student. Two small adaptations make aiortc forward instead:

* ``decoder_worker`` is replaced by :func:`forward_worker`, which turns each reassembled
  encoded frame (aiortc's ``JitterFrame``) into an ``av.Packet`` (pts = RTP timestamp,
  time_base = 1/clock rate) and puts it on the receiver's track queue. No decoder exists.
* ``aiortc.rtcrtpsender.get_encoder`` is replaced by :func:`packing_encoder`. aiortc's
  sender already sends pre-encoded packets (``_next_encoded_frame`` hands anything that
  is not an ``av.Frame`` to ``encoder.pack``), but it still *constructs* the codec's
  encoder first, and ``OpusEncoder()`` allocates a libopus context and a resampler per
  sender. :class:`PacketPacker` does exactly what ``Vp8Encoder.pack`` / ``OpusEncoder.pack``
  do (it reuses ``Vp8Encoder._packetize``) and cannot encode at all.

A third, per sender, is :func:`quiet_when_idle`: a subscriber's idle slots send no RTCP
sender reports (aiortc sends one a second from every sender, whether it sent media or not).

:data:`CODEC_COUNTS` counts every aiortc encoder and decoder constructed in this process
(their ``__init__`` is wrapped), so the room stats can show ``encoders_started: 0`` as a
measured fact rather than a claim. Only the rtc process calls :func:`install`; clients
in tests and benchmarks keep aiortc's stock behaviour (they decode to prove what they got).
"""
import asyncio
import fractions
import functools
import logging
import queue
import threading

import av
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
from aiortc.codecs import base as codec_base
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import VIDEO_TIME_BASE, convert_timebase
from aiortc.rtp import RtcpSrPacket

logger = logging.getLogger(__name__)

OPUS_TIME_BASE = fractions.Fraction(1, 48000)
CODEC_COUNTS = {"encoders_started": 0, "decoders_started": 0}
_installed = {}


def is_vp8_keyframe(data) -> bool:
    """A VP8 frame is a keyframe when bit 0 of its first byte (the inverse key-frame flag) is 0."""
    return len(data) > 0 and (data[0] & 0x01) == 0


def forward_worker(loop, input_q: queue.Queue, output_q: asyncio.Queue, decode_error: threading.Event) -> None:
    """Stands in for ``aiortc.rtcrtpreceiver.decoder_worker``: same signature, no decoding.

    Runs in the receiver's thread. Each ``(codec, JitterFrame)`` becomes an ``av.Packet``
    handed to the track's asyncio queue; ``None`` ends the track as the stock worker does.
    ``decode_error`` is never set: nothing is decoded, so nothing can fail to decode.
    """
    time_bases = {}

    def hand_over(item):
        try:
            loop.call_soon_threadsafe(output_q.put_nowait, item)
        except RuntimeError:  # the loop is closed: the process is shutting down
            pass

    while True:
        task = input_q.get()
        if task is None:
            hand_over(None)
            break
        codec, encoded_frame = task
        time_base = time_bases.get(codec.clockRate)
        if time_base is None:
            time_base = time_bases[codec.clockRate] = fractions.Fraction(1, codec.clockRate)
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = time_base
        hand_over(packet)


class PacketPacker(codec_base.Encoder):
    """The sender-side "encoder" of the rtc process: packetizes pre-encoded frames only.

    ``pack`` mirrors ``Vp8Encoder.pack`` (RFC 7741 payload descriptor with a running
    picture id, via aiortc's own ``Vp8Encoder._packetize``) and ``OpusEncoder.pack``
    (one packet per frame). It has no ``target_bitrate``, so REMB from a student is
    ignored, as it must be: the publisher's bitrate is not ours to change.
    """

    def __init__(self, codec_name: str) -> None:
        self.codec_name = codec_name
        self.picture_id = 0

    def encode(self, frame, force_keyframe: bool = False):
        raise RuntimeError("the rtc process forwards encoded media; it never encodes")

    def pack(self, packet):
        data = bytes(packet)
        if self.codec_name == "VP8":
            payloads = Vp8Encoder._packetize(data, self.picture_id)
            self.picture_id = (self.picture_id + 1) % (1 << 15)
            return payloads, convert_timebase(packet.pts, packet.time_base, VIDEO_TIME_BASE)
        return [data], convert_timebase(packet.pts, packet.time_base, OPUS_TIME_BASE)


def packing_encoder(codec):
    """Replacement for ``aiortc.rtcrtpsender.get_encoder``: only VP8 and Opus are negotiated here."""
    if codec.name not in ("VP8", "opus"):
        raise ValueError(f"the rtc process only forwards VP8 and Opus, not {codec.mimeType}")
    return PacketPacker(codec.name)


def quiet_when_idle(sender) -> None:
    """Let ``sender`` skip its periodic RTCP sender report when it sent no RTP since the last one.

    A subscription has 7 slots and usually only 1–3 carry media; the others' reports (SR and
    SDES, about 120 bytes a second each, over IP) would cost an audio-only student about
    6 kbit/s of downstream and the server 6 SRTCP packets a second per student. RFC 3550
    (6.4) keeps SRs for senders that sent data; a BYE still goes out when the sender stops.
    """
    send = sender._send_rtcp
    reported = [0]  # a slot that never carried media never reports

    async def _send_rtcp(packets):
        if packets and isinstance(packets[0], RtcpSrPacket):
            count = packets[0].sender_info.packet_count
            if count == reported[0]:
                return
            reported[0] = count
        await send(packets)

    sender._send_rtcp = _send_rtcp


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _counting_init(cls, counter):
    original = cls.__dict__.get("__init__")
    if original is None or getattr(original, "_parta_counted", False):
        return None

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        CODEC_COUNTS[counter] += 1
        original(self, *args, **kwargs)

    __init__._parta_counted = True
    cls.__init__ = __init__
    return original


def install() -> None:
    """Switch this process's aiortc to forwarding. Idempotent; call before any connection exists."""
    if _installed:
        return
    _installed["decoder_worker"] = aiortc.rtcrtpreceiver.decoder_worker
    _installed["get_encoder"] = aiortc.rtcrtpsender.get_encoder
    aiortc.rtcrtpreceiver.decoder_worker = forward_worker
    aiortc.rtcrtpsender.get_encoder = packing_encoder
    inits = {}
    for base, counter in ((codec_base.Encoder, "encoders_started"), (codec_base.Decoder, "decoders_started")):
        for cls in _all_subclasses(base):
            if cls is PacketPacker:
                continue
            original = _counting_init(cls, counter)
            if original is not None:
                inits[cls] = original
    _installed["inits"] = inits
    logger.info("aiortc switched to forwarding (no decoder, no encoder)")


def uninstall() -> None:
    """Undo :func:`install` (for tests that install it in their own process)."""
    if not _installed:
        return
    aiortc.rtcrtpreceiver.decoder_worker = _installed["decoder_worker"]
    aiortc.rtcrtpsender.get_encoder = _installed["get_encoder"]
    for cls, original in _installed["inits"].items():
        cls.__init__ = original
    _installed.clear()


def installed() -> bool:
    return bool(_installed)
