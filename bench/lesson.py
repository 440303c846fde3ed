"""Lesson media: `python -m bench.lesson --students N --seconds S [--baseline] [--opus-bitrate B]`.

Starts the rtc process (`python -m rtc`) in a subprocess, one teacher publishing synthetic
audio and 320x180 video at 15 fps as the lesson's browsers send them (rtc.synthetic: Opus
mono 24 kbit/s with FEC in 40 ms packets; aiortc's VP8 encoder held at ~150 kbit/s), then N students subscribing in speaker mode (teacher's
camera + audio) plus one audio-only probe student (mode "audio"), all aiortc peer
connections in this process. After a warm-up it measures for S seconds and prints one
JSON line:

* rtc_cpu_pct: the rtc process's CPU (utime+stime from /proc/<pid>/stat) over the window,
  in % of one core; cpu_pct_per_student = that / N.
* student_down_kbps: per video student, the mean of aiortc's transport stats bytesReceived
  (whole SRTP/SRTCP datagrams: RTP header, extensions, payload, auth tag; plus STUN
  consent checks) plus an estimated 28 bytes of IPv4+UDP header per received datagram.
  audio_only_down_kbps: the same for the audio-only probe.
* frames_received_ratio: encoded frames the students got / encoded frames sent over the
  stretch of the sender's timeline (RTP timestamps) each student received during the
  window, so a gap is a lost frame while a bench that lags behind loses nothing; a
  student who got nothing counts all the teacher sent (every video frame, one Opus
  packet per 40 ms). Students do NOT decode: this process replaces aiortc's
  decoder worker by rtc.forwarding.forward_worker, so a student counts reassembled encoded
  frames (the bench must stay cheap to share 2 cores with the server). The tests decode.

`--baseline` first runs the same lesson against bench/_lesson_baseline.py (stock aiortc
MediaRelay: decode once, encode per student), prints its line, then the rtc line, which
carries `cpu_ratio_baseline_over_rtc`. Figures are reported, not asserted: the bench's
own students share the machine with the server (bench_cpu_pct says how much they took).
"""
import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

import aiortc.rtcrtpreceiver
from aiortc.mediastreams import MediaStreamError

from rtc import forwarding
from rtc.synthetic import (
    AUDIO_RATE,
    AUDIO_SAMPLES,
    BROWSER_OPUS_BITRATE,
    BROWSER_OPUS_PTIME,
    LessonPeer,
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    use_teacher_encoders,
)

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
IP_UDP_HEADER = 28
AUDIO_FRAME_MS = AUDIO_SAMPLES * 1000 // AUDIO_RATE
JOIN_CONCURRENCY = 5


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class CountingTrack:
    """Wraps a synthetic track to count the frames the teacher produced."""

    def __init__(self, track):
        self.track = track
        self.produced = 0
        original = track.recv

        async def recv():
            frame = await original()
            self.produced += 1
            return frame

        track.recv = recv


class Window:
    """The frames of one kind a student got while measuring, and the stretch of the
    sender's timeline (RTP timestamps) they cover: a lost frame is a gap in that stretch."""

    def __init__(self):
        self.count = 0
        self.span = 0
        self.step = None  # the smallest timestamp step seen: one frame (or one packet of sound)
        self.last = None

    def add(self, pts):
        if self.last is not None:
            delta = (pts - self.last) % 2**32
            self.span += delta
            if delta and (self.step is None or delta < self.step):
                self.step = delta
        self.last = pts
        self.count += 1

    def expected(self):
        return self.span // self.step + 1 if self.step else self.count


class Student:
    def __init__(self, peer, mode):
        self.peer = peer
        self.mode = mode
        self.frames = {"audio": 0, "video": 0}
        self.windows = None
        self.tasks = []

    def start(self):
        for track in self.peer.tracks.values():
            self.tasks.append(asyncio.ensure_future(self._count(track)))

    def measure(self, on):
        if on:
            self.windows = {"audio": Window(), "video": Window()}
        else:
            self.windows, measured = None, self.windows
            return measured

    async def _count(self, track):
        try:
            while True:
                packet = await track.recv()  # an encoded frame (av.Packet): not decoded
                self.frames[track.kind] += 1
                if self.windows is not None:
                    self.windows[track.kind].add(packet.pts)
        except MediaStreamError:
            pass

    async def transport_bytes(self):
        stats = await self.peer.subscribe_pc.getStats()
        seen, received, packets = set(), 0, 0
        for stat in stats.values():
            if stat.type == "transport" and stat.id not in seen:
                seen.add(stat.id)
                received += stat.bytesReceived
                packets += stat.packetsReceived
        return received + IP_UDP_HEADER * packets

    def stop(self):
        for task in self.tasks:
            task.cancel()


