"""Run every benchmark and keep the JSON lines in bench-results/latest.jsonl.

Run: make bench   (or .venv/bin/python benchmarks/run_all.py)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_startup.py", "bench_predict.py", "bench_many_files.py", "bench_train.py", "bench_face_prepare.py"]


def main() -> None:
    out_dir = HERE.parent / "bench-results"
    out_dir.mkdir(exist_ok=True)
    lines = []
    for script in SCRIPTS:
        result = subprocess.run([sys.executable, str(HERE / script)], check=True, capture_output=True, text=True)
        for line in result.stdout.strip().splitlines():
            print(line, flush=True)
            lines.append(line)
    (out_dir / "latest.jsonl").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
