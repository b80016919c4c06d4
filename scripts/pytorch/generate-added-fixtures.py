#!/usr/bin/env python3
"""Writes the PyTorch fixtures this project added to fixtures/pytorch/: slices with non-finite
logits, and the case of PyTorch issue 195684.

The other files in fixtures/pytorch/ were copied from the workplace's shared set; this script only
adds cases that set lacks. Needs Debian's python3-torch (`apt-get install python3-torch`, then run
it with /usr/bin/python3). CI never runs it: its output is committed.
"""
import json
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "pytorch"
INF = float("inf")
NAN = float("nan")

CASES = [
    (
        "all-masked-row",
        "a row whose logits are all -inf: no softmax exists, PyTorch gives NaN for the whole row",
        [[0.5, -INF, 1.5], [-INF, -INF, -INF]],
        [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]],
        -1,
    ),
    (
        "issue-195684",
        "PyTorch issue 195684: the true gradient is about [5.55e-17, -5.55e-17]; PyTorch returns 0 at index 0",
        [37.43, 0.0],
        [1.0, 0.0],
        -1,
    ),
    (
        "non-finite-logits",
        "a +inf logit and a NaN logit each make their whole slice NaN",
        [[INF, 0.0, 1.0], [NAN, 1.0, 2.0], [0.25, -1.0, 3.0]],
        [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]],
        -1,
    ),
]


def main() -> None:
    for name, description, x_values, g_values, dim in CASES:
        x = torch.tensor(x_values, dtype=torch.float64, requires_grad=True)
        g = torch.tensor(g_values, dtype=torch.float64)
        softmax = torch.softmax(x, dim=dim)
        softmax.backward(g)
        fixture = {
            "format": "softmax-verify.fixture/v1",
            "name": name,
            "description": description,
            "source": f"PyTorch {torch.__version__} (Debian python3-torch): torch.softmax(x, dim={dim}) "
            "then .backward(g), dtype float64, CPU",
            "dtype": "float64",
            "dim": dim,
            "x": x_values,
            "g": g_values,
            "expected": {"softmax": softmax.tolist(), "grad": x.grad.tolist()},
        }
        # json.dump writes bare NaN/Infinity tokens, the form PyTorch users' dumps take.
        (OUT / f"{name}.json").write_text(json.dumps(fixture, indent=1) + "\n")


if __name__ == "__main__":
    main()
