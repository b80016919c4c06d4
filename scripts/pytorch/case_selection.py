"""The command line the fixture generators share: `--out DIR` and the names of the cases to write."""
import argparse
import pathlib


def selected_cases(description, cases, out):
    """Parses the command line: the output folder (made if missing) and the cases it names, in the
    generator's order (all of them when it names none). An unknown name is a usage error."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=pathlib.Path, default=out, help=f"output directory (default {out})")
    parser.add_argument("names", nargs="*", help="write only these cases (default: all)")
    args = parser.parse_args()
    names = [case["name"] for case in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    return args.out, [case for case in cases if not args.names or case["name"] in args.names]
