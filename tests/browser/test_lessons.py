"""A video lesson in two browsers: the teacher starts it from a class chat's camera icon, a
student joins from the chat, and each browser's own WebRTC statistics show decoded sound and
video that came through Parta's media server (Chromium's synthetic camera and microphone)."""
import re
import time

from playwright.sync_api import expect

from .flows import PHONE, create_class_chat, screenshot, sign_in
from .test_accessibility import assert_no_serious_violations
from .test_chat import STUDENT, TEACHER, open_class_page

DECODED = """() => {
  const pc = window.__lessonSubscriber;
  if (!pc) return null;
  return pc.getStats().then(report => {
    const got = {audio: 0, video: 0};
    report.forEach(s => {
      if (s.type !== "inbound-rtp") return;
      if (s.kind === "video") got.video += s.framesDecoded || 0;
      if (s.kind === "audio") got.audio += s.totalSamplesReceived || 0;
    });
    return got;
  });
}"""


# Opus packets the page sent per second of microphone sound: 25 at the 40 ms the answer asks for.
AUDIO_PACKET_RATE = """() => Promise.all((window.__lessonPeers || []).map(pc => pc.getStats())).then(reports => {
  let packets = 0, seconds = 0;
  reports.forEach(report => report.forEach(s => {
    if (s.type === "outbound-rtp" && s.kind === "audio") packets += s.packetsSent;
    if (s.type === "media-source" && s.kind === "audio") seconds += s.totalSamplesDuration;
  }));
  return seconds > 1 ? packets / seconds : null;
})"""


def decoded(page):
    return page.evaluate(DECODED) or {"audio": 0, "video": 0}


def wait_for_media(page, audio=True, seconds=60):
    """Until the subscriber has decoded more than 10 video frames (and a second of sound)."""
    deadline = time.monotonic() + seconds
    got = decoded(page)
    while time.monotonic() < deadline and not ((got["audio"] > 48_000 or not audio) and got["video"] > 10):
        page.wait_for_timeout(1000)
        got = decoded(page)
    return got


