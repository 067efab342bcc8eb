"""The Gradio page and HTTP API of ``avs serve``.

One tab per task with installed methods; in each, a method picker, the speech (upload or microphone),
the picked method's extra inputs (face photo, ...) and options, a run button with a progress bar, the
video and the files ``avs predict`` writes. The same work is the API endpoint ``/predict`` (for
``gradio_client`` and plain HTTP; see the README, "Browser demo").

Offline by construction: Gradio serves its front-end from the installed package, the default theme's
fonts are local, analytics are off (:func:`avs.serve.run` sets ``GRADIO_ANALYTICS_ENABLED=False``
before Gradio is imported) and no share link is asked for unless ``--share``.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from avs.errors import AvsError
from avs.serve.backend import IMAGE_INPUTS, TASK_TABS, Backend, BadUpload, MethodInfo
from avs.serve.options import OptionSpec, to_overrides
from avs.serve.settings import ServeSettings

log = logging.getLogger("avs.serve")


class Runner:
    """Runs one request for the page or the API: checks, predicts, cleans up after a failure."""

    def __init__(self, backend: Backend, settings: ServeSettings, workdir: Path) -> None:
        self.backend = backend
        self.settings = settings
        self.uploads = (workdir / "uploads").resolve()
        self.out_root = workdir / "out"
        self.out_root.mkdir(parents=True, exist_ok=True)

    def __call__(self, method: str, audio: str | None, values: dict[str, Any], inputs: dict[str, str | None],
                 progress: Any) -> tuple[str, list[str], dict[str, Any]]:
        """Predict; return (mp4, [all files], summary). A user's mistake becomes ``gr.Error`` (a message)."""
        started = time.time()
        request_dir = self.out_root / uuid.uuid4().hex
        try:
            if not method:
                raise AvsError("pick a method")
            info = self.backend.info(method)
            if not audio:
                raise AvsError("no audio: upload a speech file or record one with the microphone")
            overrides = to_overrides(list(info.options), values)
            for name in info.predict_inputs:
                if not inputs.get(name):
                    raise AvsError(f"{method} needs a {name} ({'a photo' if name in IMAGE_INPUTS else 'a file'})")
            request_dir.mkdir(parents=True)

            def report(fraction: float, text: str) -> None:
                progress(fraction, desc=text)

            result = self.backend.predict(method, audio, request_dir, overrides,
                                          {k: v for k, v in inputs.items() if k in info.predict_inputs and v},
                                          self.settings.max_audio_seconds, report)
        except AvsError as exc:
            # an unusable upload goes at once; a good one stays (until --file-ttl) so that the page can
            # run again with other options without uploading it again
            self._discard(request_dir, [exc.path] if isinstance(exc, BadUpload) else [])
            raise gr.Error(str(exc), title="Cannot run", duration=30) from None
        except Exception as exc:  # a method's bug: the message, and the server keeps serving
            log.exception("%s failed", method)
            self._discard(request_dir, [])
            first = (str(exc).strip().splitlines() or [""])[0]
            raise gr.Error(f"{method} failed: {type(exc).__name__}: {first}", title="Error", duration=30) from None
        summary = {"method": method, "num_frames": result.num_frames, "fps": result.fps,
                   "duration_s": round(result.duration, 3), "seconds": round(result.seconds, 3),
                   "files": [p.name for p in result.files], "options": overrides,
                   "started": round(started, 3), "finished": round(time.time(), 3)}
        log.info("%s: %d frames in %.2f s", method, result.num_frames, result.seconds)
        return str(result.video), [str(p) for p in result.files], summary

    def _discard(self, request_dir: Path, uploads: list[Path]) -> None:
        """A failed request leaves no output folder, and the unusable uploads go."""
        shutil.rmtree(request_dir, ignore_errors=True)
        for upload in uploads:
            if not upload.resolve().is_relative_to(self.uploads):  # only what this server stored
                continue
            upload.unlink(missing_ok=True)
            try:
                upload.parent.rmdir()  # Gradio keeps each upload in a folder of its own
            except OSError:
                pass


