#!/usr/bin/env python3
"""Writes test/data/safetensors/: small .safetensors files built byte by byte to the published
format (https://github.com/huggingface/safetensors, README "Format"), each valid one with a
sidecar .json of the values it holds (as float64, row-major), and two files softmax-verify
refuses: one invalid, one valid but of a dtype it does not read.

Only the standard library (struct, json, random): no safetensors package, no numpy, so that the
files come from the format's description rather than from one implementation of it. The output is
the same bytes on every run and machine: the values come from a seeded random.Random (whose
random() is platform-independent) through correctly rounded IEEE operations only, and the
special values are written as bit patterns. CI never runs it: its output is committed.

    python3 scripts/safetensors/generate-test-files.py
"""
import json
import math
import pathlib
import random
import struct

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "data" / "safetensors"

# The safetensors dtype code, the dtype softmax-verify calls it, and its size in bytes.
DTYPES = {"F64": ("float64", 8), "F32": ("float32", 4), "F16": ("float16", 2), "BF16": ("bfloat16", 2)}


# --- One stored number: its little-endian bytes from a bit pattern, and the value they stand for.

def bits_to_bytes(code, bits):
    return struct.pack({"F64": "<Q", "F32": "<I", "F16": "<H", "BF16": "<H"}[code], bits)


def value_of_bits(code, bits):
    if code == "F64":
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    if code == "F32":
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    if code == "F16":
        return struct.unpack("<e", struct.pack("<H", bits))[0]
    # bfloat16 is the top half of a float32.
    return struct.unpack("<f", struct.pack("<I", bits << 16))[0]


def bits_of_value(code, value):
    """The pattern nearest to `value` (ties to even). BF16 is rounded from the float32 pattern, as
    PyTorch's conversion does; the sidecar holds the value of the pattern, so the route to it does
    not matter to the tests."""
    if code == "F64":
        return struct.unpack("<Q", struct.pack("<d", value))[0]
    if code == "F32":
        return struct.unpack("<I", struct.pack("<f", value))[0]
    if code == "F16":
        return struct.unpack("<H", struct.pack("<e", value))[0]
    f32 = struct.unpack("<I", struct.pack("<f", value))[0]
    return (f32 + 0x7FFF + ((f32 >> 16) & 1)) >> 16


# --- Tensors and files.

def tensor(code, shape, bit_patterns):
    assert len(bit_patterns) == math.prod(shape)
    return {"code": code, "shape": list(shape), "bits": list(bit_patterns)}


def random_tensor(code, shape, seed):
    rng = random.Random(seed)
    return tensor(code, shape, [bits_of_value(code, rng.uniform(-4.0, 4.0)) for _ in range(math.prod(shape))])


def safetensors_bytes(tensors, data_order, header_order, metadata=None, pad_to=8):
    """The file: tensors laid out in the buffer in `data_order`, listed in the header in
    `header_order` (where "__metadata__" may appear among the names), and the header padded with
    spaces to a multiple of `pad_to` bytes, as the official writer pads it to 8."""
    buffer = b""
    entries = {}
    for name in data_order:
        t = tensors[name]
        data = b"".join(bits_to_bytes(t["code"], b) for b in t["bits"])
        entries[name] = {"dtype": t["code"], "shape": t["shape"], "data_offsets": [len(buffer), len(buffer) + len(data)]}
        buffer += data
    header = {}
    for name in header_order:
        header[name] = metadata if name == "__metadata__" else entries[name]
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % pad_to)
    return struct.pack("<Q", len(text)) + text + buffer