async def wait_healthy(http, base, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            async with http.get(base + "/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start")


async def run_lesson(label, command, students_count, seconds, warmup):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RTC_PORT": str(port), "PORT": str(port)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peers = []
    students = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            await wait_healthy(http, base, process)
            async with http.put(f"{base}/rooms/1", json={"host": "1", "max_participants": students_count + 10}):
                pass
            teacher = LessonPeer(http, base, "1", "1", "host")
            peers.append(teacher)
            await teacher.join()
            audio, video = CountingTrack(SyntheticAudioTrack()), CountingTrack(SyntheticVideoTrack())
            await teacher.publish([audio.track, video.track])
            await asyncio.sleep(1)

            limit = asyncio.Semaphore(JOIN_CONCURRENCY)

            async def add_student(pid, mode):
                async with limit:
                    peer = LessonPeer(http, base, "1", str(pid))
                    peers.append(peer)
                    await peer.join()
                    await peer.subscribe(mode)
                    student = Student(peer, mode)
                    student.start()
                    return student

            students = await asyncio.gather(
                *(add_student(100 + i, "speaker") for i in range(students_count)),
                add_student(99, "audio"),
            )
            video_students = [s for s in students if s.mode == "speaker"]
            probe = next(s for s in students if s.mode == "audio")

            # Warm-up: everyone connected and receiving video (or the warm-up is over).
            deadline = time.monotonic() + warmup
            while time.monotonic() < deadline and not all(s.frames["video"] > 0 for s in video_students):
                await asyncio.sleep(0.5)
            await asyncio.sleep(2)

            start_frames = [dict(s.frames) for s in students]
            for student in students:
                student.measure(True)
            start_bytes = [await s.transport_bytes() for s in students]
            start_produced = (audio.produced, video.produced)
            start_cpu, start_bench_cpu, start = cpu_seconds(process.pid), time.process_time(), time.monotonic()
            await asyncio.sleep(seconds)
            elapsed = time.monotonic() - start
            rtc_cpu = cpu_seconds(process.pid) - start_cpu
            bench_cpu = time.process_time() - start_bench_cpu
            windows = [s.measure(False) for s in students]
            end_bytes = [await s.transport_bytes() for s in students]
            # The track yields 20 ms of sound at a time; the encoder sends one packet per 40 ms.
            produced_audio = (audio.produced - start_produced[0]) * AUDIO_FRAME_MS / BROWSER_OPUS_PTIME
            produced_video = video.produced - start_produced[1]

            def kbps(index):
                return (end_bytes[index] - start_bytes[index]) * 8 / 1000 / elapsed

            received = {"audio": 0, "video": 0}
            # Frames got / frames the sender sent over the stretch each student was measured:
            # a bench that lags behind (it shares 2 cores with the server) shifts the stretch
            # but loses nothing; a student that got nothing counts everything the teacher sent.
            got, sent = {"audio": 0, "video": 0}, {"audio": 0, "video": 0}
            for student, before, window in zip(students, start_frames, windows):
                if student.mode == "speaker":
                    for kind in received:
                        received[kind] += student.frames[kind] - before[kind]
                        got[kind] += window[kind].count
                        produced = produced_audio if kind == "audio" else produced_video
                        sent[kind] += window[kind].expected() if window[kind].count else produced
            n = len(video_students)
            rtc_cpu_pct = 100 * rtc_cpu / elapsed
            result = {
                "label": label,
                "students": n,
                "seconds": round(elapsed, 1),
                "rtc_cpu_pct": round(rtc_cpu_pct, 1),
                "cpu_pct_per_student": round(rtc_cpu_pct / n, 2),
                "student_down_kbps": round(
                    sum(kbps(i) for i, s in enumerate(students) if s.mode == "speaker") / n, 1
                ),
                "audio_only_down_kbps": round(kbps(students.index(probe)), 1),
                "frames_received_ratio": round((got["audio"] + got["video"]) / max(1, sent["audio"] + sent["video"]), 3),
                "video_frames_ratio": round(got["video"] / max(1, sent["video"]), 3),
                "audio_frames_ratio": round(got["audio"] / max(1, sent["audio"]), 3),
                # What arrived against what the teacher's tracks made in the same seconds: shows
                # a server that forwards less than it gets (a saturated baseline); over 1 when
                # the bench was behind at the start of the window and caught up during it.
                "delivered_vs_produced": round(
                    (received["audio"] + received["video"]) / max(1, n * (produced_audio + produced_video)), 3
                ),
                "frames_delivered": received["audio"] + received["video"],
                "rtc_cpu_ms_per_100_frames": round(
                    100_000 * rtc_cpu / max(1, received["audio"] + received["video"]), 2
                ),
                "teacher_fps": round(produced_video / elapsed, 1),
                "bench_cpu_pct": round(100 * bench_cpu / elapsed, 1),
            }
            if label == "rtc":
                async with http.get(f"{base}/rooms/1") as response:
                    state = await response.json()
                result["encoders_started"] = state["encoders_started"]
                result["decoders_started"] = state["decoders_started"]
                result["keyframe_requests"] = state["keyframe_requests"]
            return result
    finally:
        for student in students:
            student.stop()
        await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def main(args):
    # The bench's students count encoded frames; they must not spend the machine decoding.
    aiortc.rtcrtpreceiver.decoder_worker = forwarding.forward_worker
    use_teacher_encoders(opus_bitrate=args.opus_bitrate)
    baseline = None
    if args.baseline:
        baseline = await run_lesson(
            "baseline", [sys.executable, "-m", "bench._lesson_baseline"], args.students, args.seconds, args.warmup
        )
        print(json.dumps(baseline), flush=True)
    result = await run_lesson("rtc", [sys.executable, "-m", "rtc"], args.students, args.seconds, args.warmup)
    if baseline is not None:
        result["cpu_ratio_baseline_over_rtc"] = round(baseline["rtc_cpu_pct"] / max(result["rtc_cpu_pct"], 0.01), 1)
        # The baseline may saturate and drop frames: compare the cost of each delivered frame too.
        result["cpu_per_frame_ratio_baseline_over_rtc"] = round(
            baseline["rtc_cpu_ms_per_100_frames"] / max(result["rtc_cpu_ms_per_100_frames"], 0.001), 1
        )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=60, help="max seconds to wait for every student's video")
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--opus-bitrate", type=int, default=BROWSER_OPUS_BITRATE, help="teacher's Opus bit/s")
    asyncio.run(main(parser.parse_args()))
