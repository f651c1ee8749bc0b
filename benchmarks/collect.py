"""Merge every benchmark's results_<name>.json into benchmarks/results.json (run by make bench)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    merged = {
        path.stem.removeprefix("results_"): json.loads(path.read_text())
        for path in sorted(HERE.glob("results_*.json"))
    }
    (HERE / "results.json").write_text(json.dumps(merged, indent=2, default=str))
    print(f"written {HERE / 'results.json'}: {', '.join(merged)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
