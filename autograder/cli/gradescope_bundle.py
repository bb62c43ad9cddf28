"""``tfgrade gradescope-bundle``: write the zip Gradescope grades each submission with."""
from __future__ import annotations

import os

from autograder.cli.common import UsageError


def run(args) -> int:
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise UsageError(f"no folder {folder} for {args.out}")
    if os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} is a folder: name the zip file to write")
    from autograder.integrations.gradescope_bundle import write_bundle
    path = write_bundle(args.out, visibility=args.visibility, seed=args.seed, feedback=args.feedback,
                        time_scale=args.time_scale, cell_seconds=args.cell_seconds)
    print(f"wrote {path} ({path.stat().st_size // 1024} kB, results {args.visibility}): upload it "
          "on Gradescope's Configure Autograder page")
    return 0
