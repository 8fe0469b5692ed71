"""`make package`: the deployable template and its code, offline, with no AWS account.

    python -m infra.package [--stage prod] [--out out]

1. writes the merge template (`infra/template.py`) and runs
   `chalice package --stage STAGE --merge-template ...` (chalice needs only a region);
2. slims `deployment.zip`: botocore ships the API models of every AWS service (about
   25 MB); the package keeps those of the services the functions call (`SERVICES`, kept
   in step with the code by a test) and drops compiled caches.

The result is `OUT/sam.json` and `OUT/deployment.zip`, what `make deploy` uploads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from infra.template import build

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"  # any region: the template names none, it uses AWS::Region

# The AWS services whose botocore models the package keeps: every service the functions
# make a client for (chalicelib/aws.py), and STS, which botocore's credential chain may use.
SERVICES = frozenset(
    {"cognito-idp", "dynamodb", "kms", "logs", "s3", "secretsmanager", "sesv2", "sqs", "sts"}
)


def keep(name: str) -> bool:
    """Whether a file of the chalice-built zip belongs in the slim package."""
    if "/__pycache__/" in name or name.endswith((".pyc", ".pyi")):
        return False
    parts = name.split("/")
    if parts[:2] == ["botocore", "data"] and len(parts) > 3:
        return parts[2] in SERVICES
    return True


def slim(zip_path: Path) -> tuple[int, int]:
    """Rewrite the zip without what `keep` refuses; (unzipped bytes before, after)."""
    before = after = 0
    slimmed = zip_path.with_suffix(".slim.zip")
    with (
        zipfile.ZipFile(zip_path) as src,
        zipfile.ZipFile(slimmed, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for info in src.infolist():
            before += info.file_size
            if keep(info.filename):
                after += info.file_size
                dst.writestr(info, src.read(info))
    slimmed.replace(zip_path)
    return before, after


def unzipped_size(zip_path: Path) -> int:
    with zipfile.ZipFile(zip_path) as archive:
        return sum(info.file_size for info in archive.infolist())


def package(out: Path, stage: str = "prod") -> dict[str, int]:
    """Write `out/sam.json` and `out/deployment.zip`; the package's sizes in bytes."""
    out = out.resolve()
    env = {**os.environ, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
    with tempfile.TemporaryDirectory() as tmp:
        merge = Path(tmp) / "merge.json"
        merge.write_text(json.dumps(build(), indent=2))
        subprocess.run(  # noqa: S603 (our own chalice, fixed arguments)
            [
                str(Path(sys.executable).with_name("chalice")),
                "package",
                "--stage",
                stage,
                "--merge-template",
                str(merge),
                str(out),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    before, after = slim(out / "deployment.zip")
    return {"unzipped_before_slimming": before, "unzipped": after}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", default="prod", help="chalice stage of .chalice/config.json")
    parser.add_argument("--out", default="out", type=Path)
    args = parser.parse_args(argv)
    sizes = package(args.out, args.stage)
    mb = {k: round(v / 1e6, 1) for k, v in sizes.items()}
    print(f"{args.out}/sam.json and {args.out}/deployment.zip written; unzipped MB: {mb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
