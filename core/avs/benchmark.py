"""``avs benchmark``: every method that can read a data set, plus baselines, scored by its task's suite.

For each installed method (or those named) whose implementation has ``predict_clips``: load its
checkpoint (given, or the bundled default), read the split with the method's own reader, predict
every clip, and score the clips with the suite of the method's task (:class:`avs.tasks.TaskSuite`,
registered through the ``avs_task_suites`` hook; core's gesture and blendshape suites are built-in).
A method that cannot read the data (any exception while loading, reading or predicting) is
skipped with the reason in the report; it never stops the others. A method's own metrics
(``clips.extras``) join its row, with the directions of ``method.metric_directions``. The suite's
baselines (ground truth, mean, ...) are scored by the same code, once per data layout. Output:
``report.md`` (methods × metrics, direction marked, best value in bold), ``report.json`` and one
bar plot per metric.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avs.errors import AvsError
from avs.io import atomic_path

BASELINE_LABELS = ("ground truth", "mean pose", "mismatched", "neutral face", "mean face")
"""Row names of core's suites' baselines (drawn grey in the plots)."""


@dataclass
class BenchmarkReport:
    """Rows (method or baseline name → metrics), skipped methods with reasons, metric directions, files."""

    rows: dict[str, dict[str, float]]
    skipped: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    directions: dict[str, bool] = field(default_factory=dict)


def _suites() -> dict[str, Any]:
    from avs.plugins import discover

    return discover().suites


def _check_request(methods: Mapping[str, Any], suites: Mapping[str, Any], checkpoints: Mapping[str, Any],
                   metrics: Sequence[str] | None, overrides: Mapping[str, Any]) -> None:
    known = {m for suite in suites.values() for m in suite.directions}
    known |= {m for method in methods.values() for m in method.metric_directions}
    unknown = sorted(set(metrics or ()) - known)
    if unknown:
        raise AvsError(f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    for name in checkpoints:
        if name not in methods:
            raise AvsError(f"--checkpoint given for {name!r}, which is not among the methods benchmarked")
    for name in overrides:
        if name not in methods:
            raise AvsError(f"--set given for {name!r}, which is not among the methods benchmarked")


def _why_not(method: Any, suites: Mapping[str, Any], checkpoint: Any) -> str:
    """Why ``method`` cannot enter the benchmark at all ("" if it can)."""
    if method.task not in suites:
        return f"no evaluation suite for task {method.task!r}"
    if "predict_clips" not in method.impl_class().capabilities():
        return "no predict_clips"
    if checkpoint is None:
        return "no checkpoint given and none bundled"
    return ""


def _predict_clips(method: Any, checkpoint: Any, root: Path, split: str, overrides: Sequence[str]) -> Any:
    from avs.checkpoint import load_impl

    impl = load_impl(method, checkpoint, list(overrides))
    return impl.predict_clips(impl.build_dataset(root, split))


def _reason(exc: Exception) -> str:
    """One line: an AvsError's message, or ``Type: first line`` of any other exception."""
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    return detail if isinstance(exc, AvsError) else f"{type(exc).__name__}: {detail}".rstrip(": ")


def _score(report: BenchmarkReport, name: str, method: Any, suite: Any, clips: Any, layouts: list) -> None:
    if not isinstance(clips, suite.clips_type):
        raise AvsError(f"{name}: predict_clips returned {type(clips).__name__}, not {suite.clips_type.__name__}")
    row = dict(suite.score(clips))
    row.update({k: float(v) for k, v in (getattr(clips, "extras", None) or {}).items() if k not in row})
    report.rows[name] = row
    report.directions.update({**method.metric_directions, **suite.directions})
    layout = (suite.task, suite.layout(clips))
    if suite.baselines is None or layout in layouts:
        return
    suffix = "" if not layouts else f" ({name} layout)"
    layouts.append(layout)
    for label, values in suite.baselines(clips).items():
        report.rows[label + suffix] = values


