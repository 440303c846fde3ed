"""The lesson media process: asyncio + aiortc, apart from the eventlet web process.

aiortc cannot run inside an eventlet process, so lesson media live here. The web
application reaches this process over loopback (RTC_URL); browsers never talk to
it for signalling, which goes through the web app's own origin.
"""
