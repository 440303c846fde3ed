"""The lesson SFU: rooms, participants, published sources and subscriber slots.

A participant publishes over one peer connection (at most one audio, one camera and one
screen track) and subscribes over another, which the server offers with fixed *slots*:
3 audio and 4 video sendonly transceivers. Which source a slot carries is decided here
(host first, then the most recently active speakers; video by the subscriber's mode) and
changed with ``sender.replaceTrack`` — never by renegotiation, so the web app does one
offer/answer per connection and then only moves slots.

Media are forwarded, not transcoded (see rtc/forwarding.py): each published track has one
reader task that takes the encoded frames aiortc reassembled and offers them to every
subscribed :class:`SlotTrack`, a small bounded queue per subscriber slot. Audio drops its
oldest frame when a subscriber falls behind; video drops everything until the next
keyframe, which it requests from the publisher (at most once a second per published
track, see :meth:`Source.request_keyframe`).
"""
import asyncio
import collections
import logging
import math
import os
import time

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc import sdp as aiortc_sdp
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpsender import RTCRtpSender

from rtc import forwarding

logger = logging.getLogger(__name__)

ROLES = ("host", "student", "listener")
MODES = ("audio", "speaker", "grid")
AUDIO_SLOTS = 3
VIDEO_SLOTS = 4
GRID_TILES = 4
AUDIO_QUEUE = 10  # 200 ms of Opus: older frames are useless in a conversation
VIDEO_QUEUE = 30  # 2 s at 15 fps: past that, skip to the next keyframe
KEYFRAME_INTERVAL = 1.0  # seconds between keyframe requests to one published track
SPEAKING_LEVEL = 60  # RFC 6464 level (-dBov) at or under which a packet counts as speech
SPEECH_GAP = 1.0  # this much silence ends a talk spurt; the next one moves the speaker up
SPEAKER_HOLD = 20.0  # a non-host speaker keeps an audio slot this long after speaking
TICK = 1.0  # how often each room re-evaluates its slots (speakers fall silent without events)
DEFAULT_MAX_PARTICIPANTS = 100


class SfuError(Exception):
    """A refusal the HTTP layer turns into ``{"error": code}`` with ``status``."""

    def __init__(self, status: int, code: str):
        super().__init__(code)
        self.status = status
        self.code = code


def rtc_configuration() -> RTCConfiguration:
    """ICE servers from RTC_ICE_SERVERS (comma-separated URLs); none by default.

    aiortc would otherwise ask Google's public STUN server, which a school's server may
    not reach and which slows every connection's gathering.
    """
    urls = [url.strip() for url in os.environ.get("RTC_ICE_SERVERS", "").split(",") if url.strip()]
    # max-bundle: one transport for all slots. With aiortc's default (balanced), the 2nd..4th
    # video transceivers stay tied to the 1st video's transport, which the browser's BUNDLE
    # answer leaves unused, and their senders never start.
    return RTCConfiguration(
        iceServers=[RTCIceServer(urls=url) for url in urls], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
    )


def codec_preferences(kind: str):
    """Opus for audio, VP8 (+ its RTX) for video: the only codecs the forwarder can pack."""
    wanted = ("audio/opus",) if kind == "audio" else ("video/vp8", "video/rtx")
    return [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() in wanted]


class Unit:
    """One encoded frame as received from a publisher, shared by all its subscribers."""

    __slots__ = ("data", "pts", "time_base", "keyframe")

    def __init__(self, data: bytes, pts: int, time_base, keyframe: bool):
        self.data = data
        self.pts = pts
        self.time_base = time_base
        self.keyframe = keyframe


class OutFrame:
    """What a slot track yields to its sender: packet-like (bytes, pts, time_base), not a Frame.

    aiortc's sender hands every non-``av.Frame`` to ``encoder.pack``. The pts is rebased
    per slot so the subscriber sees one continuous RTP timeline across source switches.
    """

    __slots__ = ("data", "pts", "time_base")

    def __init__(self, data: bytes, pts: int, time_base):
        self.data = data
        self.pts = pts
        self.time_base = time_base

    def __bytes__(self):
        return self.data


