#!/usr/bin/env bash
# The README's first command: set everything up and run the main job.
# Interim main job (until the simulated fleet lands): the collection's modules over a demo Docker 1.9
# store built from real tar layers, with the fleet report.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$top"
bash scripts/setup.sh
export PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$collections_root"
python tools/demo/interim_demo.py
