#!/usr/bin/env python3
"""Writes test/data/npy/: small .npy files as numpy.save writes them, in every dtype, byte order
and memory order softmax-verify reads, each with a sidecar .json of the values numpy holds (as
float64, row-major), and a fixture that names .npy files instead of inline arrays.

Needs numpy (python3 -m pip install numpy, or Debian's python3-numpy). CI never runs it: its
output is committed.
"""
import json
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "data" / "npy"


def values(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 3.0, size=shape)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    for dtype in ("f8", "f4", "f2"):
        for order in ("C", "F"):
            for endian in ("<", ">"):
                for shape in ((5,), (3, 4), (2, 3, 2)):
                    data = values(shape, len(cases)).astype(endian + dtype)
                    data = np.asfortranarray(data) if order == "F" else np.ascontiguousarray(data)
                    name = f"{dtype}-{order}-{'le' if endian == '<' else 'be'}-{'x'.join(map(str, shape))}"
                    np.save(OUT / f"{name}.npy", data, allow_pickle=False)
                    (OUT / f"{name}.json").write_text(json.dumps({
                        "source": f"numpy {np.__version__}: np.save of a {data.dtype.str} array, order {order}",
                        "shape": list(shape),
                        "values": data.astype("f8").ravel(order="C").tolist(),
                    }) + "\n")
                    cases.append(name)
    # A fixture whose arrays live in .npy files beside it (float64, softmax along the last dim).
    x = values((2, 3), 100)
    g = values((2, 3), 101)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    s = e / e.sum(axis=-1, keepdims=True)
    dx = s * (g - (s * g).sum(axis=-1, keepdims=True))
    for name, array in (("x", x), ("g", g), ("softmax", s), ("grad", dx)):
        np.save(OUT / f"fixture-{name}.npy", array, allow_pickle=False)
    (OUT / "fixture-with-npy.json").write_text(json.dumps({
        "format": "softmax-verify.fixture/v1",
        "name": "fixture-with-npy",
        "description": "arrays in .npy files beside the fixture",
        "source": f"numpy {np.__version__}: s = exp(x - max) / sum, dx = s * (g - <s, g>) in float64",
        "dtype": "float64",
        "dim": -1,
        "x": "fixture-x.npy",
        "g": "fixture-g.npy",
        "expected": {"softmax": "fixture-softmax.npy", "grad": "fixture-grad.npy"},
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
