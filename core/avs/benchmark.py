"""``avs benchmark``: every method that can read a data set, plus baselines, scored by one suite.

For each installed method (or those named) that provides ``predict_clips``: load its checkpoint
(given, or the bundled default), read the split with the method's own reader (a method that
cannot read the data is skipped, with the reason in the report), predict every clip, and score it
with :func:`avs.evaluation.gesture_metrics`. The ground truth, the mean pose and the mismatched
ground truth of the same clips are scored by the same code. Output: ``report.md`` (methods ×
metrics, direction marked, best value in bold), ``report.json`` and one bar plot per metric.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avs.errors import AvsError
from avs.evaluation import GESTURE_DIRECTIONS, gesture_baselines, gesture_metrics
from avs.io import atomic_path


@dataclass
class BenchmarkReport:
    """Rows (method or baseline name → metrics), skipped methods with reasons, files written."""

    rows: dict[str, dict[str, float]]
    skipped: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def run_benchmark(methods: Mapping[str, Any], data_root: str | Path, split: str = "test",
                  checkpoints: Mapping[str, str | Path] | None = None,
                  metrics: Sequence[str] | None = None) -> BenchmarkReport:
    """Score each method and the baselines on the same clips.

    Args:
        methods: name → :class:`avs.method.Method` (candidates; those without ``predict_clips``
            or that cannot read the data are skipped).
        data_root: the data set.
        split: ``dev`` or ``test``.
        checkpoints: name → checkpoint path; default: each method's bundled checkpoint.
        metrics: keep only these metric names (default: all).

    Raises:
        AvsError: no method could be run on the data, unknown metric names, a missing folder.
    """
    from avs.checkpoint import load_generator

    root = Path(data_root)
    if not root.is_dir():
        raise AvsError(f"data folder not found: {root}")
    unknown = sorted(set(metrics or ()) - set(GESTURE_DIRECTIONS))
    if unknown:
        raise AvsError(f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(GESTURE_DIRECTIONS)})")
    checkpoints = dict(checkpoints or {})
    for name in checkpoints:
        if name not in methods:
            raise AvsError(f"--checkpoint given for {name!r}, which is not among the methods benchmarked")
    report = BenchmarkReport(rows={})
    baseline_shapes: list[tuple] = []
    for name, method in sorted(methods.items()):
        if method.predict_clips is None:
            report.skipped[name] = "no predict_clips (not a gesture method)"
            continue
        ckpt = checkpoints.get(name) or method.default_checkpoint
        if ckpt is None:
            report.skipped[name] = "no checkpoint given and none bundled"
            continue
        try:
            G, cfg, stats = load_generator(method, ckpt)
            dataset = method.build_dataset(cfg, root, split, stats)
        except AvsError as exc:
            if name in checkpoints:
                raise
            report.skipped[name] = f"cannot read this data: {exc}"
            continue
        clips = method.predict_clips(G, dataset, cfg, stats)
        reference = clips.features(clips.gt) if clips.features is not None else None
        report.rows[name] = gesture_metrics(clips, reference_features=reference)
        if clips.gt.shape not in baseline_shapes:
            suffix = "" if not baseline_shapes else f" ({name} layout)"
            baseline_shapes.append(clips.gt.shape)
            for label, pred in gesture_baselines(clips).items():
                report.rows[label + suffix] = gesture_metrics(clips, pred=pred, reference_features=reference)
    if not report.rows:
        reasons = "; ".join(f"{k}: {v}" for k, v in report.skipped.items()) or "no gesture methods installed"
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
    lines = [f"# {title}", "", "| | " + " | ".join(c + arrow.get(GESTURE_DIRECTIONS.get(c), "") for c in cols) + " |",
             "|---|" + "---:|" * len(cols)]
    best: dict[str, float] = {}
    for c in cols:
        values = [v[c] for k, v in report.rows.items() if c in v and not k.startswith("ground truth")]
        if values:
            best[c] = max(values) if GESTURE_DIRECTIONS.get(c, False) else min(values)
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
        colors = ["#888888" if n.startswith(("ground truth", "mean pose", "mismatched")) else "#2f7fc1"
                  for n in labels]
        ax.bar(range(len(labels)), values, color=colors)
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
        direction = GESTURE_DIRECTIONS.get(metric)
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