def _option_component(spec: OptionSpec, value: Any) -> gr.components.Component:
    info = spec.help or None
    if spec.kind == "choice":
        return gr.Dropdown(list(spec.choices), value=value, label=spec.label, info=info, interactive=True)
    if spec.kind == "bool":
        return gr.Checkbox(value=bool(value), label=spec.label, info=info, interactive=True)
    bounded = spec.minimum is not None and spec.maximum is not None
    if bounded and not spec.optional and spec.maximum - spec.minimum <= 1000:
        step = spec.step or (1 if spec.kind == "int" else (spec.maximum - spec.minimum) / 100)
        return gr.Slider(spec.minimum, spec.maximum, value=value, step=step, label=spec.label, info=info,
                         interactive=True)
    finite = [None if b is None or math.isinf(b) else b for b in (spec.minimum, spec.maximum)]
    return gr.Number(value=value, label=spec.label, info=info, minimum=finite[0], maximum=finite[1],
                     step=spec.step or (1 if spec.kind == "int" else None),
                     precision=0 if spec.kind == "int" else None, interactive=True)


def _describe(info: MethodInfo) -> str:
    ckpt = info.checkpoint.name if info.checkpoint else "none (start with --checkpoint NAME=PATH)"
    return (f"**{info.name}** {info.version} — {info.summary}  \n"
            f"audio {info.sample_rate} Hz → {info.fps:g} fps · checkpoint: {ckpt}")


