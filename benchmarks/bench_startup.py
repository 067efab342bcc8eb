"""Start-up cost of the CLI: `avs plugins` wall time, and proof that torch is not imported.

Run: .venv/bin/python benchmarks/bench_startup.py   (prints one JSON line)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

RUNS = 7


def main() -> None:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "avs.cli", "plugins"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; from avs.cli import main; main(['plugins']); print('torch' in sys.modules)"],
        check=True, capture_output=True, text=True)
    torch_loaded = probe.stdout.strip().splitlines()[-1] == "True"
    print(json.dumps({"bench": "startup", "avs_plugins_median_s": round(statistics.median(times), 3),
                      "avs_plugins_min_s": round(min(times), 3), "runs": RUNS,
                      "torch_imported": torch_loaded}))


if __name__ == "__main__":
    main()
