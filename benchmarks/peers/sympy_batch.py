"""The SymPy peer of calc's batch mode: read one expression a line from stdin,
parse, differentiate, evaluate value and derivative at x = POINT, and write one
JSON object a line — the same work `calc diff - --at x=POINT --format json` does.

    python benchmarks/peers/sympy_batch.py 1.3 < lines.txt
"""
import json
import sys

import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

TRANSFORMS = standard_transformations + (convert_xor,)


def main() -> int:
    point = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    x = sympy.Symbol("x")
    at = {x: point}
    status = 0
    for line in sys.stdin:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            f = parse_expr(line, local_dict={"x": x}, transformations=TRANSFORMS)
            d = sympy.diff(f, x)
            value, deriv = float(f.evalf(subs=at)), float(d.evalf(subs=at))
            sys.stdout.write(json.dumps({"expression": line, "value": value, "derivative": deriv}) + "\n")
        except Exception as exc:  # noqa: BLE001 - report and go on, like calc
            status = 1
            sys.stdout.write(json.dumps({"error": {"message": str(exc), "input": line}}) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
