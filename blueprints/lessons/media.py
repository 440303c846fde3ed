"""The web process's side of lesson media: the rtc process's loopback API, and the ICE
servers a browser is given.

TURN credentials follow coturn's shared-secret scheme (``use-auth-secret``): the username is
``<expiry>:<user id>`` and the password the base64 HMAC-SHA1 of it under ``TURN_SECRET``, so
coturn checks them without a database and they stop working after ``TURN_TTL`` seconds.
"""
import base64
import hashlib
import hmac
import time

import requests
from flask import current_app

RTC_ROLES = {"host": "host", "member": "student", "listener": "listener"}


class MediaError(Exception):
    """The rtc process refused (``code``: room_full, not_allowed, …) or did not answer."""

    def __init__(self, code, status=502):
        super().__init__(code)
        self.code = code
        self.status = status


def ice_servers(user_id, now=None):
    """What RTCPeerConnection gets: TURN over UDP, TCP and TLS when configured; nothing
    otherwise (on a school's own network, calls work on host candidates)."""
    urls = [u.strip() for u in current_app.config["TURN_URLS"].split(",") if u.strip()]
    secret = current_app.config["TURN_SECRET"]
    if not urls or not secret:
        return []
    expiry = int(now if now is not None else time.time()) + current_app.config["TURN_TTL"]
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return [{"urls": urls, "username": username, "credential": base64.b64encode(digest).decode()}]


def _call(method, path, body=None, timeout=20):
    url = current_app.config["RTC_URL"].rstrip("/") + path
    try:
        response = requests.request(method, url, json=body, timeout=timeout)
    except requests.RequestException:
        raise MediaError("unavailable") from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code >= 400:
        raise MediaError(answer.get("error", "failed"), response.status_code)
    return answer


def open_room(lesson):
    return _call("PUT", f"/rooms/{lesson.id}", {"host": str(lesson.host_id), "max_participants": lesson.MAX_PARTICIPANTS})


def close_room(lesson_id):
    try:
        _call("DELETE", f"/rooms/{lesson_id}", timeout=5)
    except MediaError:
        pass  # already gone, or the rtc process restarted: nothing left to close


def join(lesson, user_id, role):
    open_room(lesson)
    return _call("POST", f"/rooms/{lesson.id}/participants/{user_id}", {"role": RTC_ROLES[role]})


def leave(lesson_id, user_id):
    try:
        _call("DELETE", f"/rooms/{lesson_id}/participants/{user_id}", timeout=5)
    except MediaError:
        pass


def publish(lesson_id, user_id, sdp, screen_mids=()):
    return _call("POST", f"/rooms/{lesson_id}/participants/{user_id}/publish",
                 {"sdp": sdp, "type": "offer", "screen_mids": list(screen_mids)})


def subscribe(lesson_id, user_id, mode):
    return _call("POST", f"/rooms/{lesson_id}/participants/{user_id}/subscribe", {"mode": mode})


def answer(lesson_id, user_id, sdp):
    return _call("POST", f"/rooms/{lesson_id}/participants/{user_id}/subscribe/answer", {"sdp": sdp, "type": "answer"})


def set_mode(lesson_id, user_id, mode):
    return _call("POST", f"/rooms/{lesson_id}/participants/{user_id}/mode", {"mode": mode})


def set_media(lesson_id, user_id, audio, video):
    """Tell the media server what someone may send. The database holds the state: a person
    not connected to media yet (or an rtc process restarted) gets it again on joining."""
    try:
        return _call("POST", f"/rooms/{lesson_id}/participants/{user_id}/media", {"audio": audio, "video": video}, timeout=5)
    except MediaError as error:
        if error.code not in ("no_such_room", "no_such_participant"):
            current_app.logger.warning("rtc: media state of %s in lesson %s not set: %s", user_id, lesson_id, error.code)
        return {}


def slots(lesson_id, user_id):
    return _call("GET", f"/rooms/{lesson_id}/participants/{user_id}/slots", timeout=5)
