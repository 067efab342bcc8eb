"""``avs serve`` end to end: a real server, Debian's chromium driven by Playwright, and ``gradio_client``.

Needs the extra ``avs-toolkit[serve]``, Playwright for Python and the system chromium (``make test``
installs all three); without them these tests skip and say why. Screenshots of each state go to the
test's tmp folder (``serve_*.png``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from avs.video import probe_video
from serve_helpers import Server, cut_speech

pytest.importorskip("gradio", reason="avs serve needs the extra avs-toolkit[serve] (make install adds it)")
gradio_client = pytest.importorskip("gradio_client", reason="gradio_client comes with avs-toolkit[serve]")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"]
MAX_SECONDS = 5.0
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, fixture_plugins: Path):
    """One ``avs serve`` for the module: every installed method, audio limit 5 s, uploads ≤ 1 MiB.

    The fixture plugins (avs-wave, a third-party method, avs-broken, and avs-photo, a method that takes a
    face photo) are pip-installed on its path.
    """
    root = tmp_path_factory.mktemp("serve")
    source = shutil.copytree(FIXTURES / "avs-photo", root / "avs-photo")  # a method that needs a face photo
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(root / "site"), str(source)], check=True, capture_output=True)
    pythonpath = os.pathsep.join(p for p in (str(root / "site"), str(fixture_plugins),
                                             os.environ.get("PYTHONPATH", "")) if p)
    srv = Server(root / "work", "--max-audio-seconds", str(MAX_SECONDS), "--max-upload-mb", "1",
                 "--file-ttl", "600", env={"PYTHONPATH": pythonpath})
    try:
        srv.startup_s = srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, speech_path: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    out = {f"{s:g}": cut_speech(speech_path, root / f"speech_{s:g}s.wav", s) for s in (1.0, 1.6, 2.0, 3.0)}
    fake = root / "notes.wav"
    fake.write_text("these are meeting notes, not audio\n" * 20)
    out["fake"] = fake
    return out


def _client(server: Server, downloads: Path):
    return gradio_client.Client(server.url, verbose=False, download_files=str(downloads))


def _leftovers(server: Server) -> list[Path]:
    """Request folders and uploads still on disk."""
    return [p for sub in ("out", "uploads") for p in (server.workdir / sub).rglob("*") if p.is_file()]


# ---------------------------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser(clips: dict[str, Path]):
    """The system chromium; its fake microphone plays 3 s of the bundled speech."""
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium; `make test` installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    microphone = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-audio-capture={clips['3']}"]
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS + microphone)
        yield instance
        instance.close()


def test_browser_s2g_video_and_download(server: Server, browser, clips: dict[str, Path], tmp_path: Path,
                                        record_property) -> None:
    """Open the page, pick s2g, upload speech, run: a playable video of the right length, an mp4 download."""
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    start = time.perf_counter()
    page.goto(server.url)
    page.wait_for_selector("#run-gesture-2d")
    record_property("page_load_s", round(time.perf_counter() - start, 2))
    page.screenshot(path=str(tmp_path / "serve_1_page.png"), full_page=True)

    page.locator("#method-gesture-2d input").click()
    offered = page.get_by_role("option").all_inner_texts()
    assert {"s2g", "sdt", "wave"} <= {o.split()[-1] for o in offered}  # wave: a pip-installed third-party plugin
    page.get_by_role("option", name="s2g", exact=True).click()
    page.locator("#audio-gesture-2d input[type=file]").set_input_files(str(clips["3"]))
    page.wait_for_selector("#audio-gesture-2d audio, #audio-gesture-2d [data-testid='waveform-Speech'] canvas",
                           state="attached", timeout=20_000)
    page.screenshot(path=str(tmp_path / "serve_2_uploaded.png"), full_page=True)

    start = time.perf_counter()
    page.locator("#run-gesture-2d").click()
    page.locator("#video-gesture-2d .progress-text, #video-gesture-2d .progress-bar").first.wait_for(timeout=20_000)
    page.screenshot(path=str(tmp_path / "serve_3_running.png"), full_page=True)
    video = page.locator("#video-gesture-2d video")
    video.wait_for(state="attached", timeout=60_000)
    page.wait_for_function("() => { const v = document.querySelector('#video-gesture-2d video');"
                           " return v && v.readyState >= 1 && v.duration > 0; }", timeout=30_000)
    record_property("request_s", round(time.perf_counter() - start, 2))
    duration = page.evaluate("() => document.querySelector('#video-gesture-2d video').duration")
    assert duration == pytest.approx(3.0, abs=0.1)
    page.locator("#files-gesture-2d a").first.wait_for(timeout=10_000)
    page.evaluate("() => new Promise(done => { const v = document.querySelector('#video-gesture-2d video');"
                  " v.addEventListener('seeked', done, {once: true}); v.currentTime = 1.5; })")
    page.screenshot(path=str(tmp_path / "serve_4_result.png"), full_page=True)

    links = page.locator("#files-gesture-2d a").evaluate_all("els => els.map(e => e.href)")
    names = [link.rsplit("/", 1)[-1] for link in links]
    assert "speech_3s_s2g.mp4" in names and "speech_3s_s2g.npz" in names
    mp4_url = links[names.index("speech_3s_s2g.mp4")]
    response = page.request.get(mp4_url)
    assert response.ok
    downloaded = tmp_path / "download.mp4"
    downloaded.write_bytes(response.body())
    info = probe_video(downloaded)
    assert info.num_frames == 45  # 3.0 s at 15 fps
    assert info.has_audio
    offsite = [u for u in requests if not u.startswith(server.url) and not u.startswith(("blob:", "data:"))]
    assert offsite == [], f"the page fetched from elsewhere: {offsite[:5]}"
    page.close()


def test_browser_text_file_renamed_wav_shows_error(server: Server, browser, clips: dict[str, Path],
                                                   tmp_path: Path) -> None:
    """A text file named .wav: a readable message in the page, nothing left on disk, the server keeps serving."""
    before = _leftovers(server)
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    page.goto(server.url)
    page.wait_for_selector("#run-gesture-2d")
    page.locator("#audio-gesture-2d input[type=file]").set_input_files(str(clips["fake"]))
    time.sleep(1.0)  # let the upload land
    page.locator("#run-gesture-2d").click()
    message = page.get_by_text("is not a readable audio file")
    message.first.wait_for(timeout=30_000)
    assert "notes.wav" in message.first.inner_text()
    time.sleep(0.8)  # the message fades in
    page.screenshot(path=str(tmp_path / "serve_5_error.png"), full_page=True)
    assert _leftovers(server) == before  # the upload and the request's folder are gone
    page.close()
    page = browser.new_page()
    page.goto(server.url)
    page.wait_for_selector("#run-gesture-2d")  # still serving
    page.close()


# ---------------------------------------------------------------------------------------------- API


def test_api_predict_and_limits(server: Server, clips: dict[str, Path], speech_path: Path, tmp_path: Path) -> None:
    """gradio_client: /methods lists every installed method; /predict writes the files; bad input is a message."""
    client = _client(server, tmp_path)
    endpoint = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/predict"]
    names = [p["parameter_name"] for p in endpoint["parameters"]]
    assert names[:3] == ["method", "audio", "options"]  # then one optional file per extra input
    assert all(p["parameter_has_default"] for p in endpoint["parameters"][2:])
    methods = client.predict(api_name="/methods")
    assert {"s2g", "sdt", "emotalk", "wave"} <= set(methods)
    assert [o["key"] for o in methods["wave"]["options"]] == ["gain"]  # from its plain config dataclass
    with pytest.raises(gradio_client.exceptions.AppError, match="no bundled checkpoint"):
        client.predict("wave", gradio_client.handle_file(str(clips["1"])), "{}", api_name="/predict")
    assert methods["emotalk"]["task"] == "face-blendshape"
    emotion = next(o for o in methods["emotalk"]["options"] if o["key"] == "emotion")
    assert emotion["kind"] == "choice" and "happy" in emotion["choices"]

    video, files, summary = client.predict("emotalk", gradio_client.handle_file(str(clips["2"])),
                                           json.dumps({"emotion": "happy", "level": 0}), api_name="/predict")
    assert probe_video(video).num_frames == 60  # 2.0 s at 30 fps
    suffixes = sorted(Path(f).suffix for f in files)
    assert suffixes == [".csv", ".json", ".mp4", ".npy", ".npz", ".png"]
    assert summary["options"] == ["emotion=happy", "level=0"]
    csv_file = next(Path(f) for f in files if f.endswith(".csv"))
    assert csv_file.read_text().splitlines()[0].startswith("Timecode,BlendShapeCount,")

    cases = [
        (clips["fake"], "{}", "is not a readable audio file"),
        (speech_path, "{}", f"accepts at most {MAX_SECONDS:g} s"),  # 7.1 s > 5 s
        (clips["1"], '{"emotion": "furious"}', "must be one of auto, neutral"),
        (clips["1"], '{"level": 3}', "must be at most 1"),
        (clips["1"], '{"model.width": 3}', "unknown option 'model.width'"),
    ]
    for audio, options, expected in cases:
        with pytest.raises(gradio_client.exceptions.AppError, match=expected):
            client.predict("emotalk", gradio_client.handle_file(str(audio)), options, api_name="/predict")
    with pytest.raises(gradio_client.exceptions.AppError, match="no audio"):
        client.predict("s2g", None, "{}", api_name="/predict")
    assert not list((server.workdir / "uploads").rglob("notes.wav"))
    assert not list((server.workdir / "uploads").rglob("librivox_0870.wav"))  # the too-long one


def test_api_upload_size_limit(server: Server, tmp_path: Path) -> None:
    """An upload over --max-upload-mb is refused before it is stored."""
    import numpy as np
    import soundfile

    big = tmp_path / "long.wav"
    soundfile.write(str(big), np.zeros(16000 * 40, np.float32), 16000, subtype="PCM_16")  # 1.28 MB > 1 MiB
    client = _client(server, tmp_path)
    with pytest.raises(Exception, match="(?i)too large|exceeds|maximum|413"):
        client.predict("s2g", gradio_client.handle_file(str(big)), "{}", api_name="/predict")
    assert not list((server.workdir / "uploads").rglob("long.wav"))


def test_api_three_requests_queue_in_order(server: Server, clips: dict[str, Path], tmp_path: Path) -> None:
    """Three requests at once: all complete, one at a time in arrival order, each with its own length."""
    client = _client(server, tmp_path)
    jobs = {}
    for key in ("2", "1", "1.6"):
        jobs[key] = client.submit("s2g", gradio_client.handle_file(str(clips[key])), "{}", api_name="/predict")
        deadline = time.time() + 30  # the next one is sent once this one waits in the server's queue
        while jobs[key].status().code.name not in ("QUEUE", "PROCESSING", "PROGRESS", "FINISHED") \
                and time.time() < deadline:
            time.sleep(0.02)
    results = {key: job.result(timeout=120) for key, job in jobs.items()}
    frames = {key: probe_video(video).num_frames for key, (video, _, _) in results.items()}
    assert frames == {"2": 30, "1": 15, "1.6": 24}
    spans = sorted((summary["started"], summary["finished"], key) for key, (_, _, summary) in results.items())
    assert [key for *_, key in spans] == ["2", "1", "1.6"]  # served in the order they arrived
    for (_, end, _), (begin, _, _) in zip(spans, spans[1:], strict=False):
        assert end <= begin  # one inference at a time (--concurrency 1)


def test_browser_microphone_to_blendshape_csv(server: Server, browser, tmp_path: Path) -> None:
    """Blendshapes tab: record from the (fake) microphone, emotion=happy, run: face video and a Live Link CSV."""
    context = browser.new_context(viewport={"width": 1280, "height": 1100}, permissions=["microphone"])
    page = context.new_page()
    page.goto(server.url)
    page.wait_for_selector("#run-gesture-2d")
    page.get_by_role("tab", name="Blendshapes").click()
    page.locator("#method-face-blendshape input").wait_for()
    page.locator("#audio-face-blendshape button[aria-label='Record audio']").click()
    page.locator("#audio-face-blendshape button.record-button").click()
    time.sleep(2.0)
    page.locator("#audio-face-blendshape button.stop-button").first.click()
    # the recording is uploaded once the player offers to download it
    page.locator("#audio-face-blendshape button[aria-label='Download']").wait_for(timeout=20_000)
    emotion = page.get_by_label("emotion", exact=True)
    emotion.click()
    page.get_by_role("option", name="happy", exact=True).click()
    time.sleep(0.5)  # the list fades out
    page.screenshot(path=str(tmp_path / "serve_6_recorded.png"), full_page=True)
    page.locator("#run-face-blendshape").click()
    page.wait_for_function("() => { const v = document.querySelector('#video-face-blendshape video');"
                           " return v && v.readyState >= 1 && v.duration > 0; }", timeout=90_000)
    duration = page.evaluate("() => document.querySelector('#video-face-blendshape video').duration")
    assert 1.0 < duration < 4.0  # about the 2 s recorded
    page.locator("#files-face-blendshape a").first.wait_for(timeout=10_000)
    links = page.locator("#files-face-blendshape a").evaluate_all("els => els.map(e => e.href)")
    assert sorted(link.rsplit(".", 1)[-1] for link in links) == ["csv", "json", "mp4", "npy", "npz", "png"]
    rows = page.request.get(next(u for u in links if u.endswith(".csv"))).text().splitlines()
    assert rows[0].startswith("Timecode,BlendShapeCount,EyeBlinkLeft")
    assert abs((len(rows) - 1) - duration * 30) <= 2
    report = json.loads(page.request.get(next(u for u in links if u.endswith(".json"))).text())
    assert report["controls"]["emotion"] == "happy"  # the option chosen in the page reached the method
    page.evaluate("() => new Promise(done => { const v = document.querySelector('#video-face-blendshape video');"
                  " v.addEventListener('seeked', done, {once: true}); v.currentTime = 1.0; })")
    page.screenshot(path=str(tmp_path / "serve_7_blendshapes.png"), full_page=True)
    context.close()


def test_browser_face_photo_input(server: Server, browser, clips: dict[str, Path], tmp_path: Path) -> None:
    """A method declaring a face input gets a photo box; a missing or unreadable photo is a message."""
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    page.goto(server.url)
    page.wait_for_selector("#run-gesture-2d")
    page.get_by_role("tab", name="Face video").click()
    page.locator("#method-face-image input").click()  # rdgan and phadtf are listed there too
    page.get_by_role("option", name="photo-talk", exact=True).click()
    photo = page.locator("#input-photo-talk-face")
    photo.wait_for()
    assert "face (required by photo-talk)" in photo.inner_text()
    page.locator("#audio-face-image input[type=file]").set_input_files(str(clips["1"]))
    page.locator("#audio-face-image button[aria-label='Download']").wait_for(timeout=20_000)
    page.locator("#run-face-image").click()
    page.get_by_text("photo-talk needs a face (a photo)").first.wait_for(timeout=30_000)
    not_a_photo = tmp_path / "me.jpg"
    not_a_photo.write_text("a letter, not a photo")
    photo.locator("input[type=file]").set_input_files(str(not_a_photo))
    photo.get_by_text("me.jpg").first.wait_for(timeout=20_000)
    page.locator("#run-face-image").click()
    page.get_by_text("me.jpg is not a readable image").first.wait_for(timeout=30_000)
    time.sleep(0.8)
    page.screenshot(path=str(tmp_path / "serve_8_face_input.png"), full_page=True)
    assert not list((server.workdir / "uploads").rglob("me.jpg"))  # the unusable photo is gone
    page.close()
