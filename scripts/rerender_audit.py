"""Re-render an audit report with today's fits, costs and advice (no retraining).

python scripts/rerender_audit.py docs/audits/hku_full [more folders ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from captchalab.audit.rerender import rerender


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for folder in sys.argv[1:]:
        try:
            metrics = rerender(Path(folder))
        except (OSError, ValueError, KeyError) as error:
            sys.exit(f"error: {folder}: {error}")
        for row in metrics["headline"]:
            print(f"{folder}: {row['curve']}: 90% needs {row['samples_90']}")


if __name__ == "__main__":
    main()
