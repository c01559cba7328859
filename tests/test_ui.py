"""End-to-end test of the web app in a real headless Chromium (Debian's, via Playwright)."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("gradio")
playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Flags from the machine notes: no sandbox as root, and no background network traffic
# (the machine's closed network refuses it).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.ui,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from spa2v.interfaces.ui.app import build_app
    from spa2v.interfaces.ui.session import Limits

    app = build_app(Limits(max_upload_mb=20, max_duration_s=30))
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    from spa2v.sim.scene import simulate_pass

    folder = tmp_path_factory.mktemp("clips")
    sim = simulate_pass(
        "left-to-right",
        speed_mps=12.0,
        closest_m=8.0,
        format="spaced",
        clip="car",
        duration_s=3.0,
        sr=32000,
        seed=3,
    )
    good = folder / "passing-left-to-right.wav"
    sf.write(good, sim.signal.samples.T, sim.signal.sr)
    bad = folder / "notes.wav"
    bad.write_text("this is a text file, not audio\n")
    return good, bad


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.set_default_timeout(120_000)
    page.goto(app_url)
    return page


def _upload_and_plan(page, path: Path) -> None:
    page.locator("#upload input[type=file]").set_input_files(str(path))
    # Plan only once the upload shows the file (its name, the extension apart): a fixed
    # pause was too short on a busy machine, and the plan then ran on no file.
    page.wait_for_function(
        "(stem) => document.querySelector('#upload').innerText.includes(stem)", arg=path.stem
    )
    page.click("#plan")


def _table_rows(page) -> list[list[str]]:
    cells = page.locator("#keyframes [data-testid^='cell-']")
    n_cols = 7
    texts = cells.all_inner_texts()
    return [texts[i : i + n_cols] for i in range(0, len(texts) - n_cols + 1, n_cols)]


def _wait_for_table(page) -> list[list[str]]:
    _wait_until(page, "document.querySelector(\"#keyframes [data-testid='cell-1-0']\")")
    return _table_rows(page)


def _fail_on_error_toast(page) -> None:
    """Fail with the app's own message when it shows an error instead of a result."""
    toasts = page.locator("[data-testid='toast-body']")
    if toasts.count():
        pytest.fail(f"the app showed an error: {toasts.first.inner_text()!r}")


def _wait_until(page, script: str, arg=None) -> None:
    """Wait for a JS condition, or an error toast (reported at once)."""
    page.wait_for_function(
        f"(arg) => document.querySelector(\"[data-testid='toast-body']\") || ({script})",
        arg=arg,
    )
    _fail_on_error_toast(page)


def test_bad_upload_shows_error_then_app_keeps_serving(page, clips):
    good, bad = clips
    _upload_and_plan(page, bad)
    toast = page.locator("[data-testid='toast-body']")
    toast.first.wait_for()
    assert "notes.wav" in toast.first.inner_text() or "audio" in toast.first.inner_text()
    page.reload()
    _upload_and_plan(page, good)
    rows = _wait_for_table(page)
    # 7 keyframes with the car in view on 2026-12-02: the simulated pair is 0.2 m apart,
    # the estimator assumes 0.15 m, so the car leaves the view early (8 or more before).
    assert len(rows) >= 6


