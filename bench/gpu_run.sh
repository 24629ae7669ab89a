#!/usr/bin/env bash
# On the GPU machine (Python 3.12 with torch and cupy): unpack .whl/site.tar.xz (made by
# bench/gpu_pack.sh), install this project beside it and run bench/bench_gpu.py offline; extra arguments go to the script.
set -euo pipefail
tar -C /tmp -xJf .whl/site.tar.xz
# this project itself, from the working tree, with its entry points (spacy.load finds them there)
python3 -m pip install -q --no-deps --no-build-isolation --no-index --target /tmp/site .
export PYTHONPATH=/tmp/site HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 bench/bench_gpu.py "$@"
