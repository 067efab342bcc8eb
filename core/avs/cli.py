"""The ``avs`` command line: thin — it parses, calls the library, prints with Rich.

Every user-caused problem surfaces as :class:`avs.errors.AvsError`: one line on stderr,
exit status 2, no traceback. Heavy modules (torch) are imported inside the commands
that need them, so ``avs --help`` and ``avs plugins`` start fast.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from avs import __version__
from avs.errors import AvsError
from avs.io import check_output_path
from avs.predict_many import AUDIO_SUFFIXES, is_collection, path_exists

app = typer.Typer(
    name="avs",
    help="Audio-driven visual speech synthesis: speech in; gestures and talking faces out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Data-set utilities.", no_args_is_help=True)
app.add_typer(data_app, name="data")
plugin_app = typer.Typer(help="For plugin authors.", no_args_is_help=True)
app.add_typer(plugin_app, name="plugin")
export_app = typer.Typer(help="Export a checkpoint for another runtime.", no_args_is_help=True)
app.add_typer(export_app, name="export")

# soft_wrap: a line is never broken at the console width (80 columns when output is not a terminal).
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

OVERRIDES_HELP = "Config overrides as key=value (e.g. train.epochs=3 model.width=64)."


@functools.cache
def _registry() -> Any:
    """Discover the plugins once per process (plugin sub-commands and the command itself share it)."""
    from avs.plugins import discover

    return discover()


def _method(name: str) -> Any:
    return _registry().get(name)


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"avs {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """avs: one home, one CLI and one set of metrics for published speech-to-motion methods."""


@app.command("plugins")
def plugins_cmd() -> None:
    """List installed methods: name, version, task, status."""
    registry = _registry()
    table = Table(title="avs plugins")
    for col in ("method", "version", "task", "status", "summary"):
        table.add_column(col)
    for name, (method, info) in sorted(registry.methods.items()):
        table.add_row(name, info.version, method.task, "[green]ok[/]", method.summary)
    for bad in registry.broken:
        table.add_row(bad.info.name, bad.info.version, "?", "[red]broken[/]", bad.error)
    if not registry.methods and not registry.broken:
        console.print("No plugins installed. Install one, e.g. `pip install -e plugins/s2g`.")
        return
    console.print(table)


@app.command("info")
def info_cmd(plugin: str = typer.Argument(..., help="Method name, see `avs plugins`.")) -> None:
    """Show a method's summary, paper, formats and default config (YAML)."""
    from avs.config import build_config, config_to_yaml

    method = _method(plugin)
    console.print(f"[bold]{method.name}[/] {method.version} — {method.summary}")
    console.print(f"task: {method.task}   audio: {method.sample_rate} Hz   motion: {method.fps:g} fps")
    console.print(f"paper: {method.paper}")
    if method.predict_inputs:
        console.print(f"predict inputs: {', '.join(method.predict_inputs)} (avs predict ... --input NAME=PATH)")
    ckpt = method.default_checkpoint
    console.print(f"bundled checkpoint: {ckpt if ckpt else 'none (pass --checkpoint)'}")
    if method.onnx is not None:
        from avs.runtime import sidecar_path

        sidecar = f" (bundled: {sidecar_path(ckpt)})" if ckpt and sidecar_path(ckpt).is_file() else ""
        console.print(f"torch-free inference: ONNX (avs export onnx {method.name} CHECKPOINT){sidecar}")
    for name, path in method.configs.items():
        console.print(f"experiment {name}: {path} (avs train {method.name} --config {name})")
    console.print("default config:")
    console.print(config_to_yaml(build_config(method.config_class)), markup=False, highlight=False)


@data_app.command("synth")
def data_synth_cmd(
    plugin: str = typer.Argument(..., help="Method name."),
    directory: Path = typer.Argument(..., help="Folder to create (must not exist or be empty)."),
    seed: int = typer.Option(0, help="Random seed of the synthetic set."),
    overrides: list[str] = typer.Argument(None, help=OVERRIDES_HELP),
) -> None:
    """Write a small learnable data set in the method's own on-disk format."""
    from avs.config import build_config

    check_output_path(directory, folder=True, what="data folder")
    method = _method(plugin)
    cfg = build_config(method.config_class, overrides=overrides or [])
    impl = method.impl_class()
    impl.require("synthesize_data")
    summary = impl.synthesize_data(directory, cfg, seed)
    console.print(f"wrote {directory}: {summary}")


