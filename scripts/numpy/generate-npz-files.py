#!/usr/bin/env python3
"""Writes test/data/npz/: small .npz archives as np.savez and np.savez_compressed write them,
with float64, float32 and float16 members of 1, 2 and 3 dimensions, a Fortran-order and a
big-endian member, each archive with a sidecar .json of the values numpy holds (as float64,
row-major) by member name; and one archive with an int64 member, which the reader must refuse.

The bytes are reproducible: np.savez opens each member with zipfile.open(name, 'w'), which stamps
it 1980-01-01 00:00 (ZipInfo's default) rather than the current time. The compressed archives
depend on the zlib that Python links, so another machine may write different (equally valid)
deflate streams; the committed files are what the tests read.

Needs numpy (python3 -m pip install numpy, or Debian's python3-numpy). CI never runs it: its
output is committed.
"""
import json
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "data" / "npz"


def values(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 3.0, size=shape)


def softmax_pair(x, g):
    """softmax(x) and its backward pass along the last dim, in float64."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    s = e / e.sum(axis=-1, keepdims=True)
    return s, s * (g - (s * g).sum(axis=-1, keepdims=True))


def write(name, how, arrays, note):
    save = np.savez_compressed if how == "savez_compressed" else np.savez
    path = OUT / f"{name}.npz"
    save(path, **arrays)
    (OUT / f"{name}.json").write_text(json.dumps({
        "source": f"numpy {np.__version__}: np.{how} of {note}",
        "arrays": {
            key: {
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "values": array.astype("f8").ravel(order="C").tolist(),
            }
            for key, array in arrays.items()
        },
    }) + "\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    seed = 0
    for how in ("savez", "savez_compressed"):
        # One archive per dtype, each with a different rank: float64 (2, 3) with all four members,
        # float32 (5,) with all four, float16 (2, 3, 2) with x and g only.
        for dtype, shape, members in (("f8", (2, 3), 4), ("f4", (5,), 4), ("f2", (2, 3, 2), 2)):
            x, g = values(shape, seed), values(shape, seed + 1)
            seed += 2
            s, dx = softmax_pair(x, g)
            arrays = {"x": x, "g": g, "softmax": s, "grad": dx}
            arrays = {key: array.astype("<" + dtype) for key, array in list(arrays.items())[:members]}
            write(f"{how}-{dtype}", how, arrays, f"<{dtype} arrays of shape {shape}")
        # Layouts the reader must undo: x in Fortran order (float64), g big-endian (float32).
        x, g = values((3, 4), seed), values((3, 4), seed + 1)
        seed += 2
        arrays = {"x": np.asfortranarray(x), "g": np.ascontiguousarray(g.astype(">f4"))}
        write(f"{how}-layouts", how, arrays, "x <f8 in Fortran order and g >f4 (big-endian), shape (3, 4)")
    # A well-formed archive whose member is not a float array.
    write("savez-int64", "savez", {"x": np.arange(3)}, "x = np.arange(3), an int64 array")


if __name__ == "__main__":
    main()
