#!/usr/bin/env bash
# Set up everything spa2v needs on a Debian/Ubuntu machine with Python >= 3.11:
#   system packages (apt-get, when run as root) and a virtual environment in .venv.
#
#   bash scripts/setup.sh            # core: run the pipeline, the demo
#   bash scripts/setup.sh test       # + what the test suite needs (torch, the CPU build
#                                    #   where there is no GPU; diffusers,
#                                    #   gradio, Ray, OpenCV, Chromium for the browser test,
#                                    #   the darknet sample photos for the detector test)
# Re-running is cheap: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-core}"

# Debian packages:
#  fonts-noto-color-emoji  - the animatic's sprites
#  openttd-opensfx         - real dry recordings (vehicles, animals) for the simulator
#  sound-theme-freedesktop - real recordings for the tagging evaluation
#  fluidsynth, fluid-soundfont-gm, espeak-ng - instruments and speech for the simulator
#                            (`spa2v bench`, `spa2v bank build`, tests; test profile)
#  chromium                - the web app's end-to-end test (test profile only)
debs=(fonts-noto-color-emoji openttd-opensfx sound-theme-freedesktop)
if [[ "$profile" == test ]]; then debs+=(fluidsynth fluid-soundfont-gm espeak-ng chromium); fi
missing=()
for d in "${debs[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages (as root): ${missing[*]}" >&2
  fi
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: spa2v needs Python >= 3.11 (found $("$PY" --version 2>&1))" >&2
  exit 1
fi
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
stamp=".venv/.spa2v-$profile-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  echo "setup: installing Python packages ($profile) into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  if [[ "$profile" == test ]]; then
    # torch first, and the CPU build where there is no GPU: PyPI's torch is the CUDA
    # build, which pulls ~20 CUDA wheels (several GB) even when pinned. The CPU build is
    # "+cpu": a local wheel where pip is configured with one (checked first, fails fast
    # elsewhere), else PyTorch's CPU index.
    if command -v nvidia-smi >/dev/null 2>&1; then
      .venv/bin/python -m pip install -q "torch==2.13.0"
    elif ! .venv/bin/python -m pip install -q "torch==2.13.0+cpu" 2>/dev/null; then
      .venv/bin/python -m pip install -q "torch==2.13.0" \
        --index-url https://download.pytorch.org/whl/cpu
    fi
    .venv/bin/python -m pip install -q -e ".[test,ui,diffusion,ray,llm,eval]"
  else
    .venv/bin/python -m pip install -q -e .
  fi
  touch "$stamp"
fi

# The detector test's real photographs (dog, horses, person, giraffe...): the sample
# images of Debian's `darknet` package. Only the .deb is fetched and its images unpacked
# into .venv/share/darknet (installing it would pull OpenCV, Qt and GDAL libraries).
photos=".venv/share/darknet/data"
if [[ "$profile" == test && ! -f /usr/share/darknet/data/dog.jpg && ! -f "$photos/dog.jpg" ]]; then
  if command -v apt-get >/dev/null; then
    tmp="$(mktemp -d)"
    if (cd "$tmp" && apt-get download darknet >/dev/null 2>&1); then
      dpkg-deb -x "$tmp"/darknet_*.deb "$tmp/x"
      mkdir -p "$photos"
      cp "$tmp"/x/usr/share/darknet/data/*.jpg "$photos/"
    else
      echo "setup: could not download Debian's darknet package (detector photos test skipped)" >&2
    fi
    rm -rf "$tmp"
  fi
fi