@data_app.command("prepare")
def data_prepare_cmd(
    kind: str = typer.Argument(..., help="What to prepare: face."),
    paths: list[Path] = typer.Argument(..., help="VIDEO... OUT: talking-face videos, then the output folder."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Turn talking-face videos into a face data set: 25 fps frames, 16 kHz audio, landmarks, pose, expression.

    Resumable: run the same command again after an interruption. Needs the extra avs-toolkit[face].
    """
    if kind != "face":
        raise AvsError(f"unknown data kind {kind!r} (known: face)")
    if len(paths) < 2:
        raise AvsError("give one or more videos and then the output folder: avs data prepare face VIDEO... OUT")
    from avs.face.prepare import prepare_face_data

    *videos, out = paths
    rows = prepare_face_data(videos, out, progress=not quiet, console=console)
    table = Table(title=f"face data: {out}")
    for col in ("video", "frames", "faces found", "2+ faces", "jitter px (raw → smoothed)", "recon. px", "status"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.name, str(r.frames), f"{r.faces_found}/{r.frames}", str(r.multi_face_frames),
                      f"{r.jitter_raw_px:.2f} → {r.jitter_px:.2f}", f"{r.recon_px:.2f}", r.status)
    console.print(table)
    for r in rows:
        if r.multi_face_frames:
            console.print(f"note: {r.name}: several faces in {r.multi_face_frames} frames; the largest was tracked")
    console.print(f"wrote {out / 'index.json'}")


@data_app.command("build-face-model")
def data_build_face_model_cmd(
    paths: list[Path] = typer.Argument(..., help="DATA... OUT: prepared face data sets, then the model file."),
    components: int = typer.Option(64, "--components", help="Expression components."),
    version: str = typer.Option("open-face-v1", "--version-name", help="Version string of the new model."),
) -> None:
    """Fit the shared expression basis of the open face model on prepared face data sets (.npz out)."""
    if len(paths) < 2:
        raise AvsError("give one or more face data folders and then the model file to write")
    from avs.face.data import open_face_data
    from avs.face.model import build_face_model

    *roots, out = paths
    meshes = []
    for root in roots:
        for v in open_face_data(root).videos:
            meshes.append((v.name, v.track["lm478"], v.track["valid"].astype(bool)))
    model, report = build_face_model(meshes, version=version, num_components=components)
    model.save(out)
    table = Table(title=f"open face model {version}: reconstruction error (px)")
    cols = {"rigid_only_px": "rigid only", "shared_px": "shared", "shared_holdout_px": "shared, video held out",
            "person_px": "per-person (in-sample)", "shared_holdout_late_px": "last 1/4: shared held out",
            "person_late_px": "last 1/4: per-person fit on first 3/4"}
    table.add_column("video")
    table.add_column("frames")
    for col in cols.values():
        table.add_column(col)
    for r in report:
        table.add_row(r["name"], f"{r['frames']:.0f}", *(f"{r.get(k, float('nan')):.3f}" for k in cols))
    console.print(table)
    console.print(f"wrote {out}")


@plugin_app.command("new")
def plugin_new_cmd(
    name: str = typer.Argument(..., help="Method name of the new plugin (lower case, e.g. nod)."),
    directory: Path = typer.Argument(None, help="Folder to create (default ./avs-NAME; must not exist or be empty)."),
) -> None:
    """Write a working method plugin package to start from (install it with `pip install -e DIR`)."""
    from avs.scaffold import new_plugin, plugin_names

    names = plugin_names(name)
    root = check_output_path(directory or Path(names["dist"]), folder=True, what="plugin folder")
    files = new_plugin(name, root)
    console.print(f"wrote {len(files)} files to {root}; next: pip install -e {root} && avs plugins")


@app.command("train")
def train_cmd(
    plugin: str = typer.Argument(..., help="Method name."),
    overrides: list[str] = typer.Argument(None, help=OVERRIDES_HELP),
    data: Path = typer.Option(..., "--data", help="Data-set root in the method's format."),
    config: str = typer.Option(None, "--config", help="YAML file of options, or an experiment name (avs info)."),
    out: Path = typer.Option(None, "--out", help="Run folder (default runs/<plugin>)."),
    resume: Path = typer.Option(None, "--resume", help="Continue the run in this folder."),
) -> None:
    """Train a method; checkpoints, config.yaml and log.jsonl go to the run folder."""
    from avs.config import build_config, resolve_experiment

    method = _method(plugin)
    config = resolve_experiment(method, config) if config is not None else None
    if resume is not None:
        if out is not None and out.resolve() != resume.resolve():
            raise AvsError("give either --out or --resume (the run folder), not two different folders")
        saved = resume / "config.yaml"
        if not saved.is_file():
            raise AvsError(f"{resume} is not a run folder of avs train (no config.yaml)")
        cfg = build_config(method.config_class, config or saved, overrides or [])
        run_dir = resume
    else:
        cfg = build_config(method.config_class, config, overrides or [])
        run_dir = check_output_path(out or Path("runs") / plugin, folder=True, what="run folder")
    if not data.is_dir():
        raise AvsError(f"data folder not found: {data}")

    from avs.train import Trainer

    result = Trainer(method, cfg, data, run_dir, resume=resume is not None, console=console).fit()
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports (its group is gone by now)
        console.print(f"run folder: {result.run_dir}")


def _checkpoint_for(method: Any, checkpoint: Path | None) -> Path:
    if checkpoint is not None:
        return checkpoint
    if method.default_checkpoint is None:
        raise AvsError(f"method {method.name!r} has no bundled checkpoint; pass --checkpoint")
    return Path(method.default_checkpoint)


_OVERRIDE_RE = re.compile(r"^[A-Za-z_][\w.\-]*=")


def _split_predict_args(args: list[str]) -> tuple[list[str], list[str]]:
    """(audio sources, key=value overrides): an argument of the form ``key=value`` that names no file is an override."""
    sources, overrides = [], []
    for arg in args:
        (overrides if _OVERRIDE_RE.match(arg) and not path_exists(arg) else sources).append(arg)
    if not sources:
        raise AvsError("give at least one audio file, folder or quoted glob pattern")
    return sources, overrides


@app.command("predict")
def predict_cmd(
    plugin: str = typer.Argument(..., help="Method name."),
    args: list[str] = typer.Argument(
        ..., metavar="INPUTS",
        help="Speech files (wav, flac, ogg, mp3, ...; any rate), folders (their files ending in "
             f"{' '.join(AUDIO_SUFFIXES)}, sorted) or quoted glob patterns ('talks/*.wav', expanded by avs), "
             "then config overrides as key=value (e.g. render.width=640)."),
    checkpoint: Path = typer.Option(None, "--checkpoint", "-c", help="Checkpoint (default: bundled)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output mp4 (default <audio>_<plugin>.mp4); with several "
                             "audio files a folder (created if missing) that gets <stem>.mp4 for each."),
    save_npz: bool = typer.Option(False, "--save-npz", help="Also write the motion as .npz beside the mp4."),
    inputs: list[str] = typer.Option(None, "--input", "-i",
                                     help="Extra input NAME=PATH the method takes (see avs info), repeatable."),
    face: Path = typer.Option(None, "--face", help="Face photo to animate (face-image methods, e.g. rdgan)."),
    landmarks: Path = typer.Option(None, "--landmarks",
                                   help="Landmark sequence .npz, (T, 68, 2) pixels at the method's fps."),
    drive: Path = typer.Option(None, "--drive", help="Driving talking-face video (expression transfer)."),
    target: Path = typer.Option(None, "--target", help="Prepared person folder (avs data prepare face)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar over several files."),
    backend: str = typer.Option("auto", "--backend", help="Inference backend: auto (the checkpoint's ONNX graph "
                                "when there is one and onnxruntime is installed, else torch), torch or onnx."),
) -> None:
    """Turn speech into motion and a video with the sound muxed in.

    Several files, folders or quoted glob patterns run in one process, the model loaded once.

    A bad file gets one error line and the others go on; the exit status is 2 at the end if any failed.
    """
    sources, overrides = _split_predict_args(args)
    method = _method(plugin)
    if len(sources) > 1 or is_collection(sources[0]):
        _predict_many(method, sources, overrides, checkpoint, out, save_npz, _predict_inputs(
            inputs, face=face, landmarks=landmarks, drive=drive, target=target), quiet, backend)
        return
    from avs.predict import predict_to_video

    audio = Path(sources[0])
    out = check_output_path(out or Path(f"{audio.stem}_{plugin}.mp4"))
    extra = _predict_inputs(inputs, face=face, landmarks=landmarks, drive=drive, target=target)
    result = predict_to_video(method, audio, _checkpoint_for(method, checkpoint), out,
                              overrides=overrides, save_npz=save_npz, inputs=extra, backend=backend,
                              on_note=_print_note)
    _print_written(result)


def _predict_inputs(inputs: list[str] | None, **named: Path | None) -> dict[str, str]:
    """The extra predict inputs by name: the named options given, then each ``--input NAME=PATH``."""
    extra = {name: str(path) for name, path in named.items() if path is not None}
    for item in inputs or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise AvsError(f"--input {item!r} is not of the form NAME=PATH")
        extra[name] = path
    return extra


def _print_written(result: Any) -> None:
    console.print(f"wrote {result.video} ({result.num_frames} frames at {result.fps:g} fps, "
                  f"{result.duration:.2f} s; {result.backend})")
    for path in ([result.npz] if result.npz is not None else []) + result.extra:
        console.print(f"wrote {path}")


def _predict_many(method: Any, sources: list[str], overrides: list[str], checkpoint: Path | None,
                  out: Path | None, save_npz: bool, extra: dict[str, str], quiet: bool, backend: str) -> None:
    """``avs predict`` over several files: every path checked, the model built once, one line per bad file."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from avs.model import load_method
    from avs.predict import check_inputs
    from avs.predict_many import expand_audio_sources, plan_outputs, predict_files

    files = expand_audio_sources(sources)
    outs = plan_outputs(files, out, method.name)
    checked_inputs = check_inputs(method, extra)
    model = load_method(method, _checkpoint_for(method, checkpoint), overrides, backend=backend, on_note=_print_note)
    failed = 0
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, disable=quiet or not console.is_terminal, transient=True)
    with progress:
        task = progress.add_task(f"{method.name}: {files[0].name}", total=len(files))
        for i, outcome in enumerate(predict_files(model, files, outs, save_npz, checked_inputs)):
            if outcome.error is not None:
                failed += 1
                _print_error(f"{outcome.audio}: {outcome.error}")
            else:
                _print_written(outcome.result)
            following = files[i + 1].name if i + 1 < len(files) else "done"
            progress.update(task, advance=1, description=f"{method.name}: {following}")
    console.print(f"{len(files) - failed} of {len(files)} files done" + (f", {failed} failed" if failed else ""))
    if failed:
        raise typer.Exit(2)


def _print_note(message: str) -> None:
    err_console.print(f"note: {message}", markup=False, highlight=False)


@export_app.command("onnx")
def export_onnx_cmd(
    plugin: str = typer.Argument(..., help="Method name (one with an ONNX path: see avs info)."),
    checkpoint: Path = typer.Argument(..., help="Checkpoint to export (.safetensors)."),
    out: Path = typer.Option(None, "--out", "-o", help="ONNX file (default: beside the checkpoint, same name "
                             "with .onnx, where avs predict looks for it)."),
) -> None:
    """Export a checkpoint's network to ONNX for `avs predict --backend onnx` (no torch at predict time)."""
    from avs.onnx_export import export_onnx

    method = _method(plugin)
    if out is not None:
        check_output_path(out, what="ONNX file")
    result = export_onnx(method, checkpoint, out)
    console.print(f"wrote {result.path} ({result.size_bytes / 2**20:.2f} MiB; onnxruntime vs torch: "
                  f"max |difference| {result.max_abs_diff:.2g})")


@app.command("evaluate")
def evaluate_cmd(
    plugin: str = typer.Argument(..., help="Method name."),
    overrides: list[str] = typer.Argument(None, help=OVERRIDES_HELP),
    data: Path = typer.Option(..., "--data", help="Data-set root in the method's format."),
    checkpoint: Path = typer.Option(None, "--checkpoint", "-c", help="Checkpoint (default: bundled)."),
    split: str = typer.Option("test", "--split", help="Split to evaluate: dev or test."),
    json_out: Path = typer.Option(None, "--json", help="Also write the results as JSON."),
    videos: int = typer.Option(0, "--videos", help="Also render N clips, prediction beside ground truth."),
    videos_dir: Path = typer.Option(None, "--videos-dir",
                                    help="Folder for --videos (default <plugin>_<split>_videos)."),
) -> None:
    """Score a checkpoint on a data set's dev/test split."""
    from avs.predict import evaluate_checkpoint

    method = _method(plugin)
    if split not in ("dev", "test", "train"):
        raise AvsError(f"unknown split {split!r} (use dev or test)")
    if json_out is not None:
        check_output_path(json_out, what="--json file")
    if videos > 0:
        check_output_path(videos_dir or Path(f"{plugin}_{split}_videos"), folder=True, what="--videos-dir")
    evaluation = evaluate_checkpoint(method, data, _checkpoint_for(method, checkpoint), split,
                                     overrides=overrides or [], videos=videos, videos_dir=videos_dir)
    results = evaluation.metrics
    table = Table(title=f"{plugin} on {data} ({split})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("better")
    for name, value in results.items():
        direction = method.metric_directions.get(name)
        arrow = "" if direction is None else ("↑" if direction else "↓")
        table.add_row(name, f"{value:.4f}", arrow)
    console.print(table)
    if json_out is not None:
        from avs.io import atomic_path

        payload = {"method": plugin, "data": str(data), "split": split, "metrics": results}
        with atomic_path(json_out) as tmp:
            tmp.write_text(json.dumps(payload, indent=2) + "\n")
        console.print(f"wrote {json_out}")
    for path in evaluation.videos:
        console.print(f"wrote {path}")


@app.command("import")
def import_cmd(
    plugin: str = typer.Argument(..., help="Method name."),
    reference: Path = typer.Argument(..., help="Weights released with the reference implementation."),
    out: Path = typer.Argument(..., help="avs checkpoint to write (.safetensors)."),
    overrides: list[str] = typer.Argument(None, help=OVERRIDES_HELP),
    data: Path = typer.Option(None, "--data", help="Data set to compute normalisation statistics from."),
    speaker: str = typer.Option(None, "--speaker", help="Use the reference's published statistics of this "
                                "speaker (sdt; the config key speaker=)."),
    pose_vae: Path = typer.Option(None, "--pose-vae", help="The reference's pose VAE checkpoint holding an "
                                  "SDT-VAE generator's templates (sdt; the config key pose_vae_reference=)."),
) -> None:
    """Convert a reference repository's released weights into an avs checkpoint."""
    from avs.importing import import_reference

    method = _method(plugin)
    check_output_path(out, what="checkpoint")
    extra = [f"speaker={speaker}"] if speaker else []
    if pose_vae is not None:
        if not pose_vae.is_file():
            raise AvsError(f"pose VAE checkpoint not found: {pose_vae}")
        extra.append(f"pose_vae_reference={pose_vae}")
    path = import_reference(method, reference, out, overrides=[*(overrides or []), *extra], data_root=data)
    console.print(f"wrote {path}")


@app.command("benchmark")
def benchmark_cmd(
    data: Path = typer.Option(..., "--data", help="Data set to compare the methods on."),
    methods: str = typer.Option(None, "--methods", help="Comma-separated method names (default: all that fit)."),
    out: Path = typer.Option(Path("report"), "--out", help="Folder for report.md, report.json and plots."),
    split: str = typer.Option("test", "--split", help="Split to compare on: dev or test."),
    checkpoint: list[str] = typer.Option(None, "--checkpoint", help="METHOD=PATH (default: bundled)."),
    metrics: str = typer.Option(None, "--metrics", help="Comma-separated metric names (default: all)."),
    settings: list[str] = typer.Option(None, "--set", help="METHOD:key=value config override of one method "
                                       "(e.g. emotalk:eval.rig=rig.npz for LVE/EVE), repeatable."),
) -> None:
    """Compare every method able to read DATA, plus baselines, with its task's metric suite."""
    from avs.benchmark import markdown_table, run_benchmark, write_report

    check_output_path(out, folder=True, what="report folder")
    registry = _registry()
    if methods:
        chosen = {name.strip(): registry.get(name.strip()) for name in methods.split(",") if name.strip()}
    else:
        chosen = {name: m for name, (m, _) in registry.methods.items()}
    ckpts = {}
    for item in checkpoint or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise AvsError(f"--checkpoint {item!r} is not of the form METHOD=PATH")
        ckpts[name] = path
    if split not in ("dev", "test"):
        raise AvsError(f"unknown split {split!r} (use dev or test)")
    wanted = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    per_method: dict[str, list[str]] = {}
    for item in settings or []:
        name, sep, override = item.partition(":")
        if not sep or not name or "=" not in override:
            raise AvsError(f"--set {item!r} is not of the form METHOD:key=value")
        per_method.setdefault(name, []).append(override)
    report = run_benchmark(chosen, data, split, ckpts, wanted, suites=registry.suites, overrides=per_method)
    title = f"avs benchmark: {data} ({split})"
    files = write_report(report, out, title)
    console.print(markdown_table(report, title), markup=False, highlight=False, soft_wrap=True)
    console.print(f"wrote {len(files)} files to {out}")


@app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (0.0.0.0: every interface)."),
    port: int = typer.Option(7860, "--port", help="TCP port."),
    methods: str = typer.Option(None, "--methods", help="Comma-separated method names (default: all installed)."),
    checkpoint: list[str] = typer.Option(None, "--checkpoint", help="METHOD=PATH (default: bundled)."),
    concurrency: int = typer.Option(1, "--concurrency", help="Inferences run at once; the rest wait in a queue."),
    max_upload_mb: float = typer.Option(50.0, "--max-upload-mb", help="Largest upload in MiB."),
    max_audio_seconds: float = typer.Option(60.0, "--max-audio-seconds", help="Longest accepted audio."),
    file_ttl: float = typer.Option(3600.0, "--file-ttl", help="Seconds before uploads and outputs are deleted."),
    share: bool = typer.Option(False, "--share", help="Ask Gradio for a public link (needs the internet)."),
    workdir: Path = typer.Option(None, "--workdir", help="Folder for uploads and outputs (default: temporary)."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto."),
) -> None:
    """Browser demo and HTTP API of every installed method (needs the optional "serve" extra of avs-toolkit)."""
    from avs.serve import ServeSettings, run
    from avs.serve.settings import parse_checkpoints

    names = tuple(n.strip() for n in methods.split(",") if n.strip()) if methods else ()
    for name in names:
        _method(name)  # an unknown name is an error before anything starts
    settings = ServeSettings(host=host, port=port, methods=names, checkpoints=parse_checkpoints(checkpoint or []),
                             concurrency=concurrency, max_upload_mb=max_upload_mb,
                             max_audio_seconds=max_audio_seconds, file_ttl_s=file_ttl, share=share,
                             workdir=workdir, device=device)
    console.print(f"avs serve: http://{host}:{port}  (Ctrl+C stops)")
    run(settings)


def _register_plugin_commands() -> None:
    try:
        registry = _registry()
        registry.manager.hook.avs_register_commands(app=app)
    except Exception as exc:  # a plugin's sub-commands must not break the core CLI
        err_console.print(f"warning: a plugin failed to register its commands: {exc}", markup=False)


def _exception_kinds(exc: BaseException) -> set[str]:
    """Class names along ``exc``'s MRO.

    Typer ships its own copy of click (``typer._click``) and a plugin may bring the real
    click: matching by class *name* catches usage errors from either copy, whatever the versions.
    """
    return {cls.__name__ for cls in type(exc).__mro__}


def _usage_error_line(exc: BaseException) -> str:
    """One line for a click/typer usage error: the message plus where to find help."""
    try:
        message = exc.format_message()  # type: ignore[attr-defined]
    except Exception:  # a click copy without format_message: fall back on str()
        message = str(exc)
    message = " ".join(str(message).split()).rstrip(".") or type(exc).__name__
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None)
    return f"{message} (see '{command} --help')" if command else message


def _print_error(message: str) -> None:
    """``error: message`` as exactly one line on stderr (never wrapped, no markup)."""
    err_console.print(f"error: {' '.join(message.split())}", markup=False, highlight=False,
                      soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs the Typer app and maps every user error to one line.

    ``AvsError`` and every click/typer usage error (missing argument, unknown option or
    command, a value of the wrong type) print one ``error: ...`` line on stderr and exit
    with status 2; no traceback. ``avs`` or a command group without arguments prints its help.
    """
    _register_plugin_commands()
    try:
        code = app(args=argv, prog_name="avs", standalone_mode=False)
    except AvsError as exc:
        _print_error(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:
        kinds = _exception_kinds(exc)
        if "NoArgsIsHelpError" in kinds:  # bare `avs` / `avs data`: the help, as --help would
            console.print(exc.ctx.get_help(), markup=False, highlight=False, soft_wrap=True)  # type: ignore[attr-defined]
            sys.exit(0)
        if "Exit" in kinds:
            sys.exit(getattr(exc, "exit_code", 0))
        if "Abort" in kinds:
            err_console.print("aborted", markup=False)
            sys.exit(1)
        if "ClickException" in kinds or "UsageError" in kinds:
            _print_error(_usage_error_line(exc))
            sys.exit(2)
        raise
    if isinstance(code, int) and code:  # typer.Exit(code) returns its code when not standalone
        sys.exit(code)


if __name__ == "__main__":
    main()
