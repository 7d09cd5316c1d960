#!/usr/bin/env python3
"""Checks each workspace crate's declared `rust-version` against its dependencies.

A crate cannot honestly declare a minimum Rust version lower than what one of the crates
it builds (normal and build dependencies, with the features this workspace resolves)
declares. Prints one line per crate; exits 1 when a declaration is too low.

With `--version-of NAME...`, checks the same and prints the one rust-version the named
crates share (for `.ci/run`, which builds them with that toolchain).
"""
import json
import subprocess
import sys


def version(text):
    parts = [int(part) for part in text.split(".")] if text else []
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    metadata = json.loads(
        subprocess.run(
            [
                "cargo",
                "metadata",
                "--format-version=1",
                "--locked",
                "--filter-platform=x86_64-unknown-linux-gnu",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}

    def needs(root):
        """The highest rust-version in root's normal and build dependency tree."""
        seen, stack = set(), [root]
        while stack:
            for dep in nodes[stack.pop()]["deps"]:
                kinds = {k["kind"] or "normal" for k in dep["dep_kinds"]}
                if kinds & {"normal", "build"} and dep["pkg"] not in seen:
                    seen.add(dep["pkg"])
                    stack.append(dep["pkg"])
        return max(
            ((version(packages[i].get("rust_version")), packages[i]["name"]) for i in seen),
            default=((0, 0, 0), "none"),
        )

    named = sys.argv[sys.argv.index("--version-of") + 1 :] if "--version-of" in sys.argv else None
    failed = False
    declared_by = {}
    for member in metadata["workspace_members"]:
        package = packages[member]
        declared = package.get("rust_version")
        declared_by[package["name"]] = declared
        (need, by) = needs(member)
        ok = declared is not None and version(declared) >= need
        failed |= not ok
        if named is None or not ok:
            verdict = "ok" if ok else "TOO LOW"
            wanted = ".".join(map(str, need))
            print(
                f"{package['name']}: rust-version {declared}, "
                f"dependencies need {wanted} ({by}): {verdict}",
                file=sys.stderr if named is not None else sys.stdout,
            )
    if failed:
        sys.exit(1)
    if named is not None:
        versions = {declared_by.get(name) for name in named}
        if len(versions) != 1 or None in versions:
            sys.exit(f"{named} do not share one rust-version: {versions}")
        print(versions.pop())


if __name__ == "__main__":
    main()
