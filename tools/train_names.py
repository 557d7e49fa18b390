#!/usr/bin/env python3
"""Trains the person-name CRF from attributes dumped by `examples/train_names.rs`.

Usage: train_names.py FEATURES|- OUT.crfsuite

FEATURES is CRFsuite's text format: `label<TAB>attr<TAB>attr...` per character,
a blank line between sequences, written by the engine's own feature function.
Training is python-crfsuite 0.9.12 (PyPI) L-BFGS: deterministic for a fixed
input order (no random seed is involved). L1 keeps the model compact.
Parameters can be overridden by environment: MISHEN_C1, MISHEN_C2,
MISHEN_MAX_ITER, MISHEN_MINFREQ.
"""
import os
import sys
import time

import pycrfsuite


def sequences(f):
    xs, ys = [], []
    for line in f:
        line = line.rstrip("\n")
        if not line:
            if ys:
                yield xs, ys
            xs, ys = [], []
            continue
        parts = line.split("\t")
        ys.append(parts[0])
        xs.append(parts[1:])
    if ys:
        yield xs, ys


def main():
    src, out = sys.argv[1], sys.argv[2]
    t0 = time.time()
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    f = sys.stdin if src == "-" else open(src, encoding="utf-8")
    n = 0
    for xs, ys in sequences(f):
        trainer.append(xs, ys)
        n += 1
    params = {
        "c1": float(os.environ.get("MISHEN_C1", "0.2")),
        "c2": float(os.environ.get("MISHEN_C2", "0.01")),
        "max_iterations": int(os.environ.get("MISHEN_MAX_ITER", "120")),
        "feature.minfreq": float(os.environ.get("MISHEN_MINFREQ", "2")),
        "feature.possible_transitions": True,
    }
    trainer.set_params(params)
    print(f"{n} sequences read in {time.time() - t0:.1f} s; params {params}", file=sys.stderr)
    trainer.train(out)
    info = trainer.logparser.last_iteration
    print(f"trained in {time.time() - t0:.1f} s; last iteration {info}", file=sys.stderr)


if __name__ == "__main__":
    main()
