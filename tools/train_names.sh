#!/bin/sh
# Trains rules/models/person_name.crfsuite from the training splits, deterministically.
#
#   tools/train_names.sh [DATA_DIR] [OUT]
#   (defaults: ../shared/data/ner-train rules/models/person_name.crfsuite)
#
# 1. `examples/train_names.rs` reads the four training files in a fixed order and
#    writes every character's attributes (the engine's own feature function);
# 2. `tools/train_names.py` trains a CRF with python-crfsuite 0.9.12 (L-BFGS,
#    L1 + L2), installed into a venv (MISHEN_VENV, default target/venv-crf).
# About 8 minutes on two cores. Prints the model's SHA-256 at the end.
set -eu
DATA=${1:-../shared/data/ner-train}
OUT=${2:-rules/models/person_name.crfsuite}
VENV=${MISHEN_VENV:-target/venv-crf}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q python-crfsuite==0.9.12
fi
cargo build --release --example train_names
mkdir -p "$(dirname "$OUT")"
target/release/examples/train_names "$DATA" --dump - | "$VENV/bin/python" tools/train_names.py - "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
ls -l "$OUT"
sha256sum "$OUT"
