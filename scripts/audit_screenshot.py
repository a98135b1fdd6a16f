"""Screenshot an audit report in headless Debian Chromium and check its sections and plots.

python scripts/audit_screenshot.py docs/audits/hku_tiny/report.html docs/audits/hku_tiny/report.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from captchalab.audit.screenshot import inspect_report


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    report, shot = Path(sys.argv[1]), Path(sys.argv[2])
    found = inspect_report(report, shot)
    broken = [p["name"] for p in found["plots"] if not p["width"]]
    print(f"{report}: sections {', '.join(found['sections'])}")
    print(f"{len(found['plots'])} plots, {len(broken)} broken {broken}; screenshot {shot}")
    if broken:
        sys.exit(1)


if __name__ == "__main__":
    main()