def run_benchmark(methods: Mapping[str, Any], data_root: str | Path, split: str = "test",
                  checkpoints: Mapping[str, str | Path] | None = None,
                  metrics: Sequence[str] | None = None, suites: Mapping[str, Any] | None = None,
                  overrides: Mapping[str, Sequence[str]] | None = None) -> BenchmarkReport:
    """Score each method and its suite's baselines on the same clips.

    Args:
        methods: name → :class:`avs.method.Method` (candidates; those without a suite, without
            ``predict_clips`` or that cannot read the data are skipped).
        data_root: the data set.
        split: ``dev`` or ``test``.
        checkpoints: name → checkpoint path; default: each method's bundled checkpoint.
        metrics: keep only these metric names (default: all).
        suites: task → :class:`avs.tasks.TaskSuite` (default: those the plugins register).
        overrides: name → ``key=value`` config overrides of that method (e.g. emotalk's
            ``eval.rig=rig.npz`` for LVE/EVE).

    Raises:
        AvsError: no method could be run on the data, unknown metric names, a missing folder, a
            method given a checkpoint explicitly that fails on the data.
    """
    root = Path(data_root)
    if not root.is_dir():
        raise AvsError(f"data folder not found: {root}")
    suites = _suites() if suites is None else suites
    checkpoints = dict(checkpoints or {})
    _check_request(methods, suites, checkpoints, metrics, overrides or {})
    report = BenchmarkReport(rows={})
    layouts: list = []
    for name, method in sorted(methods.items()):
        ckpt = checkpoints.get(name) or method.default_checkpoint
        reason = _why_not(method, suites, ckpt)
        if reason:
            report.skipped[name] = reason
            continue
        try:
            clips = _predict_clips(method, ckpt, root, split, (overrides or {}).get(name, ()))
        except Exception as exc:  # a plugin failing on foreign data must not stop the benchmark
            if name in checkpoints and isinstance(exc, AvsError):
                raise
            report.skipped[name] = f"cannot read this data: {_reason(exc)}"
            continue
        _score(report, name, method, suites[method.task], clips, layouts)
    if not report.rows:
        reasons = "; ".join(f"{k}: {v}" for k, v in report.skipped.items()) or "no methods installed"
        raise AvsError(f"no method could be run on {root} ({reasons})")
    if metrics:
        report.rows = {k: {m: v[m] for m in metrics if m in v} for k, v in report.rows.items()}
    return report


def _columns(rows: Mapping[str, Mapping[str, float]]) -> list[str]:
    seen: list[str] = []
    for values in rows.values():
        seen += [k for k in values if k not in seen]
    return seen


def markdown_table(report: BenchmarkReport, title: str) -> str:
    """The report as Markdown: ↑/↓ per column, best value among methods and baselines in bold
    (the ground-truth row is excluded from "best": it is the reference, not a competitor)."""
    cols = _columns(report.rows)
    arrow = {True: " ↑", False: " ↓"}
    lines = [f"# {title}", "", "| | " + " | ".join(c + arrow.get(report.directions.get(c), "") for c in cols) + " |",
             "|---|" + "---:|" * len(cols)]
    best: dict[str, float] = {}
    for c in cols:
        values = [v[c] for k, v in report.rows.items() if c in v and not k.startswith("ground truth")]
        if values:
            best[c] = max(values) if report.directions.get(c, False) else min(values)
    for name, values in report.rows.items():
        cells = []
        for c in cols:
            if c not in values:
                cells.append("–")
                continue
            text = f"{values[c]:.4g}"
            cells.append(f"**{text}**" if values[c] == best.get(c) and not name.startswith("ground truth") else text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if report.skipped:
        lines += ["", "Skipped:", *[f"- {k}: {v}" for k, v in report.skipped.items()]]
    lines += ["", "↑ higher is better, ↓ lower is better. Definitions: README, section Metrics."]
    return "\n".join(lines) + "\n"


def write_report(report: BenchmarkReport, out_dir: str | Path, title: str) -> list[Path]:
    """Write ``report.md``, ``report.json`` and ``<metric>.png`` bar plots (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AvsError(f"--out {out} exists and is not a folder")
    files = []
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text(markdown_table(report, title))
    files.append(out / "report.md")
    with atomic_path(out / "report.json") as tmp:
        tmp.write_text(json.dumps({"rows": report.rows, "skipped": report.skipped}, indent=2) + "\n")
    files.append(out / "report.json")
    names = list(report.rows)
    for metric in _columns(report.rows):
        labels = [n for n in names if metric in report.rows[n]]
        values = [report.rows[n][metric] for n in labels]
        fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(labels), 3.2), dpi=100)
        colors = ["#888888" if n.startswith(BASELINE_LABELS) else "#2f7fc1" for n in labels]
        ax.bar(range(len(labels)), values, color=colors)
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
        direction = report.directions.get(metric)
        ax.set_title(metric + {True: " (higher is better)", False: " (lower is better)"}.get(direction, ""),
                     fontsize=9)
        fig.tight_layout()
        safe = metric.replace("@", "_at_").replace("/", "_")
        target = out / f"{safe}.png"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
        files.append(target)
    return files