def test_upload_plan_render_and_edit(page, clips, app_url):
    good, _ = clips
    page.reload()
    _upload_and_plan(page, good)
    rows = _wait_for_table(page)

    # The layout shown moves left to right: box centres grow with time.
    t = np.array([float(r[0]) for r in rows])
    cx = np.array([(float(r[3]) + float(r[5])) / 2 for r in rows])
    slope = np.polyfit(t, cx, 1)[0]
    assert slope > 0.05, f"layout does not move left to right (slope {slope:.3f}/s)"
    early, late = t < np.quantile(t, 0.3), t > np.quantile(t, 0.7)
    assert cx[late].mean() - cx[early].mean() > 0.2

    page.click("#render")
    _wait_until(
        page,
        "(() => { const v = document.querySelector('#video video');"
        " return v && v.readyState >= 1 && v.duration > 0; })()",
    )
    video = page.locator("#video video")
    duration = page.evaluate("document.querySelector('#video video').duration")
    assert abs(duration - 3.0) < 0.2

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui.png"), full_page=True)

    # Edit the middle keyframe's box: move it to the far left, then re-render.
    row = len(rows) // 2
    new_box = {3: "0.02", 5: "0.22"}
    for col, value in new_box.items():
        cell = page.locator(f"#keyframes [data-testid='cell-{row}-{col}']")
        cell.dblclick()
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)
    old_src = video.get_attribute("src")
    page.click("#render")
    _wait_until(
        page,
        "(() => { const v = document.querySelector('#video video');"
        " return v && v.getAttribute('src') !== arg && v.readyState >= 1; })()",
        arg=old_src,
    )
    links = page.locator("#downloads a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    layout_href = next(h for h in hrefs if h and h.split("?")[0].endswith("layout.json"))
    layout = json.loads(
        page.request.get(
            layout_href if layout_href.startswith("http") else app_url.rstrip("/") + layout_href
        ).text()
    )
    t_edit = float(rows[row][0])
    frame = min(layout["frames"], key=lambda f: abs(f["t"] - t_edit))
    box = frame["boxes"][0]["box"]
    assert box[0] == pytest.approx(0.02) and box[2] == pytest.approx(0.22)


def test_four_simultaneous_sessions_never_see_each_others_files(browser, tmp_path):
    """Four browser sessions upload four recordings at once: each sees its own layout
    and downloads, never another's; each request has its own folder."""
    from spa2v.interfaces.ui.app import build_app
    from spa2v.interfaces.ui.session import Limits
    from spa2v.sim.scene import simulate_static

    durations_s = [1.0, 1.5, 2.0, 2.5]
    uploads = []
    for i, duration_s in enumerate(durations_s):
        # -30 to +30 deg: a simulated 0.2 m pair read as the estimator's 0.15 m puts a
        # source at +-45 deg outside the view (no keyframes to the end of the clip)
        sim = simulate_static(
            20.0 * (i - 1.5), 3.0, format="spaced", duration_s=duration_s, sr=16000, seed=i
        )
        path = tmp_path / f"user{i}.wav"
        sf.write(path, sim.signal.samples.T, sim.signal.sr)
        uploads.append(path)
    root = tmp_path / "requests"
    app = build_app(Limits(max_upload_mb=20, max_duration_s=30), root=root)
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        pages = []
        for _ in durations_s:  # one context each: separate cookies, separate sessions
            context = browser.new_context(viewport={"width": 1280, "height": 1400})
            page = context.new_page()
            page.set_default_timeout(180_000)
            page.goto(url)
            pages.append(page)
        for page, upload in zip(pages, uploads, strict=True):
            page.locator("#upload input[type=file]").set_input_files(str(upload))
        pages[0].wait_for_timeout(500)
        for page in pages:  # all four requests in flight together
            page.click("#plan")
        seen: list[set[str]] = []
        for page, duration_s in zip(pages, durations_s, strict=True):
            rows = _wait_for_table(page)
            assert float(rows[-1][0]) == pytest.approx(duration_s, abs=0.13)
            _wait_until(page, "document.querySelectorAll('#downloads a').length >= 2")
            links = page.locator("#downloads a")
            hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
            layout_href = next(h for h in hrefs if h.split("?")[0].endswith("layout.json"))
            full = layout_href if layout_href.startswith("http") else url + layout_href
            layout = json.loads(page.request.get(full).text())
            assert layout["duration"] == pytest.approx(duration_s, abs=0.01)
            html = page.content()
            for other in seen:
                assert not hrefs & other
                assert not any(h in html for h in other)
            seen.append(hrefs)
    finally:
        app.close()
    folders = sorted(root.iterdir())
    assert len(folders) == 4
    assert len({(f / "input.wav").stat().st_size for f in folders}) == 4
