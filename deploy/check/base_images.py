#!/usr/bin/env python3
"""The base images of deploy/Dockerfile, for release.yml to pin by digest.

    python3 deploy/check/base_images.py deploy/Dockerfile

prints one `ARG=image:tag` line per base image (RUST_IMAGE=rust:1.95-bookworm, …);
release.yml resolves each tag to its digest and builds with
--build-arg ARG=image:tag@sha256:…. The Dockerfile's layout is the list:

    ARG RUST_IMAGE=base-rust                # global ARG, default: a base-* stage
    FROM rust:1.95-bookworm AS base-rust    # the tag (Dependabot bumps FROM lines)
    FROM ${RUST_IMAGE} AS build             # stages build FROM the ARG

Every FROM must be an ARG of that kind, an earlier stage, or such a bare base stage;
anything else (a literal `FROM debian:12 AS x` with instructions, a base stage another
stage uses directly, an untagged or :latest base) is reported and the exit status is 1,
so the release fails before building instead of shipping an unpinned base.
deploy-check (check.py) imports this module for the same rules. Standard library only.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

FROM = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$", re.I)
ARG = re.compile(r"^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?\s*$", re.I)
ARG_REF = re.compile(r"^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$")


@dataclass
class Stage:
    image: str
    name: str | None
    line: int
    instructions: list[str] = field(default_factory=list)


@dataclass
class Bases:
    # ARG name -> (base stage name, image:tag), in Dockerfile order.
    images: dict[str, tuple[str, str]]
    problems: list[str]


def instructions(text: str) -> list[tuple[int, str]]:
    """(line number, instruction) with continuations joined and comments dropped."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        out.append((start, " ".join(p for p in pending if p)))
        pending = []
    if pending:
        out.append((start, " ".join(p for p in pending if p)))
    return out


def tagged(image: str) -> bool:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return ":" in last and not last.endswith(":latest")


def parse(text: str) -> Bases:
    problems: list[str] = []
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    for number, ins in instructions(text):
        m = FROM.match(ins)
        if m:
            stages.append(Stage(m[1], m[2].lower() if m[2] else None, number))
            continue
        if not stages:
            a = ARG.match(ins)
            if a:
                global_args[a[1]] = a[2]
            continue
        stages[-1].instructions.append(ins)
    if not stages:
        return Bases({}, ["deploy/Dockerfile has no FROM"])

    by_name = {s.name: s for s in stages if s.name}
    # Base ARGs: global ARGs whose default names a stage.
    base_args = {arg: default.lower() for arg, default in global_args.items()
                 if default and default.lower() in by_name}
    base_stages = set(base_args.values())
    images: dict[str, tuple[str, str]] = {}
    for arg, stage_name in base_args.items():
        images[arg] = (stage_name, by_name[stage_name].image)

    seen: set[str] = set()
    used_args: set[str] = set()
    for s in stages:
        where = f"line {s.line}: FROM {s.image}" + (f" AS {s.name}" if s.name else "")
        ref = ARG_REF.match(s.image)
        if s.name in base_stages:
            if ref or s.image.lower() in seen:
                problems.append(f"{where}: a base stage must name an image, not an ARG or a stage")
            elif "$" in s.image:
                problems.append(f"{where}: a base stage's image must be literal (release.yml resolves it)")
            elif not tagged(s.image):
                problems.append(f"{where}: a base image needs a version tag (not :latest)")
            if s.instructions:
                problems.append(f"{where}: a base stage must be a bare FROM (build in a stage FROM its ARG)")
        elif ref:
            arg = ref[1] or ref[2]
            if arg not in base_args:
                problems.append(f"{where}: ${arg} is not a global ARG whose default is a base-* stage")
            used_args.add(arg)
        elif s.image.lower() in seen and s.image.lower() not in base_stages:
            pass  # an earlier (non-base) stage
        elif s.image.lower() in base_stages:
            problems.append(f"{where}: build FROM the base's ARG, not its stage (a release could not pin it)")
        else:
            problems.append(f"{where}: a literal base image cannot be pinned by the release; add an ARG and a "
                            "base-* stage for it (deploy/check/base_images.py)")
        if s.name:
            seen.add(s.name)
        for ins in s.instructions:
            m = re.search(r"--from=(\S+)", ins)
            if m and m[1].lower() in base_stages:
                problems.append(f"line {s.line}: `{ins}` copies from a base stage; use a stage FROM its ARG")
    for arg in base_args:
        if arg not in used_args:
            problems.append(f"ARG {arg}: no stage is built FROM ${{{arg}}}")
    return Bases(images, problems)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bases = parse(Path(argv[1]).read_text())
    for p in bases.problems:
        print(f"{argv[1]}: {p}", file=sys.stderr)
    if bases.problems:
        return 1
    if not bases.images:
        print(f"{argv[1]}: no base images found", file=sys.stderr)
        return 1
    for arg, (_, image) in bases.images.items():
        print(f"{arg}={image}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
