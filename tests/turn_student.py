"""A student's browser on a filtered school network, for tests/test_turn.py (not a test itself).

The test runs this inside a network namespace whose firewall drops every UDP packet
(``ip netns exec <ns> python tests/turn_student.py``). It never talks to the rtc process's
HTTP API (that stays on the root namespace's loopback, as in production): the test process
relays the signalling over stdin/stdout, one JSON object a line, as the web app would over
Socket.IO:

    stdin  ← {"offer": {"sdp", "type"}, "ice_servers": [...], "audio_mid": "0",
              "frames": 50, "timeout": 120}
    stdout → {"answer": {"sdp", "type"}, "local_candidates": [{"type", "host", "protocol"}]}
    stdout → {"report": {"frames": n, "ice_states": [...], "pair": {...} | null}}

``ice_servers`` is exactly what the web app gives the browser (media.ice_servers()). The
report comes once ``frames`` audio frames from the slot ``audio_mid`` were decoded, ICE
failed, or ``timeout`` seconds went by; ``pair`` is the ICE pair the connection uses.
"""
import asyncio
import json
import sys
import time

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from av import AudioFrame


def emit(payload):
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def configuration(ice_servers):
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in ice_servers
        ]
    )


def nominated_pair(pc):
    """The pair ICE settled on, from aioice's connection under aiortc's transports."""
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        if dtls is None:
            continue
        connection = dtls.transport._connection
        for pair in connection._nominated.values():
            local = pair.local_candidate
            remote = pair.remote_candidate
            transport = pair.protocol.transport
            inner = getattr(transport, "_TurnTransport__inner_protocol", None)
            return {
                "local_type": local.type,
                "local": [local.host, local.port],
                "remote_type": remote.type,
                "remote": [remote.host, remote.port],
                # How the relayed packets reach the TURN server: TurnClientTcpProtocol or
                # TurnClientUdpProtocol; None for a pair without TURN.
                "turn_protocol": type(inner).__name__ if inner is not None else None,
            }
    return None


async def main():
    request = json.loads(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline))
    pc = RTCPeerConnection(configuration(request["ice_servers"]))
    ice_states = []
    frames = {"count": 0}
    done = asyncio.Event()

    @pc.on("iceconnectionstatechange")
    def on_ice_state():
        ice_states.append(pc.iceConnectionState)
        if pc.iceConnectionState == "failed":
            done.set()

    async def drain(track):
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, AudioFrame):
                    frames["count"] += 1
                    if frames["count"] >= request["frames"]:
                        done.set()
        except Exception:
            pass  # the track ended

    @pc.on("track")
    def on_track(track):
        for transceiver in pc.getTransceivers():
            if transceiver.receiver.track is track and transceiver.mid == request["audio_mid"]:
                asyncio.ensure_future(drain(track))

    await pc.setRemoteDescription(RTCSessionDescription(**request["offer"]))
    await pc.setLocalDescription(await pc.createAnswer())  # gathers every candidate (no trickle)
    ice = pc.getTransceivers()[0].receiver.transport.transport
    emit(
        {
            "answer": {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type},
            "local_candidates": [
                {"type": c.type, "host": c.ip, "protocol": c.protocol}
                for c in ice.iceGatherer.getLocalCandidates()
            ],
        }
    )
    started = time.monotonic()
    try:
        await asyncio.wait_for(done.wait(), request["timeout"])
    except asyncio.TimeoutError:
        pass
    emit(
        {
            "report": {
                "frames": frames["count"],
                "ice_states": ice_states,
                "pair": nominated_pair(pc),
                "waited_s": round(time.monotonic() - started, 1),
            }
        }
    )
    await pc.close()


if __name__ == "__main__":
    asyncio.run(main())
