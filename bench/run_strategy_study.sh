#!/usr/bin/env bash
# The whole strategy study, resumable: choose the learning rate on dev (tune_student.py), then train the
# seven strategies x 3 seeds and the all-gold reference at that rate (strategies.py). Both skip what is
# already done, so rerun it after an interruption. About 3 hours on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY=../.venv/bin/python
lr=$($PY tune_student.py --out ../runs/tune | tail -n 1)
echo "learning rate chosen on dev: $lr"
$PY strategies.py --lr "$lr" --reference --out ../runs/strategies