class Source:
    """One published track (audio, camera or screen) and its fan-out to subscriber slots."""

    def __init__(self, participant, kind: str, track, receiver):
        self.participant = participant
        self.room = participant.room
        self.kind = kind
        self.media_kind = "audio" if kind == "audio" else "video"
        self.track = track
        self.receiver = receiver
        self.subscribers = set()
        self.ssrc = None
        self.received = 0
        self.forwarded = 0  # frames of this source handed to subscribers' senders
        self.dropped_muted = 0
        self.last_loud = None
        self._last_pli = -math.inf
        self._pli_timer = None
        self._hook_receiver()
        self.task = asyncio.ensure_future(self._run())

    @property
    def enabled(self) -> bool:
        """The publisher's own on/off switch (``/media``); when off, what arrives is dropped."""
        flag = {"audio": "audio", "camera": "video", "screen": "screen"}[self.kind]
        return self.participant.media[flag]

    def _hook_receiver(self):
        """Read the publisher's SSRC and RFC 6464 audio level from the RTP packets.

        The encoded frames the forwarder gets carry neither, so this instance (not the
        class) gets a thin wrapper around ``_handle_rtp_packet``: cheap, and only on our
        publish receivers.
        """
        original = self.receiver._handle_rtp_packet
        is_audio = self.media_kind == "audio"

        async def handle_rtp_packet(packet, arrival_time_ms):
            if self.ssrc is None:
                self.ssrc = packet.ssrc
            if is_audio:
                self._note_audio_level(packet.extensions.audio_level)
            await original(packet, arrival_time_ms=arrival_time_ms)

        self.receiver._handle_rtp_packet = handle_rtp_packet

    def _note_audio_level(self, level):
        """Track talk spurts. Without the level extension, any packet counts as speech."""
        if not self.enabled:
            return
        if level is not None and level[1] > SPEAKING_LEVEL:
            return
        now = time.monotonic()
        spurt_starts = self.last_loud is None or now - self.last_loud > SPEECH_GAP
        self.last_loud = now
        if spurt_starts:
            self.room.speaker_started(self.participant.pid)

    async def _run(self):
        """The one reader of this track: each encoded frame goes to every subscribed slot."""
        is_video = self.media_kind == "video"
        try:
            while True:
                packet = await self.track.recv()
                if not self.enabled:
                    self.dropped_muted += 1
                    continue
                data = bytes(packet)
                unit = Unit(data, packet.pts, packet.time_base, is_video and forwarding.is_vp8_keyframe(data))
                self.received += 1
                if unit.keyframe:
                    logger.debug("keyframe from %s/%s (%d bytes)", self.participant.pid, self.kind, len(data))
                for subscriber in self.subscribers:
                    subscriber.offer(unit)
        except MediaStreamError:
            pass

    def request_keyframe(self):
        """Ask the publisher for a keyframe (RTCP PLI), at most once per KEYFRAME_INTERVAL.

        A request inside the interval is not lost: one deferred PLI goes out when the
        interval ends, so a subscriber who joins just after a keyframe still gets one.
        """
        if self.media_kind != "video" or self.task.done():
            return
        wait = self._last_pli + KEYFRAME_INTERVAL - time.monotonic()
        if wait <= 0:
            self._send_pli()
        elif self._pli_timer is None:
            self._pli_timer = asyncio.get_running_loop().call_later(wait, self._send_pli)

    def _send_pli(self):
        self._pli_timer = None
        if self.task.done():
            return
        self._last_pli = time.monotonic()
        if self.ssrc is None:
            return  # nothing received yet: the publisher's first frame is a keyframe anyway
        self.room.keyframe_requests += 1
        logger.debug("PLI to %s/%s ssrc %s", self.participant.pid, self.kind, self.ssrc)
        asyncio.ensure_future(self.receiver._send_rtcp_pli(self.ssrc))

    def close(self):
        if self._pli_timer is not None:
            self._pli_timer.cancel()
            self._pli_timer = None
        self.task.cancel()
        for track in list(self.subscribers):
            track.slot.assign(None)