def test_a_teacher_starts_a_lesson_in_a_class_chat_and_a_student_sees_and_hears_it(
    media_browser, live_server, demo_people
):
    browser = media_browser
    teacher_context = browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU")
    student_context = browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU")
    for context in (teacher_context, student_context):
        context.set_default_timeout(30_000)
        # The page keeps its subscriber connection here for the test to read getStats() from.
        context.add_init_script("""
          const Native = window.RTCPeerConnection;
          window.RTCPeerConnection = function (config) {
            const pc = new Native(config);
            pc.addEventListener('track', () => { window.__lessonSubscriber = pc; });
            (window.__lessonPeers = window.__lessonPeers || []).push(pc);
            return pc;
          };
          window.RTCPeerConnection.prototype = Native.prototype;
        """)
    try:
        teacher, student = teacher_context.new_page(), student_context.new_page()
        sign_in(teacher, TEACHER)
        open_class_page(teacher)
        create_class_chat(teacher, "7А — Урок физики")

        sign_in(student, STUDENT)
        student.get_by_role("link", name="Сообщения").click()
        expect(student).to_have_url(re.compile(r"/chats$"))
        student.get_by_role("link", name=re.compile("7А — Урок физики")).click()
        expect(student.get_by_role("heading", level=1)).to_have_text("7А — Урок физики")
        expect(student.locator("#net-state")).to_be_hidden()
        student.wait_for_function("window.io && document.getElementById('chat')")
        student.wait_for_timeout(1000)  # the chat's socket has joined

        teacher.get_by_role("link", name="Начать видеоурок").click()
        expect(teacher.get_by_role("heading", level=1)).to_have_text("Начать видеоурок")
        teacher.get_by_role("button", name="Позвонить всем").click()
        expect(teacher).to_have_url(re.compile(r"/lessons/\d+$"))
        lesson_url = teacher.url
        expect(teacher.locator("#call-state")).to_have_text("Подключено", timeout=60_000)
        # The teacher (the host) turns the camera and the microphone on.
        teacher.get_by_role("button", name="Микрофон", exact=True).click()
        expect(teacher.get_by_role("button", name="Микрофон", exact=True)).to_have_attribute("aria-pressed", "true")
        teacher.get_by_role("button", name="Камера", exact=True).click()
        expect(teacher.get_by_role("button", name="Камера", exact=True)).to_have_attribute("aria-pressed", "true")
        expect(teacher.get_by_role("heading", name="Панель ведущего")).to_be_visible()

        # Called live: the student, reading the chat, gets the invitation with «Присоединиться».
        expect(student.get_by_role("alert")).to_contain_text("Рощина Яна Михайловна приглашает вас на видеоурок.")
        student.get_by_role("alert").get_by_role("link", name="Присоединиться").click()
        expect(student).to_have_url(lesson_url)
        expect(student.locator("#call-state")).to_have_text("Подключено", timeout=60_000)
        # Students come in muted, with the camera off; there is no host's panel for them.
        expect(student.get_by_role("button", name="Микрофон", exact=True)).to_have_attribute("aria-pressed", "false")
        expect(student.get_by_role("heading", name="Панель ведущего")).to_have_count(0)

        got = wait_for_media(student)
        assert got["video"] > 10 and got["audio"] > 48_000, got
        # The teacher's browser sends Opus in 40 ms packets (a=ptime in the answer), not 20 ms.
        rate = teacher.evaluate(AUDIO_PACKET_RATE)
        assert rate is not None and 20 <= rate <= 30, rate
        expect(student.locator(".call-tile:not([hidden]) figcaption").first).to_contain_text("Яна")
        screenshot(student, "lesson-student.png")
        assert_no_serious_violations(student)

        # The student turns the camera on; the teacher, in grid view, sees the student's tile.
        student.get_by_role("button", name="Камера", exact=True).click()
        expect(student.get_by_role("button", name="Камера", exact=True)).to_have_attribute("aria-pressed", "true")
        teacher.get_by_label("Вид").select_option("grid")
        expect(teacher.locator(".call-tile:not([hidden]) figcaption").first).to_contain_text("Мария", timeout=30_000)
        teacher_got = wait_for_media(teacher, audio=False)  # Мария's microphone is off
        assert teacher_got["video"] > 10, teacher_got

        # The lesson's chat opens beside the call; a message written there reaches the other side live.
        for page in (teacher, student):
            page.get_by_role("button", name="Чат урока", exact=True).click()
            expect(page.get_by_role("button", name="Чат урока", exact=True)).to_have_attribute("aria-pressed", "true")
        student_chat = student.frame_locator("#call-chat-box iframe")
        teacher_chat = teacher.frame_locator("#call-chat-box iframe")
        expect(teacher_chat.get_by_label("Сообщение", exact=True)).to_be_visible()
        student_chat.get_by_label("Сообщение", exact=True).fill("Меня слышно?")
        student_chat.get_by_role("button", name="Отправить", exact=True).click()
        expect(teacher_chat.get_by_text("Меня слышно?")).to_be_visible()
        expect(teacher.locator("#call-state")).to_have_text("Подключено")  # the call goes on
        screenshot(teacher, "lesson-chat-panel.png")

        # A raised hand reaches the host's queue.
        student.get_by_role("button", name="Поднять руку").click()
        expect(teacher.locator("#call-hands")).to_contain_text("Иванова Мария")
        screenshot(teacher, "lesson-teacher.png")
        assert_no_serious_violations(teacher)

        # The host ends the lesson for everyone; the student's page says so.
        teacher.once("dialog", lambda dialog: dialog.accept())
        teacher.get_by_role("button", name="Завершить урок для всех", exact=True).click()
        expect(student.locator("#call-state")).to_have_text("Урок закончился.")
    finally:
        teacher_context.close()
        student_context.close()


def test_an_invitation_reaches_a_page_without_a_socket_and_can_be_put_off(media_browser, live_server, demo_people):
    """The student is on the home page, which holds no socket: the bar comes by polling (20 s)."""
    contexts = [media_browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU") for _ in range(2)]
    try:
        teacher, student = (context.new_page() for context in contexts)
        sign_in(student, STUDENT)
        expect(student.get_by_role("heading", level=1)).to_contain_text("Здравствуйте")
        sign_in(teacher, TEACHER)
        open_class_page(teacher)
        create_class_chat(teacher, "7А — Классный час")
        teacher.get_by_role("link", name="Начать видеоурок").click()
        teacher.get_by_role("button", name="Позвонить всем").click()
        expect(teacher).to_have_url(re.compile(r"/lessons/\d+$"))

        bar = student.get_by_role("alert")
        expect(bar).to_contain_text("Рощина Яна Михайловна приглашает вас на видеоурок.", timeout=30_000)
        screenshot(student, "lesson-invitation-home.png")
        bar.get_by_role("button", name="Не сейчас").click()
        expect(student.get_by_role("alert")).to_have_count(0)
        student.reload()  # put off for good, not only hidden
        expect(student.get_by_role("heading", level=1)).to_contain_text("Здравствуйте")
        expect(student.get_by_role("alert")).to_have_count(0)
    finally:
        for context in contexts:
            context.close()
