"""The lesson SFU (rtc/): real aiortc clients against `python -m rtc` in a subprocess.

Clients publish synthetic media and decode what they receive with their own aiortc
receivers, which proves the forwarded VP8 and Opus are valid. Timing is never asserted:
every wait polls with a generous deadline, for a loaded 2-core machine.
"""
import asyncio
import fractions
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import pytest
from aiortc import sdp as aiortc_sdp
from av import AudioFrame, VideoFrame

from conftest import free_port, run_async
from rtc.synthetic import LessonPeer, SyntheticAudioTrack, SyntheticVideoTrack

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 60


class RtcProcess:
    def __init__(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rtc"],
            cwd=ROOT,
            env={**os.environ, "RTC_PORT": str(self.port)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def stop(self):
        self.process.terminate()
        code = self.process.wait(timeout=30)
        return code, "".join(self.lines)


@pytest.fixture(scope="module")
def rtc():
    server = RtcProcess()
    try:
        run_async(_wait_healthy(server.base))
        yield server
    finally:
        server.stop()


async def _wait_healthy(base):
    deadline = time.monotonic() + DEADLINE
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(base + "/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.2)


async def eventually(predicate, timeout=DEADLINE, interval=0.25):
    """Poll an (async or plain) predicate until it holds; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)


class Counter:
    """Drains every remote track of a subscriber, counting decoded frames by mid."""

    def __init__(self, peer):
        self.peer = peer
        self.frames = {}
        self.sizes = {}
        self.tasks = {}

    def start(self):
        for mid, track in self.peer.tracks.items():
            if mid not in self.tasks:
                self.tasks[mid] = asyncio.ensure_future(self._drain(mid, track))

    async def _drain(self, mid, track):
        try:
            while True:
                frame = await track.recv()
                assert isinstance(frame, (AudioFrame, VideoFrame))
                self.frames[mid] = self.frames.get(mid, 0) + 1
                if isinstance(frame, VideoFrame):
                    self.sizes[mid] = (frame.width, frame.height)
        except Exception:
            pass

    def count(self, mid):
        return self.frames.get(mid, 0)

    def stop(self):
        for task in self.tasks.values():
            task.cancel()


def mid_of(slots, pid, kind):
    return next((mid for mid, slot in slots.items() if slot == {"pid": pid, "kind": kind}), None)


async def room_state(http, base, room):
    async with http.get(f"{base}/rooms/{room}") as response:
        assert response.status == 200
        return await response.json()


async def put_room(http, base, room, host, cap=None):
    body = {"host": host}
    if cap is not None:
        body["max_participants"] = cap
    async with http.put(f"{base}/rooms/{room}", json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def participant(state, pid):
    return next(p for p in state["participants"] if p["pid"] == pid)


# The forwarding adaptation, in this process --------------------------------------------


def test_forward_worker_turns_encoded_frames_into_packets_without_decoding():
    from aiortc.codecs import CODECS
    from aiortc.jitterbuffer import JitterFrame

    from rtc.forwarding import forward_worker

    vp8 = next(c for c in CODECS["video"] if c.name == "VP8")

    async def scenario():
        output = asyncio.Queue()
        input_q = queue.Queue()
        input_q.put((vp8, JitterFrame(data=b"\x10\x02\x00garbage-not-vp8", timestamp=3000)))
        input_q.put(None)
        worker = threading.Thread(target=forward_worker, args=(asyncio.get_running_loop(), input_q, output, error))
        worker.start()
        packet = await asyncio.wait_for(output.get(), 10)
        end = await asyncio.wait_for(output.get(), 10)
        worker.join(timeout=10)
        return packet, end

    error = threading.Event()
    packet, end = run_async(scenario())
    # Undecodable bytes pass through untouched: nothing tried to decode them.
    assert bytes(packet) == b"\x10\x02\x00garbage-not-vp8"
    assert packet.pts == 3000 and packet.time_base == fractions.Fraction(1, 90000)
    assert end is None and not error.is_set()


def test_install_switches_aiortc_to_packing_and_counts_codecs():
    import aiortc.rtcrtpreceiver
    import aiortc.rtcrtpsender
    from aiortc.codecs import CODECS, get_encoder
    from aiortc.codecs.opus import OpusEncoder
    from aiortc.codecs.vpx import Vp8Encoder
    from av.packet import Packet

    from rtc import forwarding

    stock_worker = aiortc.rtcrtpreceiver.decoder_worker
    forwarding.install()
    try:
        assert aiortc.rtcrtpreceiver.decoder_worker is forwarding.forward_worker
        vp8 = next(c for c in CODECS["video"] if c.name == "VP8")
        packer = aiortc.rtcrtpsender.get_encoder(vp8)
        assert isinstance(packer, forwarding.PacketPacker)
        with pytest.raises(RuntimeError):
            packer.encode(None)
        packet = Packet(bytes(3000))
        packet.pts, packet.time_base = 900, fractions.Fraction(1, 90000)
        before = forwarding.CODEC_COUNTS["encoders_started"]
        stock = Vp8Encoder()
        stock.picture_id = packer.picture_id
        assert packer.pack(packet) == stock.pack(packet)  # same RTP payloads as aiortc's own
        OpusEncoder()  # anything constructing an encoder is counted
        assert forwarding.CODEC_COUNTS["encoders_started"] == before + 2  # Vp8Encoder above too
    finally:
        forwarding.uninstall()
    assert aiortc.rtcrtpreceiver.decoder_worker is stock_worker
    assert isinstance(get_encoder(next(c for c in CODECS["audio"] if c.name == "opus")), OpusEncoder)


# The lesson, end to end ----------------------------------------------------------------


def test_students_receive_the_teachers_audio_and_video_forwarded_not_transcoded(rtc):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            await put_room(http, rtc.base, "100", "1")
            teacher = LessonPeer(http, rtc.base, "100", "1", "host")
            students = [LessonPeer(http, rtc.base, "100", str(pid)) for pid in (2, 3, 4)]
            await teacher.join()
            for student in students:
                await student.join()
            await teacher.publish([SyntheticAudioTrack(), SyntheticVideoTrack()])
            # Let the teacher's first keyframe go by: late subscribers need a PLI to start.
            assert await eventually(
                lambda: _received(http, rtc.base, "100", "video", 10)
            ), "the server never received the teacher's video"
            counters = []
            for student, mode in zip(students, ("grid", "speaker", "grid")):
                offer = await student.subscribe(mode)
                assert mid_of(offer["slots"], "1", "audio") is not None
                assert mid_of(offer["slots"], "1", "camera") is not None
                assert await eventually(lambda: len(student.tracks) == 7)
                counter = Counter(student)
                counter.start()
                counters.append(counter)
            try:
                for student, counter in zip(students, counters):
                    audio_mid = mid_of(student.slots, "1", "audio")
                    video_mid = mid_of(student.slots, "1", "camera")
                    assert await eventually(
                        lambda: counter.count(audio_mid) >= 25 and counter.count(video_mid) >= 10
                    ), f"student {student.pid} decoded {counter.frames}"
                    assert counter.sizes[video_mid] == (320, 180)
                    others = [m for m in counter.frames if m not in (audio_mid, video_mid)]
                    assert others == [], "only the slots the server announced carry media"
                # The five idle slots send no RTCP sender reports; the two carrying media do.
                # (aiortc reports every 0.5–1.5 s: after 2.5 s more, an idle slot would have.)
                student = students[0]
                carrying = {mid_of(student.slots, "1", "audio"), mid_of(student.slots, "1", "camera")}

                async def reports_come_from_the_carrying_slots():
                    return await _reporting_mids(student) == carrying

                assert await eventually(reports_come_from_the_carrying_slots), await _reporting_mids(student)
                await asyncio.sleep(2.5)
                assert await _reporting_mids(student) == carrying
                state = await room_state(http, rtc.base, "100")
                assert state["forwarded"]["audio"] > 0 and state["forwarded"]["video"] > 0
                assert state["keyframe_requests"] >= 1
                # Measured in the rtc process: no aiortc encoder or decoder was ever built.
                assert state["encoders_started"] == 0
                assert state["decoders_started"] == 0
                teacher_state = participant(state, "1")
                assert sorted(teacher_state["publishing"]) == ["audio", "camera"]
                assert teacher_state["role"] == "host"
                assert participant(state, "3")["mode"] == "speaker"
            finally:
                for counter in counters:
                    counter.stop()
                for peer in [teacher, *students]:
                    await peer.close()
            async with http.delete(f"{rtc.base}/rooms/100") as response:
                assert response.status == 200
            async with http.get(f"{rtc.base}/rooms/100") as response:
                assert response.status == 404 and (await response.json()) == {"error": "no_such_room"}

    run_async(scenario())


async def _reporting_mids(peer):
    """The subscriber's slots (mids) from which an RTCP sender report has arrived."""
    mids = set()
    for transceiver in peer.subscribe_pc.getTransceivers():
        report = await transceiver.receiver.getStats()
        if any(stat.type == "remote-outbound-rtp" for stat in report.values()):
            mids.add(transceiver.mid)
    return mids


async def _received(http, base, room, kind, at_least):
    state = await room_state(http, base, room)
    return state["received"][kind] >= at_least


def test_a_muted_students_audio_reaches_nobody(rtc):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            await put_room(http, rtc.base, "200", "1")
            teacher = LessonPeer(http, rtc.base, "200", "1", "host")
            muted = LessonPeer(http, rtc.base, "200", "2")
            silent = LessonPeer(http, rtc.base, "200", "3")
            listener = LessonPeer(http, rtc.base, "200", "4", "listener")
            for peer in (teacher, muted, silent, listener):
                await peer.join()
            status, body = await muted.call("POST", "/media", {"audio": False, "video": False})
            await teacher.publish([SyntheticAudioTrack(frequency=300)])
            await muted.publish([SyntheticAudioTrack(frequency=500)])  # a voice, but muted
            await silent.publish([SyntheticAudioTrack(amplitude=0)])  # sends only silence
            await listener.subscribe("audio")
            assert await eventually(lambda: len(listener.tracks) == 7)
            counter = Counter(listener)
            counter.start()
            try:
                state = await eventually(lambda: _state_when(http, rtc.base, "200", _muted_audio_arrived))
                assert state, "the muted student's audio never reached the server"
                await asyncio.sleep(2)  # the muted voice keeps arriving meanwhile
                state = await room_state(http, rtc.base, "200")
                assert participant(state, "2")["audio"] is False
                assert participant(state, "2")["sources"]["audio"]["forwarded"] == 0
                assert participant(state, "3")["sources"]["audio"]["forwarded"] == 0
                assert participant(state, "1")["sources"]["audio"]["forwarded"] > 0
                slots = await listener.refresh_slots()
                assert list(slots.values()) == [{"pid": "1", "kind": "audio"}]
                teacher_mid = mid_of(slots, "1", "audio")
                assert await eventually(lambda: counter.count(teacher_mid) >= 25)
                assert [m for m in counter.frames if m != teacher_mid] == []

                # Unmuted, the same voice is forwarded: the test above could have failed.
                await muted.call("POST", "/media", {"audio": True, "video": True})
                assert await eventually(
                    lambda: _state_when(
                        http, rtc.base, "200", lambda s: participant(s, "2")["sources"]["audio"]["forwarded"] > 0
                    )
                )
                slots = await listener.refresh_slots()
                assert mid_of(slots, "2", "audio") is not None
                assert mid_of(slots, "3", "audio") is None  # silence never takes a slot
            finally:
                counter.stop()
                for peer in (teacher, muted, silent, listener):
                    await peer.close()

    run_async(scenario())


def _muted_audio_arrived(state):
    return participant(state, "2")["sources"].get("audio", {}).get("dropped_muted", 0) > 25


async def _state_when(http, base, room, predicate):
    state = await room_state(http, base, room)
    return state if predicate(state) else None


def test_at_most_three_audio_slots_carry_media_when_five_publish(rtc):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            await put_room(http, rtc.base, "300", "1")
            speakers = [LessonPeer(http, rtc.base, "300", str(pid), "host" if pid == 1 else "student") for pid in range(1, 6)]
            listener = LessonPeer(http, rtc.base, "300", "9", "listener")
            for peer in [*speakers, listener]:
                await peer.join()
            for i, speaker in enumerate(speakers):
                await speaker.publish([SyntheticAudioTrack(frequency=200 + 100 * i)])
            assert await eventually(
                lambda: _state_when(http, rtc.base, "300", lambda s: len(s["speakers"]) == 5)
            ), "every student should have been heard"
            await listener.subscribe("audio")
            assert await eventually(lambda: len(listener.tracks) == 7)
            counter = Counter(listener)
            counter.start()
            try:
                slots = await listener.refresh_slots()
                assert len(slots) == 3
                assert all(slot["kind"] == "audio" for slot in slots.values())
                assert mid_of(slots, "1", "audio") is not None  # the host first
                assert await eventually(lambda: len([m for m in slots if counter.count(m) >= 25]) == 3)
                await asyncio.sleep(2)
                assert len(counter.frames) <= 3, counter.frames
                state = await room_state(http, rtc.base, "300")
                fed = [p["pid"] for p in state["participants"] if p["sources"].get("audio", {}).get("forwarded")]
                assert len(fed) == 3
            finally:
                counter.stop()
                for peer in [*speakers, listener]:
                    await peer.close()

    run_async(scenario())


def test_speaker_mode_shows_the_screen_share_and_grid_adds_the_camera(rtc):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            await put_room(http, rtc.base, "400", "1")
            teacher = LessonPeer(http, rtc.base, "400", "1", "host")
            student = LessonPeer(http, rtc.base, "400", "2")
            await teacher.join()
            await student.join()
            await teacher.publish([SyntheticVideoTrack()], screen_tracks=[SyntheticVideoTrack()])
            offer = await student.subscribe("speaker")
            assert list(offer["slots"].values()) == [{"pid": "1", "kind": "screen"}]
            assert await eventually(lambda: len(student.tracks) == 7)
            counter = Counter(student)
            counter.start()
            try:
                screen_mid = mid_of(offer["slots"], "1", "screen")
                assert await eventually(lambda: counter.count(screen_mid) >= 5)
                _, body = await student.call("POST", "/mode", {"mode": "grid"})
                camera_mid = mid_of(body["slots"], "1", "camera")
                assert camera_mid is not None and mid_of(body["slots"], "1", "screen") == screen_mid
                # The new tile starts on a keyframe the server asked the teacher for.
                assert await eventually(lambda: counter.count(camera_mid) >= 5), counter.frames

                # A student's PLI reaches the teacher through the server (which cannot encode).
                before = await room_state(http, rtc.base, "400")
                media = next(m for m in aiortc_sdp.SessionDescription.parse(offer["sdp"]).media if m.rtp.muxId == camera_mid)
                receiver = next(t.receiver for t in student.subscribe_pc.getTransceivers() if t.mid == camera_mid)
                await receiver._send_rtcp_pli(media.ssrc[0].ssrc)
                after = await eventually(
                    lambda: _state_when(
                        http,
                        rtc.base,
                        "400",
                        lambda s: s["keyframe_requests_received"] > before["keyframe_requests_received"]
                        and s["keyframe_requests"] > before["keyframe_requests"],
                    )
                )
                assert after, "the student's PLI was not passed on to the teacher"
                _, body = await student.call("POST", "/mode", {"mode": "audio"})
                assert body["slots"] == {}
            finally:
                counter.stop()
                await teacher.close()
                await student.close()

    run_async(scenario())


def test_a_listener_cannot_publish_and_errors_follow_the_contract(rtc):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            await put_room(http, rtc.base, "500", "1")
            listener = LessonPeer(http, rtc.base, "500", "7", "listener")
            await listener.join()
            status, body = await listener.publish([SyntheticAudioTrack()], expect=403)
            assert (status, body) == (403, {"error": "not_allowed"})
            status, body = await listener.call("POST", "/publish", {"sdp": "nonsense", "type": "offer"}, expect=403)
            assert body == {"error": "not_allowed"}
            student = LessonPeer(http, rtc.base, "500", "8")
            await student.join()
            status, body = await student.call("POST", "/publish", {"sdp": "nonsense", "type": "offer"}, expect=400)
            assert body == {"error": "bad_sdp"}
            stranger = LessonPeer(http, rtc.base, "500", "99")
            status, body = await stranger.call("POST", "/subscribe", {"mode": "grid"}, expect=404)
            assert body == {"error": "no_such_participant"}
            nowhere = LessonPeer(http, rtc.base, "404404", "1")
            status, body = await nowhere.join(expect=404)
            assert body == {"error": "no_such_room"}
            await listener.call("DELETE")
            await student.call("DELETE")
            async with http.get(f"{rtc.base}/rooms/500") as response:
                assert response.status == 404  # the last one out removes the room

    run_async(scenario())


def test_the_101st_participant_is_refused_and_the_cap_is_per_room(rtc):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            created = await put_room(http, rtc.base, "600", "1")
            assert created["room"] == "600" and created["max_participants"] == 100
            for pid in range(1, 101):
                role = "host" if pid == 1 else "student"
                async with http.post(f"{rtc.base}/rooms/600/participants/{pid}", json={"role": role}) as response:
                    assert response.status == 200, pid
            async with http.post(f"{rtc.base}/rooms/600/participants/101", json={"role": "student"}) as response:
                assert response.status == 409 and (await response.json()) == {"error": "room_full"}
            async with http.post(f"{rtc.base}/rooms/600/participants/100", json={"role": "student"}) as response:
                assert response.status == 200  # joining again is idempotent
            assert len((await room_state(http, rtc.base, "600"))["participants"]) == 100

            await put_room(http, rtc.base, "601", "1", cap=2)
            statuses = []
            for pid in (1, 2, 3):
                async with http.post(f"{rtc.base}/rooms/601/participants/{pid}", json={"role": "student"}) as response:
                    statuses.append(response.status)
            assert statuses == [200, 200, 409]
            async with http.delete(f"{rtc.base}/rooms/601/participants/2") as response:
                assert response.status == 200
            async with http.post(f"{rtc.base}/rooms/601/participants/3", json={"role": "student"}) as response:
                assert response.status == 200
            for room in ("600", "601"):
                async with http.delete(f"{rtc.base}/rooms/{room}") as response:
                    assert response.status == 200

    run_async(scenario())


def test_shutdown_closes_every_peer_connection():
    server = RtcProcess()

    async def scenario():
        await _wait_healthy(server.base)
        async with aiohttp.ClientSession() as http:
            await put_room(http, server.base, "700", "1")
            teacher = LessonPeer(http, server.base, "700", "1", "host")
            student = LessonPeer(http, server.base, "700", "2")
            await teacher.join()
            await student.join()
            await teacher.publish([SyntheticAudioTrack()])
            await student.subscribe("audio")
            try:
                return await asyncio.get_running_loop().run_in_executor(None, server.stop)
            finally:
                await teacher.close()
                await student.close()

    try:
        code, output = run_async(scenario())
    finally:
        if server.process.poll() is None:
            server.stop()
    assert code == 0
    assert "closed 2 peer connections" in output