class SlotTrack(MediaStreamTrack):
    """What one subscriber slot sends while it carries one source (or nothing).

    Switching sources replaces the sender's track; the retired track hands its pending
    ``recv()`` over to its successor, so the sender's loop never stops or polls.
    """

    def __init__(self, slot, source):
        super().__init__()
        self.kind = slot.kind
        self.slot = slot
        self.source = source
        self._queue = collections.deque()
        self._waiter = None
        self._retired = False
        self._successor = None
        self._awaiting_keyframe = slot.kind == "video"
        self.dropped = 0

    def offer(self, unit: Unit):
        """Called by the source's reader for every frame; never blocks."""
        queue = self._queue
        if self.kind == "audio":
            if len(queue) >= AUDIO_QUEUE:
                queue.popleft()
                self.dropped += 1
        else:
            if not self._awaiting_keyframe and len(queue) >= VIDEO_QUEUE:
                self.dropped += len(queue)
                queue.clear()
                self._awaiting_keyframe = True
                self.source.request_keyframe()
            if self._awaiting_keyframe:
                if not unit.keyframe:
                    self.dropped += 1
                    return
                self._awaiting_keyframe = False
        queue.append(unit)
        self._wake()

    def _wake(self):
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def retire(self, successor):
        self._retired = True
        self._successor = successor
        self._queue.clear()
        self._wake()
        if successor is None:
            self.stop()

    async def recv(self):
        sender = self.slot.sender
        # aiortc's sender marks a student's PLI/FIR for its encoder, which we do not have:
        # pass it on to the publisher instead.
        if self.kind == "video" and sender._RTCRtpSender__force_keyframe:
            sender._RTCRtpSender__force_keyframe = False
            self.slot.subscription.room.keyframe_requests_received += 1
            if self.source is not None:
                self.source.request_keyframe()
        while not self._queue:
            if self._retired:
                if self._successor is None:
                    raise MediaStreamError
                return await self._successor.recv()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        unit = self._queue.popleft()
        self.source.forwarded += 1
        self.slot.subscription.room.forwarded[self.slot.kind] += 1
        return OutFrame(unit.data, self.slot.rebase(unit, self.source), unit.time_base)


class Slot:
    """One sendonly transceiver of a subscription, fed by at most one source at a time."""

    def __init__(self, subscription, kind: str, transceiver):
        self.subscription = subscription
        self.kind = kind
        self.transceiver = transceiver
        self.sender = transceiver.sender
        self.source = None
        self.track = SlotTrack(self, None)
        self.sender.replaceTrack(self.track)
        forwarding.quiet_when_idle(self.sender)
        self._clock_source = None
        self._offset = 0
        self._last_out = None
        self._last_wall = None

    @property
    def mid(self):
        return self.transceiver.mid

    def assign(self, source):
        """Feed this slot from ``source`` (or nothing) with ``replaceTrack``: no renegotiation."""
        if source is self.source:
            return
        old = self.track
        if self.source is not None:
            self.source.subscribers.discard(old)
        self.source = source
        self.track = SlotTrack(self, source)
        self.sender.replaceTrack(self.track)
        old.retire(self.track)
        if source is not None:
            source.subscribers.add(self.track)
            source.request_keyframe()  # a new video subscriber needs a keyframe to start

    def rebase(self, unit: Unit, source) -> int:
        """Map a source's pts onto this slot's continuous timeline (wall clock across switches)."""
        now = time.monotonic()
        if source is not self._clock_source:
            if self._last_out is None:
                target = 0
            else:
                rate = unit.time_base.denominator / unit.time_base.numerator
                target = self._last_out + max(1, int((now - self._last_wall) * rate))
            self._offset = target - unit.pts
            self._clock_source = source
        out = unit.pts + self._offset
        self._last_out = out
        self._last_wall = now
        return out

    def describe(self):
        return {"pid": self.source.participant.pid, "kind": self.source.kind}

    def close(self):
        if self.source is not None:
            self.source.subscribers.discard(self.track)
            self.source = None
        self.track.retire(None)


class Subscription:
    """A participant's downstream connection: its slots and the mode that fills them."""

    def __init__(self, participant, pc, mode: str):
        self.participant = participant
        self.room = participant.room
        self.pc = pc
        self.mode = mode
        self.audio_slots = []
        self.video_slots = []
        self.answered = False

    def slots(self) -> dict:
        return {
            slot.mid: slot.describe()
            for slot in self.audio_slots + self.video_slots
            if slot.source is not None and slot.mid is not None
        }

    def apply(self, audio_sources, video_sources):
        """Give each wanted source a slot, keeping slots that already carry a wanted source."""
        me = self.participant
        wanted_audio = [s for s in audio_sources if s.participant is not me][:AUDIO_SLOTS]
        if self.mode == "audio":
            wanted_video = []
        else:
            limit = 1 if self.mode == "speaker" else GRID_TILES
            wanted_video = [s for s in video_sources if s.participant is not me][:limit]
        _fill(self.audio_slots, wanted_audio)
        _fill(self.video_slots, wanted_video)

    def close(self):
        for slot in self.audio_slots + self.video_slots:
            slot.close()


