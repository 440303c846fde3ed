"""Offline, the server's side: the service worker at /sw.js with the static files it keeps,
the offline page, the network banner on every page, and whose page each page is.
What the worker does with them is proved in tests/browser/test_offline.py."""
import json
import re
import shutil

import pytest

SETTINGS = re.compile(r"\Aself\.PARTA_OFFLINE = (\{.*?\});\n")


def worker_settings(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    return json.loads(SETTINGS.match(response.get_data(as_text=True)).group(1))


def test_the_worker_is_served_from_the_root_for_the_whole_site_and_always_revalidated(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert SETTINGS.match(body)
    assert 'addEventListener("fetch"' in body

    again = client.get("/sw.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_worker_keeps_the_shell_under_the_hashed_urls_the_pages_use(client):
    settings = worker_settings(client)
    page = client.get("/").get_data(as_text=True)
    used = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert any("css/app.css?v=" in url for url in used)
    assert any("js/offline.js?v=" in url for url in used)
    assert set(used) <= set(settings["shell"])
    for url in settings["shell"]:
        assert "?v=" in url and not url.endswith((".gz", ".br")) and "/js/sw.js" not in url
        response = client.get(url)
        assert response.status_code == 200, url
        assert "max-age=31536000" in response.headers["Cache-Control"], url
    assert settings["offline"] == "/offline"
    # What needs the network anyway is not kept on every first visit.
    assert not any(name in url for url in settings["shell"] for name in ("/vendor/quill-", "/js/article-editor.js", "/js/lesson.js", "/css/lesson.css", "/js/upload.js"))
    assert re.fullmatch(r"[0-9a-f]{12}", settings["version"])


def test_a_deploy_that_changes_the_static_files_gives_a_new_worker_version(app, client, tmp_path):
    before = worker_settings(client)
    static = tmp_path / "static"
    shutil.copytree(app.static_folder, static)
    app.static_folder = str(static)
    assert worker_settings(client)["version"] == before["version"]
    (static / "js" / "timetable.js").write_text("/* new */\n")
    after = worker_settings(client)
    assert after["version"] != before["version"]
    assert any(url.startswith("/static/js/timetable.js?v=") for url in after["shell"])


@pytest.mark.parametrize("role", ["anonymous", "student"])
def test_the_offline_page_is_drawn_as_for_a_guest(signed_in, role):
    """The worker keeps it across sign-outs: it must not show anyone's menu or name."""
    response = signed_in(role).get("/offline")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Эта страница не сохранена на этом устройстве" in page
    assert 'id="offline-page"' in page
    assert "Выйти" not in page and 'class="nav"' not in page and "Мария" not in page


@pytest.mark.parametrize("path", ["/", "/profile", "/chats", "/offline"])
def test_every_page_has_the_network_banner_and_its_script(signed_in, path):
    page = signed_in("student").get(path).get_data(as_text=True)
    banner = re.search(r'<p id="net-banner"[^>]*>', page).group(0)
    assert 'role="status"' in banner and 'aria-live="polite"' in banner
    assert 'data-offline="Нет сети"' in banner
    assert 'data-online="Сеть снова есть."' in banner
    assert 'data-saved-text="Нет сети: страница сохранена {date} в {time}"' in banner
    assert re.search(r'<script src="/static/js/offline\.js\?v=[0-9a-f]+" defer>', page)


def test_the_banner_speaks_the_pages_language(client):
    client.set_cookie("parta_lang", "en")
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'data-offline="No network"' in page
    assert 'data-saved-text="No network: page saved {date} at {time}"' in page


def test_pages_say_whose_they_are_so_the_worker_keeps_one_persons_pages(signed_in, demo):
    assert signed_in("anonymous").get("/").headers["X-Parta-Viewer"] == "0"
    student = signed_in("student")
    assert student.get("/profile").headers["X-Parta-Viewer"] == str(demo["student"].id)
    assert "X-Parta-Viewer" not in student.get("/healthz").headers  # not a page
    assert "X-Parta-Viewer" not in student.get("/no-such-page").headers  # not kept
