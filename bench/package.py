"""The deployment package and its preflight: how big, how long.

Packages the stage as `make package` does (into a temporary folder), then prints the
package's unzipped size (goal: under 45 MB) beside what chalice built before slimming,
and how long packaging, cfn-lint and checkov take on it.

    .venv/bin/python bench/package.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL_MB = 45


def timed(command: list[str], cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    return time.monotonic() - started


def main() -> int:
    from infra.package import package

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        started = time.monotonic()
        sizes = package(out)
        packaging = time.monotonic() - started
        lint = timed([str(Path(sys.executable).with_name("cfn-lint")), "sam.json"], out)
        checkov = ROOT / ".cache" / "checkov" / "bin" / "checkov"
        check = timed(
            [
                *(str(checkov), "-f", "sam.json", "--framework", "cloudformation"),
                *("--quiet", "--compact", "--skip-download"),
            ],
            out,
        )
        zipped = (out / "deployment.zip").stat().st_size
    mb = 1_000_000
    print("deployment package (MB)")
    print(f"  unzipped, as chalice built it    {sizes['unzipped_before_slimming'] / mb:6.1f}")
    print(f"  unzipped, slimmed                {sizes['unzipped'] / mb:6.1f}  (goal: < {GOAL_MB})")
    print(f"  zipped                           {zipped / mb:6.1f}")
    print("preflight (s)")
    print(f"  package                          {packaging:6.1f}")
    print(f"  cfn-lint                         {lint:6.1f}")
    print(f"  checkov                          {check:6.1f}")
    met = sizes["unzipped"] < GOAL_MB * mb
    print(f"goal: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
