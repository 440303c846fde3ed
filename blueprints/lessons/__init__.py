"""Video lessons (SPEC §7): starting, joining, the call screen and its signalling.

The web process decides who may do what and keeps the lesson's state in the database; the
media go through the rtc process (rtc/), which it drives over loopback (media.py).
"""