def _fill(slots, wanted):
    wanted_set = set(wanted)
    held = {slot.source for slot in slots if slot.source in wanted_set}
    free = [slot for slot in slots if slot.source not in wanted_set]
    for source in wanted:
        if source not in held and free:
            free.pop(0).assign(source)
    for slot in free:
        slot.assign(None)


class Participant:
    def __init__(self, room, pid: str, role: str, seq: int):
        self.room = room
        self.pid = pid
        self.role = role
        self.seq = seq
        self.media = {"audio": True, "video": True, "screen": True}
        self.mode = None
        self.publish_pc = None
        self.sources = {}
        self.subscription = None
        self.lock = asyncio.Lock()

    def describe(self) -> dict:
        return {
            "pid": self.pid,
            "role": self.role,
            "audio": self.media["audio"],
            "video": self.media["video"],
            "screen": "screen" in self.sources and self.media["screen"],
            "publishing": list(self.sources),
            "mode": self.mode,
            "subscribed": self.subscription is not None,
            "sources": {
                kind: {"received": s.received, "forwarded": s.forwarded, "dropped_muted": s.dropped_muted}
                for kind, s in self.sources.items()
            },
        }

    def _watch(self, pc):
        @pc.on("connectionstatechange")
        async def on_state():
            if pc.connectionState == "failed":
                await self.drop_connection(pc)

    async def drop_connection(self, pc):
        if pc is self.publish_pc:
            await self.stop_publishing()
        elif self.subscription is not None and pc is self.subscription.pc:
            await self.stop_subscribing()
        self.room.schedule_rebalance()

    async def stop_publishing(self):
        pc, sources = self.publish_pc, self.sources
        self.publish_pc, self.sources = None, {}
        for source in sources.values():
            source.close()
        if pc is not None:
            await pc.close()

    async def stop_subscribing(self):
        subscription, self.subscription = self.subscription, None
        if subscription is not None:
            subscription.close()
            await subscription.pc.close()

    async def close(self):
        await self.stop_publishing()
        await self.stop_subscribing()