def json_number(value):
    """Python's json writes bare NaN and Infinity, which are not JSON; the sidecars spell them as
    the strings the rest of the project reads (see src/input/lenient-json.ts)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def sidecar(description, tensors, metadata):
    return {
        "source": f"scripts/safetensors/generate-test-files.py: {description}",
        "metadata": metadata or {},
        "tensors": {
            name: {
                "dtype": DTYPES[t["code"]][0],
                "shape": t["shape"],
                "values": [json_number(value_of_bits(t["code"], b)) for b in t["bits"]],
            }
            for name, t in tensors.items()
        },
    }


def write_valid(name, description, tensors, data_order, header_order, metadata=None, pad_to=8):
    (OUT / f"{name}.safetensors").write_bytes(safetensors_bytes(tensors, data_order, header_order, metadata, pad_to))
    (OUT / f"{name}.json").write_text(json.dumps(sidecar(description, tensors, metadata), ensure_ascii=False) + "\n", encoding="utf-8")


# NaN (quiet, then negative with a payload), +inf, -inf, -0, the smallest subnormal, the largest
# subnormal, minus the smallest subnormal, the smallest normal, the largest finite, 1, about 1/3.
SPECIAL_BITS = {
    "F64": [0x7FF8000000000000, 0xFFF8000000000001, 0x7FF0000000000000, 0xFFF0000000000000,
            0x8000000000000000, 0x0000000000000001, 0x000FFFFFFFFFFFFF, 0x8000000000000001,
            0x0010000000000000, 0x7FEFFFFFFFFFFFFF, 0x3FF0000000000000, 0x3FD5555555555555],
    "F32": [0x7FC00000, 0xFFC00001, 0x7F800000, 0xFF800000, 0x80000000, 0x00000001,
            0x007FFFFF, 0x80000001, 0x00800000, 0x7F7FFFFF, 0x3F800000, 0x3EAAAAAB],
    "F16": [0x7E00, 0xFE01, 0x7C00, 0xFC00, 0x8000, 0x0001, 0x03FF, 0x8001, 0x0400, 0x7BFF, 0x3C00, 0x3555],
    "BF16": [0x7FC0, 0xFFC1, 0x7F80, 0xFF80, 0x8000, 0x0001, 0x007F, 0x8001, 0x0080, 0x7F7F, 0x3F80, 0x3EAB],
}


def write_refused(name, header, buffer):
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    (OUT / f"{name}.safetensors").write_bytes(struct.pack("<Q", len(text)) + text + buffer)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    pt = {"format": "pt"}

    for name, code, shape, seed, metadata in (
        ("f64-5", "F64", (5,), 1, pt),
        ("f32-3x4", "F32", (3, 4), 2, None),
        ("f16-2x3x2", "F16", (2, 3, 2), 3, None),
        ("bf16-2x3", "BF16", (2, 3), 4, pt),
    ):
        tensors = {"x": random_tensor(code, shape, seed)}
        header_order = ["x"] if metadata is None else ["__metadata__", "x"]  # the official writer's order
        write_valid(name, f"one {code} tensor of shape {list(shape)}", tensors, ["x"], header_order, metadata)

    several = {
        "x": random_tensor("F16", (3,), 10),
        "layer.0.weight": random_tensor("F64", (2, 2), 11),
        "g": random_tensor("F32", (2, 3), 12),
        "layer.0.bias": random_tensor("BF16", (2,), 13),
    }
    write_valid(
        "several-tensors",
        "four tensors of four dtypes, listed in the header in another order than their data, "
        "__metadata__ among them; the F64 tensor starts 6 bytes into the buffer (unaligned)",
        several,
        data_order=["x", "layer.0.weight", "g", "layer.0.bias"],
        header_order=["g", "__metadata__", "layer.0.bias", "x", "layer.0.weight"],
        metadata={"format": "pt", "note": "softmax ∂x, non-ASCII UTF-8"},
    )

    special = {code.lower(): tensor(code, (3, 4), SPECIAL_BITS[code]) for code in ("F64", "F32", "F16", "BF16")}
    write_valid(
        "special-values",
        "NaN, -NaN with a payload, +-inf, -0, subnormals, the smallest normal and the largest finite in each dtype",
        special, data_order=list(special), header_order=list(special),
    )

    write_valid(
        "padded-header",
        "a header padded with spaces to 128 bytes",
        {"x": random_tensor("F32", (4,), 20)}, ["x"], ["x"], pad_to=128,
    )

    # Files the reader refuses, as another writer could produce them (the tests build the other
    # cases). The official reader refuses the first too; the second is valid, but holds integers.
    write_refused(
        "invalid-overlapping-offsets",
        {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
         "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}},
        bytes(24),
    )
    write_refused(
        "unsupported-dtype-i32",
        {"ids": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}},
        struct.pack("<ii", 7, -1),
    )


if __name__ == "__main__":
    main()
