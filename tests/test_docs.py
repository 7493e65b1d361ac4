#!/usr/bin/env python3
"""The guides cannot rot (issue 9, "Guides"): every command they show is run here.

Every fenced block of docs/*.md must carry a language. Blocks marked ```sh are commands: each guide's
blocks run in order, each as `bash -euo pipefail`, in one scratch directory per guide (so a later
block sees the files an earlier one made), with the built `chatter` first on PATH and CHATTER_SRC
(the source tree) and CHATTER_BUILD (the build tree) set, as the guides say; in a network namespace of
its own where the machine allows it (unshare, as root), so the guides' fixed loopback ports never meet
another run's. A block fails the test
when it exits non-zero or runs longer than its time limit; whatever it left running is killed.
Other languages (json, cpp, text, ...) are shown, not run; a block marked as a shell in another way
(bash, console, shell, or unmarked) is refused, so no command can hide from this test.
Needs CHATTER_EXE, CHATTER_SOURCE_ROOT and CHATTER_BUILD_ROOT (meson test sets them).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHOWN = {"json", "cpp", "text", "meson", "python"}
LIMIT_S = 240

source = Path(os.environ["CHATTER_SOURCE_ROOT"])
build = Path(os.environ["CHATTER_BUILD_ROOT"])
exe = Path(os.environ["CHATTER_EXE"])


def isolated_prefix():
    """A private network namespace per block (its own loopback, so the fixed ports of the guides cannot
    collide with another run on the same machine), when this machine allows one; else none."""
    prefix = ["unshare", "--net", "bash", "-c", 'ip link set lo up && exec bash -euo pipefail -c "$1"', "block"]
    try:
        ok = subprocess.run(prefix + ["true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    print("network: " + ("a private namespace per block" if ok else "the host's (no unshare)"))
    return prefix if ok else ["bash", "-euo", "pipefail", "-c"]


def blocks(path):
    """(line, language, text) of every fenced block."""
    out, lang, start, body = [], None, 0, []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = re.match(r"^```\s*(\S*)\s*$", line)
        if m and lang is None:
            lang, start, body = m.group(1), n, []
        elif line.strip() == "```" and lang is not None:
            out.append((start, lang, "\n".join(body) + "\n"))
            lang = None
        elif lang is not None:
            body.append(line)
    if lang is not None:
        raise SystemExit(f"{path}:{start}: unterminated code block")
    return out


def run_guide(path, prefix):
    failures, ran = [], 0
    env = dict(os.environ)
    env["PATH"] = f"{exe.parent}{os.pathsep}{env.get('PATH', '')}"
    env["CHATTER_SRC"], env["CHATTER_BUILD"] = str(source), str(build)
    with tempfile.TemporaryDirectory(prefix=f"chatter-docs-{path.stem}-") as scratch:
        for line, lang, text in blocks(path):
            where = f"{path.relative_to(source)}:{line}"
            if lang in SHOWN:
                continue
            if lang != "sh":
                failures.append(f"{where}: block marked '{lang or '(none)'}': mark commands sh, other text {sorted(SHOWN)}")
                continue
            ran += 1
            started = time.monotonic()
            proc = subprocess.Popen(prefix + [text], cwd=scratch, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    start_new_session=True)
            try:
                output, _ = proc.communicate(timeout=LIMIT_S)
                status = proc.returncode
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                output, _ = proc.communicate()
                status = f"timeout after {LIMIT_S} s"
            try:  # anything the block left running in the background
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            took = time.monotonic() - started
            print(f"{where}: status {status} ({took:.1f} s)")
            if status != 0:
                failures.append(f"{where}: status {status}\n--- block\n{text}--- output (last 3000 chars)\n{output[-3000:]}")
    if ran == 0:
        failures.append(f"{path.relative_to(source)}: no sh block ran")
    return failures


def main():
    guides = sorted((source / "docs").glob("*.md"))
    expected = {"operator.md", "app-developer.md", "protocol.md"}
    missing = expected - {g.name for g in guides}
    failures = [f"docs/{m} is missing" for m in sorted(missing)]
    only = sys.argv[1:]
    prefix = isolated_prefix()
    for g in guides:
        if only and g.name not in only:
            continue
        failures += run_guide(g, prefix)
    for f in failures:
        print("FAIL:", f)
    print(f"docs: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