class Room:
    def __init__(self, room_id: str, host, max_participants: int):
        self.id = room_id
        self.host = host
        self.max_participants = max_participants
        self.participants = {}
        self.speakers = []  # non-host pids, most recent talk spurt first
        self.forwarded = {"audio": 0, "video": 0}
        self.keyframe_requests = 0
        self.keyframe_requests_received = 0
        self._seq = 0
        self._rebalance_pending = False
        self._ticker = asyncio.ensure_future(self._tick())

    # membership ---------------------------------------------------------------------

    def participant(self, pid: str) -> Participant:
        participant = self.participants.get(pid)
        if participant is None:
            raise SfuError(404, "no_such_participant")
        return participant

    def join(self, pid: str, role: str) -> Participant:
        participant = self.participants.get(pid)
        if participant is not None:
            participant.role = role
            self.schedule_rebalance()
            return participant
        if len(self.participants) >= self.max_participants:
            raise SfuError(409, "room_full")
        self._seq += 1
        participant = self.participants[pid] = Participant(self, pid, role, self._seq)
        return participant

    async def leave(self, pid: str):
        participant = self.participants.pop(pid, None)
        if participant is None:
            raise SfuError(404, "no_such_participant")
        if pid in self.speakers:
            self.speakers.remove(pid)
        await participant.close()
        self.schedule_rebalance()

    def host_participant(self):
        host = self.participants.get(self.host) if self.host is not None else None
        if host is not None:
            return host
        return next((p for p in self.participants.values() if p.role == "host"), None)

    # slot policy --------------------------------------------------------------------

    def speaker_started(self, pid: str):
        """A talk spurt began: that speaker moves to the front of the queue for audio slots."""
        if self.speakers and self.speakers[0] == pid:
            return
        if pid in self.speakers:
            self.speakers.remove(pid)
        self.speakers.insert(0, pid)
        self.schedule_rebalance()

    def audio_sources(self):
        """Host first, then unmuted speakers who spoke within SPEAKER_HOLD, latest spurt first."""
        now = time.monotonic()
        host = self.host_participant()
        chosen = []
        if host is not None:
            source = host.sources.get("audio")
            if source is not None and source.enabled:
                chosen.append(source)
        for pid in self.speakers:
            participant = self.participants.get(pid)
            if participant is None or participant is host:
                continue
            source = participant.sources.get("audio")
            if source is None or not source.enabled or source.last_loud is None:
                continue
            if now - source.last_loud <= SPEAKER_HOLD:
                chosen.append(source)
        return chosen

    def video_sources(self):
        """Screen shares (host's first), the host's camera, then cameras by speaking order."""
        host = self.host_participant()
        rank = {pid: i for i, pid in enumerate(self.speakers)}
        others = sorted(
            (p for p in self.participants.values() if p is not host),
            key=lambda p: (rank.get(p.pid, len(rank)), p.seq),
        )
        ordered = ([host] if host is not None else []) + others
        screens = [p.sources["screen"] for p in ordered if "screen" in p.sources and p.sources["screen"].enabled]
        cameras = [p.sources["camera"] for p in ordered if "camera" in p.sources and p.sources["camera"].enabled]
        return screens + cameras

    def schedule_rebalance(self):
        if not self._rebalance_pending:
            self._rebalance_pending = True
            asyncio.get_running_loop().call_soon(self.rebalance)

    def rebalance(self):
        self._rebalance_pending = False
        audio, video = self.audio_sources(), self.video_sources()
        for participant in self.participants.values():
            if participant.subscription is not None:
                participant.subscription.apply(audio, video)

    async def _tick(self):
        """Speakers fall silent without any event: re-evaluate the slots every TICK."""
        while True:
            await asyncio.sleep(TICK)
            self.rebalance()

    # publish / subscribe ------------------------------------------------------------

    async def publish(self, pid: str, sdp: str, screen_mids=()):
        participant = self.participant(pid)
        if participant.role == "listener":
            raise SfuError(403, "not_allowed")
        async with participant.lock:
            pc = RTCPeerConnection(rtc_configuration())
            try:
                description = aiortc_sdp.SessionDescription.parse(sdp)
                if not any(
                    m.kind in ("audio", "video") and m.direction in ("sendonly", "sendrecv")
                    for m in description.media
                ):
                    raise ValueError("the offer sends no audio or video")
                # Transceivers made before the offer is applied are matched to its m-lines
                # in order, by kind, so the codec preferences (Opus, VP8) shape the answer.
                # One per m-line: an unmatched transceiver would break aiortc's answer.
                for media in description.media:
                    if media.kind in ("audio", "video"):
                        transceiver = pc.addTransceiver(media.kind, direction="recvonly")
                        transceiver.setCodecPreferences(codec_preferences(media.kind))
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
                await pc.setLocalDescription(await pc.createAnswer())
            except Exception as exc:  # aiortc raises many types for a bad offer
                logger.info("bad publish offer from %s: %s", pid, exc)
                await pc.close()
                raise SfuError(400, "bad_sdp") from exc
            if pid not in self.participants:  # left while we negotiated
                await pc.close()
                raise SfuError(404, "no_such_participant")
            await participant.stop_publishing()
            participant.publish_pc = pc
            participant._watch(pc)
            participant.sources = self._sources_of(participant, pc, description, set(screen_mids or ()))
            self.schedule_rebalance()
            return pc.localDescription

    def _sources_of(self, participant, pc, description, screen_mids):
        """Name each received track: audio, camera or screen (by mid list, msid, or order)."""
        media_by_mid = {m.rtp.muxId: m for m in description.media}
        sources = {}
        pending_video = []
        for transceiver in pc.getTransceivers():
            track = transceiver.receiver.track
            media = media_by_mid.get(transceiver.mid)
            if track is None or media is None or media.direction not in ("sendonly", "sendrecv"):
                continue
            if transceiver.kind == "audio":
                if "audio" not in sources:
                    sources["audio"] = Source(participant, "audio", track, transceiver.receiver)
                continue
            marked = transceiver.mid in screen_mids or "screen" in (media.msid or "").lower()
            pending_video.append((marked, transceiver, track))
        for marked, transceiver, track in sorted(pending_video, key=lambda item: not item[0]):
            kind = "screen" if marked and "screen" not in sources else None
            if kind is None:
                kind = "camera" if "camera" not in sources else ("screen" if "screen" not in sources else None)
            if kind is not None:
                sources[kind] = Source(participant, kind, track, transceiver.receiver)
        return sources

    async def subscribe(self, pid: str, mode: str):
        participant = self.participant(pid)
        async with participant.lock:
            await participant.stop_subscribing()
            pc = RTCPeerConnection(rtc_configuration())
            subscription = Subscription(participant, pc, mode)
            for kind, count, slots in (
                ("audio", AUDIO_SLOTS, subscription.audio_slots),
                ("video", VIDEO_SLOTS, subscription.video_slots),
            ):
                for _ in range(count):
                    transceiver = pc.addTransceiver(kind, direction="sendonly")
                    transceiver.setCodecPreferences(codec_preferences(kind))
                    slots.append(Slot(subscription, kind, transceiver))
            await pc.setLocalDescription(await pc.createOffer())
            if pid not in self.participants:
                subscription.close()
                await pc.close()
                raise SfuError(404, "no_such_participant")
            participant.subscription = subscription
            participant.mode = mode
            participant._watch(pc)
            subscription.apply(self.audio_sources(), self.video_sources())
            return pc.localDescription, subscription.slots()

    async def subscribe_answer(self, pid: str, sdp: str):
        participant = self.participant(pid)
        async with participant.lock:
            subscription = participant.subscription
            if subscription is None or subscription.answered:
                raise SfuError(400, "bad_sdp")
            try:
                await subscription.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            except Exception as exc:
                logger.info("bad subscribe answer from %s: %s", pid, exc)
                raise SfuError(400, "bad_sdp") from exc
            subscription.answered = True

    def set_mode(self, pid: str, mode: str) -> dict:
        participant = self.participant(pid)
        participant.mode = mode
        if participant.subscription is None:
            return {}
        participant.subscription.mode = mode
        participant.subscription.apply(self.audio_sources(), self.video_sources())
        return participant.subscription.slots()

    def set_media(self, pid: str, media: dict):
        participant = self.participant(pid)
        for key in ("audio", "video", "screen"):
            if key in media:
                participant.media[key] = bool(media[key])
        self.schedule_rebalance()

    def slots(self, pid: str) -> dict:
        participant = self.participant(pid)
        return participant.subscription.slots() if participant.subscription is not None else {}

    # reporting and teardown -------------------------------------------------------

    def describe(self) -> dict:
        sources = [s for p in self.participants.values() for s in p.sources.values()]
        return {
            "room": self.id,
            "host": self.host,
            "max_participants": self.max_participants,
            "participants": [p.describe() for p in self.participants.values()],
            "forwarded": dict(self.forwarded),
            "received": {
                kind: sum(s.received for s in sources if s.media_kind == kind) for kind in ("audio", "video")
            },
            "dropped_muted": sum(s.dropped_muted for s in sources),
            "keyframe_requests": self.keyframe_requests,
            "keyframe_requests_received": self.keyframe_requests_received,
            "speakers": list(self.speakers),
            "encoders_started": forwarding.CODEC_COUNTS["encoders_started"],
            "decoders_started": forwarding.CODEC_COUNTS["decoders_started"],
        }

    def connection_count(self) -> int:
        return sum(
            (p.publish_pc is not None) + (p.subscription is not None) for p in self.participants.values()
        )

    async def close(self):
        self._ticker.cancel()
        participants = list(self.participants.values())
        self.participants.clear()
        await asyncio.gather(*(p.close() for p in participants), return_exceptions=True)


class Sfu:
    """All rooms of this process."""

    def __init__(self):
        self.rooms = {}

    def room(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            raise SfuError(404, "no_such_room")
        return room

    def put_room(self, room_id: str, host=None, max_participants=None) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(room_id, host, max_participants or DEFAULT_MAX_PARTICIPANTS)
        else:
            if host is not None:
                room.host = host
            if max_participants:
                room.max_participants = max_participants
        return room

    async def delete_room(self, room_id: str):
        room = self.rooms.pop(room_id, None)
        if room is None:
            raise SfuError(404, "no_such_room")
        await room.close()

    async def leave(self, room_id: str, pid: str):
        room = self.room(room_id)
        await room.leave(pid)
        if not room.participants and self.rooms.get(room_id) is room:
            del self.rooms[room_id]
            await room.close()

    async def close(self) -> int:
        """Close every peer connection (graceful shutdown); returns how many there were."""
        rooms = list(self.rooms.values())
        self.rooms.clear()
        count = sum(room.connection_count() for room in rooms)
        await asyncio.gather(*(room.close() for room in rooms), return_exceptions=True)
        return count
