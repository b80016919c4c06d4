"""softmax-verify's Python side, with numpy alone (torch only to hand over bfloat16 tensors; no
safetensors package). Copy this file beside your script, or put its folder on PYTHONPATH (a clone's
python/, or node_modules/softmax-verify/python/).

save_dump writes a kernel's inputs and outputs as a .safetensors file that `softmax-verify --input`
reads:

    from softmax_verify import save_dump
    save_dump("dump.safetensors", x, g, softmax=s, grad=x.grad, source="my kernel, CUDA")

serve answers `softmax-verify hunt --kernel "python3 my_kernel.py"` (the kernel protocol v1,
docs/hunt.md): it calls your function once a case with the case's arrays and settings, and writes
what it returns.

    from softmax_verify import serve
    def kernel(tensors, settings):      # tensors: x, g (and target, weight, mask); settings: op, dim, ...
        s = my_softmax(tensors["x"], int(settings["dim"]))
        return {"softmax": s, "grad": my_softmax_backward(s, tensors["g"])}
    serve(kernel)

The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header size, a
JSON header naming each tensor's dtype, shape and byte range, padded with spaces to 8 bytes,
then the data, little-endian in C order.
"""
import contextlib
import json
import struct
import sys

import numpy as np

__all__ = ["save_dump", "serve"]

# numpy's dtypes as safetensors names them: floats for values, integers for cross_entropy's target,
# booleans for masked_softmax's mask.
CODES = {"float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def save_dump(path, x, g=None, *, softmax=None, log_softmax=None, loss=None, grad=None, target=None, weight=None,
              mask=None, source=None, dim=None, reduction=None, label_smoothing=None, ignore_index=None,
              scale=None, causal=None, masked_rows=None):
    """Writes the arrays given (numpy arrays, torch tensors, lists or numbers) under the names
    softmax-verify reads (x, g, softmax or log_softmax or loss, grad, target, weight, mask), and
    the settings given as the file's metadata strings. A torch bfloat16 tensor is stored as BF16;
    a boolean mask (True = takes part) as BOOL."""
    arrays = {"x": x, "g": g, "softmax": softmax, "log_softmax": log_softmax, "loss": loss, "grad": grad, "target": target, "weight": weight, "mask": mask}
    settings = {"source": source, "dim": dim, "reduction": reduction, "label_smoothing": label_smoothing, "ignore_index": ignore_index,
                "scale": scale, "causal": causal, "masked_rows": masked_rows}
    metadata = {key: _setting(value) for key, value in settings.items() if value is not None}
    _write(path, {name: value for name, value in arrays.items() if value is not None}, metadata)


def serve(kernel):
    """The kernel side of the hunt protocol v1: for each line {"input": ..., "output": ...} on stdin,
    reads the input file's arrays (numpy arrays; bfloat16 ones as torch tensors when torch is there,
    else as float32 arrays) and its settings (strings: op, dim, and the op's own), calls
    kernel(tensors, settings), writes the arrays it returns (softmax or log_softmax or loss, and
    grad) to the output file, and answers {"ok": true}. An exception declines the case
    ({"ok": false, "error": ...}). What the kernel prints goes to stderr: stdout is the protocol's."""
    channel = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        tensors, settings = _load(request["input"])
        try:
            with contextlib.redirect_stdout(sys.stderr):
                results = kernel(tensors, settings)
        except Exception as error:  # the kernel declines this case
            print(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"[:200]}), file=channel, flush=True)
            continue
        _write(request["output"], results, {})
        print(json.dumps({"ok": True}), file=channel, flush=True)


# safetensors' dtypes as numpy reads them (little-endian); BF16 has no numpy dtype.
_NUMPY = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "BOOL": "|b1"}


def _load(path):
    """The arrays and the metadata strings of a safetensors file."""
    with open(path, "rb") as file:
        raw = file.read()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + size])
    body = raw[8 + size:]
    settings = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        data = body[begin:end]
        if entry["dtype"] == "BF16":
            # bfloat16 is the top half of a float32: widened exactly, then handed over as torch's if it is there.
            values = (np.frombuffer(data, dtype="<u2").astype(np.uint32) << 16).view(np.float32).reshape(entry["shape"])
            try:
                import torch
                values = torch.from_numpy(values.copy()).to(torch.bfloat16)
            except ImportError:
                pass
        else:
            values = np.frombuffer(data, dtype=_NUMPY[entry["dtype"]]).reshape(entry["shape"]).copy()
        tensors[name] = values
    return tensors, settings


def _write(path, arrays, metadata):
    """A safetensors file of the arrays (numpy arrays, torch tensors, lists or numbers) and the metadata strings."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs = []
    offset = 0
    for name, value in arrays.items():
        code, data, shape = _stored(name, value)
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def _setting(value):
    """A setting as the tool reads it: a number's repr, a boolean as "true" or "false" (numpy's and
    torch's 0-d values included, which str() would write as "True" or "tensor(0.1250)")."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _stored(name, value):
    """The safetensors dtype, the little-endian C-order bytes and the shape of one array."""
    if hasattr(value, "detach"):  # a torch tensor: numpy has no bfloat16, so its bits go through float32
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            # bfloat16 is the top half of a float32: exact, as every bfloat16 is a float32.
            bits = value.float().numpy().astype("<f4").view("<u4") >> 16
            return "BF16", np.ascontiguousarray(bits.astype("<u2")).tobytes(), list(bits.shape)
        value = value.numpy()
    array = np.asarray(value)
    if name == "mask":
        # True/False or 1/0 only: an additive mask (0 and -inf) would turn into its opposite.
        if array.dtype.kind != "b" and not np.isin(array, (0, 1)).all():
            raise TypeError("mask must hold booleans (True = takes part) or 1/0, not an additive mask of 0 and -inf")
        array = array.astype(np.bool_)
    elif array.dtype.kind in "iub" and name != "target":
        array = array.astype(np.float64)  # x=[1, 2, 3] from a list: its values, not an integer x
    code = CODES.get(array.dtype.name)
    if code is None:
        raise TypeError(f"{name} has dtype {array.dtype}, which a dump cannot hold (float64, float32, float16, bfloat16; integers for target, booleans for mask)")
    return code, np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes(), list(array.shape)
