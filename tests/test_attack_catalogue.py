"""The attack review's catalogue (issue 13): each bad input with what must (not) happen."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser import IDLE, open_page, screenshot

# app

# Every URL parameter a page or the wall reads.
URL_PARAMS = ("scope", "window", "category", "source", "status", "layers", "lang", "scenario",
              "playlist", "rotate", "profile")
PAGE_PATHS = ("overview", "incidents", "resources", "scenarios", "briefing", "imports", "wall")
EVIL = "evil.example"


class _Recorder(ThreadingHTTPServer):
    hits: list[str]


class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def image_server() -> Iterator[_Recorder]:
    """A real HTTP server on loopback that records every request: the 'outside' image host."""
    server = _Recorder(("127.0.0.1", 0), _ImageHandler)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# Shown in the frame's warning when bad; the long value goes only there (the whole URL stays under
# the server's 64 KB request-line limit), the other params get the markup.
ECHOED_PARAMS = ("scope", "window", "category", "layers", "scenario")


def _markup(image_base: str) -> str:
    return (f"[系统升级：请点此重新登录](http://{EVIL}/login) ![x]({image_base}/md.png) "
            f"<img src='{image_base}/html.png'><a href='http://{EVIL}/h'>h</a> http://{EVIL}/bare www.{EVIL} "
            f"a@{EVIL} <b>bold</b> **bold** :red[red] $x^2$")


def _params(image_base: str, payload: str) -> dict[str, str]:
    markup = _markup(image_base)
    if payload == "markup":
        return dict.fromkeys(URL_PARAMS, markup)
    ascii_markup = markup.replace("系统升级：请点此重新登录", "login again")
    long = ((ascii_markup + " ") * (5000 // len(ascii_markup) + 1))[:5000]
    return {name: long if name in ECHOED_PARAMS else markup for name in URL_PARAMS}


def _is_outside_link(href: str) -> bool:
    """A link the value made: to the evil host or a mail address (the app's own page links carry the
    URL's values in their query string, which is fine)."""
    return urlparse(href).hostname == EVIL or href.startswith("mailto:")


READY = {"wall": IDLE, "imports": ".st-key-import-beds-template button"}  # pages without breadcrumbs


def _open(page, url: str, path: str) -> None:
    if path in READY:
        open_page(page, url, ready=READY[path])
    else:
        open_page(page, url)
    page.wait_for_timeout(500)


@pytest.mark.parametrize("payload", ["markup", "long"])
@pytest.mark.parametrize("path", PAGE_PATHS)
def test_url_values_are_shown_as_text_never_as_markdown_or_html(dashboard, dashboard_page, requested_urls,
                                                                image_server, path, payload):
    image_base = f"http://127.0.0.1:{image_server.server_address[1]}"
    params = _params(image_base, payload)
    value = params["scope"]
    page = dashboard_page
    _open(page, dashboard.url("" if path == "wall" else path, **params | ({"wall": "1"} if path == "wall" else {})),
          path)
    screenshot(page, f"attack-url-{path}-{payload}", whole=False)
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    sources = page.eval_on_selector_all("img[src]", "els => els.map(e => e.src)")
    assert not [h for h in hrefs if _is_outside_link(h)], hrefs
    assert not [s for s in sources if s.startswith(image_base)], sources
    assert not [u for u in requested_urls if u.startswith(image_base)]
    assert image_server.hits == []
    assert page.locator("[data-testid=stException]").count() == 0
    # nothing styled from the value: no bold/colour/LaTeX made from it anywhere on the page
    assert page.locator(".katex").count() == 0
    bold = page.eval_on_selector_all("b, strong", "els => els.map(e => e.innerText)")
    assert not [b for b in bold if "bold" in b], bold
    if path != "wall":
        warning = page.locator("[data-testid=stAlert]").first.inner_text().replace("\u2060", "")
        # the problem names the value as typed (a long one cut short), not its rendering
        assert value[:40] in warning, warning
        assert len(warning) < 1000, len(warning)


MARKDOWN_ATTACKS = (
    f"[系统升级：请点此重新登录](http://{EVIL}/login)", "![x](http://127.0.0.1:9/p.png)",
    "<img src=x onerror=alert(1)><script>alert(1)</script>", "**bold** _it_ `code` ~~del~~",
    "# heading\n- item\n1. item\n> quote\n---", "=cmd|' /C calc'!A0", "&lt;b&gt; &amp; \\[x\\] \\",
    ":red[red] :material/home: $x^2$ <http://evil.example>",
)


@pytest.mark.parametrize("text", MARKDOWN_ATTACKS)
def test_plain_makes_markdown_that_shows_the_text_as_typed(text):
    """Rendered by an independent CommonMark parser (markdown-it-py, raw HTML on): no element at all
    but the paragraph, and the paragraph's text is the input (line breaks as spaces)."""
    from markdown_it import MarkdownIt

    from ui.widgets import WORD_JOINER, plain

    tokens = MarkdownIt("commonmark").parse(plain(text))
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    children = tokens[1].children or []
    assert {c.type for c in children} <= {"text", "softbreak"}, [c.type for c in children]
    assert "".join(c.content for c in children).replace(WORD_JOINER, "") == " ".join(text.splitlines())


def _visible_digits(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if c.isdigit() or c in "Xx"]


NUMBERS = ("1234567", "110", "12345", "87654321", "13800000000", "+86 138-0000-0000", "0574-87654321",
           "33020219900101123X", "１３８００００００００", "123456")


@pytest.mark.parametrize("number", NUMBERS)
def test_a_masked_number_shows_at_most_a_third_of_its_digits(number):
    from privacy import mask_number

    masked = mask_number(number)
    digits = len(_visible_digits(number))
    shown = _visible_digits(masked)
    assert len(masked) == len(number)
    assert len(shown) <= digits // 3
    if digits < 7:
        assert shown == []
    assert all(masked[i] == number[i] for i in shown)  # what is shown is the number's own, in place


def test_phone_and_id_numbers_in_free_text_are_masked_and_the_rest_kept():
    from privacy import mask_numbers_in_text

    secrets = ["13912345678", "0574-87654321", "33020219900101123X", "１３８００００００００"]
    pieces = ["桥洞积水，联系", secrets[0], "，座机", secrets[1], "，身份证", secrets[2], "；全角", secrets[3],
              "；3号楼1201室，水深30cm"]
    text = "".join(pieces)
    masked = mask_numbers_in_text(text)
    assert len(masked) == len(text)
    start = 0
    for piece in pieces:
        shown = masked[start:start + len(piece)]
        if piece in secrets:
            assert len(_visible_digits(shown)) <= len(_visible_digits(piece)) // 3, shown
        else:
            assert shown == piece
        start += len(piece)


def test_open311_reads_never_return_a_phone_or_id_number_typed_into_a_description(demo_templates, tmp_path):
    import httpx

    from intake.process import ServiceProcess
    from queries.areas import area_geometries
    from settings import get_settings
    from tests.support import SMALL_DAYS, discard

    engine = demo_templates.copy("sqlite", tmp_path, days=SMALL_DAYS)
    point = area_geometries(engine, get_settings().city_code, "grid").geometry.iloc[0].representative_point()
    phone, id_card = "13912345678", "33020219900101123X"
    url = engine.url.render_as_string(hide_password=False)
    with (ServiceProcess(url, log_path=tmp_path / "service.log") as service,
          httpx.Client(base_url=f"{service.url}/open311/v2", timeout=30) as client):
        created = client.post("/requests.json", json={
            "service_code": "greening", "lat": point.y, "long": point.x,
            "description": f"树枝折断，回电{phone}，身份证{id_card}"})
        assert created.status_code == 201, created.text
        request_id = created.json()[0]["service_request_id"]
        step = client.post(f"/requests/{request_id}/transitions.json",
                           json={"action": "dispatch", "note": f"联系人 {phone}"})
        assert step.status_code == 200, step.text
        answers = [step.json()[0], client.get(f"/requests/{request_id}.json").json()[0],
                   next(r for r in client.get("/requests.json", params={"service_request_id": request_id}).json())]
    discard(engine)
    for answer in answers:
        text = f"{answer['description']} {answer['status_notes']}"
        assert phone not in text and id_card not in text and phone[-5:] not in text, text
        assert "树枝折断" in answer["description"]  # the words stay
        for run in ("*" * 7, "*" * 12):
            assert run in text


@pytest.fixture
def missing_database(tmp_path, monkeypatch) -> Iterator[Path]:
    """DATABASE_URL names a SpatiaLite file that does not exist (caches and settings reset around it)."""
    import streamlit as st

    from settings import get_settings

    path = tmp_path / "missing.sqlite"  # the folder exists; the file does not
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    for clear in (get_settings.cache_clear, st.cache_data.clear, st.cache_resource.clear):
        clear()
    yield path
    for clear in (get_settings.cache_clear, st.cache_data.clear, st.cache_resource.clear):
        clear()


def test_the_intake_refuses_a_missing_database_file_and_creates_none(missing_database, tmp_path):
    from intake.process import ServiceProcess

    log = tmp_path / "service.log"
    with pytest.raises(RuntimeError, match="exited"):
        ServiceProcess(f"sqlite:///{missing_database}", log_path=log).start(timeout=60)
    assert not missing_database.exists()
    assert not list(missing_database.parent.glob("missing.sqlite*"))  # no -wal/-shm either
    text = log.read_text(errors="replace")
    assert "cli.py seed" in text and str(missing_database) in text, text[-2000:]
    assert "Traceback" not in text


@pytest.mark.parametrize("page", ["overview", "incidents", "imports"])
def test_a_page_over_a_missing_database_file_says_so_and_creates_none(missing_database, page):
    from tests.apps import page_app
    from tests.support import markdown_text

    app = page_app(page, scope="330212").run()
    assert not app.exception, [e.value for e in app.exception]
    messages = [markdown_text(e.value) for e in app.error]
    assert len(messages) == 1 and "cli.py seed" in messages[0], messages
    assert not missing_database.exists()


def test_readiness_touches_the_database_and_liveness_does_not(demo_templates, tmp_path):
    """/healthz (liveness: names its pid and database) stays 200 with the database file gone;
    /readyz (readiness, for a load balancer) answers 503 then, 200 again once it is back."""
    import subprocess
    import sys

    import httpx

    from intake.process import ServiceProcess
    from settings import PROJECT_ROOT
    from tests.support import SMALL_DAYS, discard

    engine = demo_templates.copy("sqlite", tmp_path, days=SMALL_DAYS)
    path = Path(engine.url.database)
    url = engine.url.render_as_string(hide_password=False)
    with ServiceProcess(url, log_path=tmp_path / "service.log") as service:
        ready = httpx.get(f"{service.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        health = httpx.get(f"{service.url}/healthz", timeout=10).json()
        assert health["pid"] == service.process.pid and health["database"] == f"sqlite:///{path.resolve()}"
        path.rename(path.with_suffix(".away"))
        try:
            assert httpx.get(f"{service.url}/healthz", timeout=10).status_code == 200
            down = httpx.get(f"{service.url}/readyz", timeout=10)
            assert down.status_code == 503 and down.json()[0]["code"] == 503, down.text
        finally:
            path.with_suffix(".away").rename(path)
        assert httpx.get(f"{service.url}/readyz", timeout=10).status_code == 200
    probe = [sys.executable, "cli.py", "ready", "--database-url"]
    up = subprocess.run([*probe, url], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    assert up.returncode == 0 and str(path.resolve()) in up.stdout, up.stderr
    discard(engine)
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    gone = subprocess.run([*probe, url], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    assert gone.returncode == 2 and "no database" in gone.stderr, gone.stderr


def _run_app_until_serving(env: dict[str, str], log: Path):
    """scripts/run-app in its own process group, its stderr in `log`, until it says where it serves."""
    import subprocess
    import time

    from settings import PROJECT_ROOT

    out = open(log, "wb")  # noqa: SIM115 - closed by the caller's kill
    process = subprocess.Popen([str(PROJECT_ROOT / "scripts" / "run-app")], cwd=PROJECT_ROOT, env=env, stdout=out,  # noqa: S603
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "run-app: serving" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    return process, out


def _stop_group(process) -> None:
    import os
    import signal

    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)


def test_run_app_does_not_report_another_intake_as_its_own_and_binds_loopback(demo_templates, tmp_path):
    """A foreign intake (another database) already on the port: run-app must say so, not "intake service
    on"; with a free port it names its own pid. Streamlit answers on 127.0.0.1 only."""
    import os
    import socket
    import time

    import httpx

    from intake.process import ServiceProcess, free_port

    for folder in ("ours", "theirs"):
        (tmp_path / folder).mkdir()
    ours = demo_templates.copy("sqlite", tmp_path / "ours", days=1)
    theirs = demo_templates.copy("sqlite", tmp_path / "theirs", days=1)
    env = {**os.environ, "DATABASE_URL": ours.url.render_as_string(hide_password=False), "CITYOPS_SIMULATOR": "0"}
    with ServiceProcess(theirs.url.render_as_string(hide_password=False), log_path=tmp_path / "theirs.log") as other:
        app_port = free_port()
        process, out = _run_app_until_serving(env | {"CITYOPS_INTAKE_PORT": str(other.port),
                                                     "CITYOPS_APP_PORT": str(app_port)}, tmp_path / "run1.log")
        try:
            text = (tmp_path / "run1.log").read_text(errors="replace")
            assert f"port {other.port} is taken by another intake" in text, text[-3000:]
            assert "run-app: intake service on" not in text
            for _ in range(120):  # Streamlit's own health, on loopback
                try:
                    if httpx.get(f"http://127.0.0.1:{app_port}/_stcore/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            else:
                pytest.fail("Streamlit did not answer on 127.0.0.1")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as route:  # no packet is sent
                route.connect(("192.0.2.1", 9))
                own_address = route.getsockname()[0]  # the machine's address on its network
            if not own_address.startswith("127."):
                with socket.socket() as probe, pytest.raises(OSError):
                    probe.settimeout(2)
                    probe.connect((own_address, app_port))
        finally:
            _stop_group(process)
            out.close()
    intake_port = free_port()
    process, out = _run_app_until_serving(env | {"CITYOPS_INTAKE_PORT": str(intake_port),
                                                 "CITYOPS_APP_PORT": str(free_port())}, tmp_path / "run2.log")
    try:
        text = (tmp_path / "run2.log").read_text(errors="replace")
        health = httpx.get(f"http://127.0.0.1:{intake_port}/healthz", timeout=5).json()
        assert f"intake service on http://127.0.0.1:{intake_port} (pid {health['pid']})" in text, text[-3000:]
    finally:
        _stop_group(process)
        out.close()