def _task_tab(runner: Runner, infos: list[MethodInfo], defaults: dict[str, dict[str, Any]], task: str) -> None:
    """The widgets and events of one task's tab."""
    names = [i.name for i in infos]
    with gr.Row():
        with gr.Column(scale=1):
            picker = gr.Dropdown(names, value=names[0], label="Method", elem_id=f"method-{task}", interactive=True)
            about = gr.Markdown(_describe(infos[0]))
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Speech",
                             elem_id=f"audio-{task}")
            groups, option_slots, input_slots = [], [], []
            for k, info in enumerate(infos):
                with gr.Group(visible=k == 0) as group:
                    for name in info.predict_inputs:
                        label = f"{name} (required by {info.name})"
                        # a file box, not gr.Image: Gradio would open a bad image itself and show its own error
                        comp = gr.File(label=label, file_types=["image"] if name in IMAGE_INPUTS else None,
                                       elem_id=f"input-{info.name}-{name}")
                        input_slots.append((info.name, name, comp))
                    main = [s for s in info.options if "." not in s.key]
                    advanced = [s for s in info.options if "." in s.key]
                    for title, specs, is_open in ((f"{info.name} options", main, True),
                                                  (f"{info.name}: inference and rendering", advanced, False)):
                        if not specs:
                            continue
                        with gr.Accordion(title, open=is_open):
                            for spec in specs:
                                comp = _option_component(spec, defaults[info.name].get(spec.key, spec.default))
                                option_slots.append((info.name, spec, comp))
                groups.append(group)
            run = gr.Button("Run", variant="primary", elem_id=f"run-{task}")
        with gr.Column(scale=1):
            video = gr.Video(label="Video", elem_id=f"video-{task}", interactive=False)
            files = gr.File(label="Downloads", file_count="multiple", elem_id=f"files-{task}", interactive=False)
            summary = gr.JSON(label="Summary", elem_id=f"summary-{task}")

    by_name = {i.name: i for i in infos}

    def pick(name: str) -> list[Any]:
        return [gr.update(value=_describe(by_name[name]))] + [gr.update(visible=i.name == name) for i in infos]

    picker.change(pick, picker, [about, *groups], api_visibility="private")

    components = {picker, audio, *(c for *_, c in option_slots), *(c for *_, c in input_slots)}

    def submit(data: dict, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        method = data[picker]
        values = {}
        for name, spec, comp in option_slots:
            if name == method:
                value = data[comp]
                if value != defaults[name].get(spec.key, spec.default):
                    values[spec.key] = value
        inputs = {key: data[comp] for name, key, comp in input_slots if name == method}
        return runner(method, data[audio], values, inputs, progress)

    run.click(submit, components, [video, files, summary], api_visibility="private")


def build_app(backend: Backend, settings: ServeSettings, workdir: Path) -> gr.Blocks:
    """The demo's Gradio Blocks (not launched).

    Args:
        backend: the served methods.
        settings: limits and queue sizes.
        workdir: folder for this server's outputs (``workdir/out``).
    """
    runner = Runner(backend, settings, workdir)
    infos = backend.methods()
    defaults = {name: backend.option_defaults(name) for name in infos}
    tasks: dict[str, list[MethodInfo]] = {}
    for info in infos.values():
        tasks.setdefault(info.task, []).append(info)
    order = [t for t in TASK_TABS if t in tasks] + sorted(t for t in tasks if t not in TASK_TABS)
    ttl = int(settings.file_ttl_s)
    with gr.Blocks(title="avs demo", analytics_enabled=False,
                   delete_cache=(max(1, min(ttl, 600) // 2), ttl)) as demo:
        gr.Markdown("# avs — speech to gestures and faces\nPick a method, give it speech (a file or the "
                    f"microphone, at most {settings.max_audio_seconds:g} s), press **Run**.")
        if not order:
            gr.Markdown("No methods installed. Install a plugin, e.g. `pip install -e plugins/s2g`.")
        for task in order:
            with gr.Tab(TASK_TABS.get(task, task), id=task):
                _task_tab(runner, tasks[task], defaults, task)

        extra_names = sorted({n for i in infos.values() for n in i.predict_inputs})
        with gr.Column(visible=False):
            api_method = gr.Textbox(label="method")
            api_audio = gr.Audio(type="filepath", label="audio")
            api_options = gr.Textbox(label="options", value="{}")
            api_inputs = [gr.File(label=name) for name in extra_names]
            api_video = gr.Video(label="video")
            api_files = gr.File(label="files", file_count="multiple")
            api_summary = gr.JSON(label="summary")
            api_button = gr.Button(visible=False)

        def api_predict(*args: Any) -> tuple[Any, ...]:
            """Speech → video and files. ``options``: a JSON object of option values, e.g. {"emotion": "happy"}."""
            method, audio, options, *extra, progress = args
            try:
                values = json.loads(options or "{}")
            except json.JSONDecodeError as exc:
                raise gr.Error(f"options must be a JSON object: {exc}") from None
            if not isinstance(values, dict):
                raise gr.Error("options must be a JSON object, e.g. {\"emotion\": \"happy\"}")
            return runner(method, audio, values, dict(zip(extra_names, extra, strict=True)), progress)

        # named parameters for the API (method, audio, options, one per extra input, all but the first two
        # optional); Gradio fills in the progress tracker it finds last
        param = inspect.Parameter
        api_predict.__signature__ = inspect.Signature(
            [param("method", param.POSITIONAL_OR_KEYWORD), param("audio", param.POSITIONAL_OR_KEYWORD),
             param("options", param.POSITIONAL_OR_KEYWORD, default="{}"),
             *(param(name, param.POSITIONAL_OR_KEYWORD, default=None) for name in extra_names),
             param("progress", param.POSITIONAL_OR_KEYWORD, default=gr.Progress())])

        api_button.click(api_predict, [api_method, api_audio, api_options, *api_inputs],
                         [api_video, api_files, api_summary], api_name="predict")

        def list_methods() -> dict:
            """Served methods with their task, options (key, kind, default, choices, range) and extra inputs."""
            return {name: {"task": i.task, "summary": i.summary, "fps": i.fps, "inputs": list(i.predict_inputs),
                           "options": [{"key": s.key, "kind": s.kind, "default": defaults[name].get(s.key, s.default),
                                        "choices": list(s.choices), "min": s.minimum, "max": s.maximum}
                                       for s in i.options]}
                    for name, i in infos.items()}

        methods_json = gr.JSON(visible=False)
        methods_button = gr.Button(visible=False)
        methods_button.click(list_methods, None, methods_json, api_name="methods", queue=False)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.max_queue)
    return demo
