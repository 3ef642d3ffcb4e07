#!/usr/bin/env python3
"""Regenerates deploy/startup.order: the functions an idle `hoopoe worker` runs, which `make release` asks the linker
(lld --symbol-ordering-file) to place first in .text (docs/decisions/0035-static-release-binary.md).

Why: the kernel maps a file-backed page together with up to 15 neighbours already in the page cache (fault-around,
64 KiB windows), so start-up code scattered over the binary's 30 MiB of text made ~16 MiB of it resident. Packed
together, the same code costs a few MiB.

How, per round: `make release` relinks the release binary with the list so far; the binary is copied to a private
ext4 image, loop-mounted with read-ahead off and an empty page cache (so every page the process runs faults once,
with nothing around it to hide a neighbour); it runs as `hoopoe worker --concurrency 20` against a private
redis-server for 3 s under `perf record -e page-faults -d`; each fault inside .text is mapped to its function (`nm`)
and the functions not yet listed are appended. Later rounds find the functions earlier rounds' faults hid (several
on one page). A stale list is harmless: the linker ignores names it does not find.

    sudo scripts/startup-order.py [--rounds 6] [--scratch-path DIR]
        (root: mount and losetup; needs perf, redis-server, nm, readelf). --scratch-path builds with
        `scripts/build-release.sh --scratch-path DIR --product hoopoe` instead of `make release` (an existing release
        scratch folder: each round is then a relink).
"""
import argparse
import bisect
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ORDER = os.path.join(ROOT, "deploy", "startup.order")
BINARY = os.path.join(ROOT, ".build", "release", "hoopoe")


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def text_functions(binary):
    """(sorted start addresses, names) of the binary's functions, and .text's bounds."""
    syms = []
    for line in run("nm", "-n", "--defined-only", binary).splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    bounds = None
    for line in run("readelf", "-SW", binary).splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+\.text\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m:
            bounds = (int(m.group(1), 16), int(m.group(1), 16) + int(m.group(2), 16))
    return [a for a, _ in syms], [n for _, n in syms], bounds


def load_bias(binary, map_start, page_offset):
    """Run-time address minus link-time address, from the executable mapping perf saw."""
    for line in run("readelf", "-lW", binary).splitlines():
        q = line.split()
        if q and q[0] == "LOAD" and int(q[1], 16) & ~0xFFF == page_offset:
            return map_start - (int(q[2], 16) & ~0xFFF)
    raise SystemExit(f"no LOAD segment at file offset {page_offset:#x} in {binary}")


def faulting_functions(binary, work):
    """Functions whose .text pages an idle worker touches, in the order it first touched them."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
                              stdout=subprocess.DEVNULL)
    data = os.path.join(work, "faults.data")
    try:
        time.sleep(0.3)
        env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{port}/0", LOG_LEVEL="warning", HOOPOE_NAMESPACE="startup-order")
        perf = subprocess.Popen(["perf", "record", "-q", "-e", "page-faults", "-c", "1", "-d", "-o", data, binary, "worker", "--concurrency", "20"],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3.5)
        perf.send_signal(2)
        perf.wait()
    finally:
        server.terminate()
        server.wait()
    starts, names, (lo, hi) = text_functions(binary)
    bias, found = None, []
    for line in run("perf", "script", "-i", data, "--show-mmap-events", "-F", "addr").splitlines():
        if "PERF_RECORD_MMAP" in line:
            m = re.search(r"\[0x([0-9a-f]+)\(0x[0-9a-f]+\) @ (0x[0-9a-f]+|0) .*?\]: r-xp (\S+)", line)
            if m and m.group(3) == binary and bias is None:
                bias = load_bias(binary, int(m.group(1), 16), int(m.group(2), 16))
            continue
        if bias is None or not line.strip():
            continue
        address = int(line.strip(), 16) - bias
        if lo <= address < hi:
            i = bisect.bisect_right(starts, address) - 1
            if i >= 0:
                found.append(names[i])
    return found


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--scratch-path", help="build with scripts/build-release.sh in this scratch folder, not `make release`")
    args = p.parse_args()
    binary = os.path.join(args.scratch_path, "release", "hoopoe") if args.scratch_path else BINARY
    if args.scratch_path:
        build = [os.path.join(ROOT, "scripts", "build-release.sh"), "--scratch-path", args.scratch_path, "--product", "hoopoe"]
    else:
        build = ["make", "-s", "release"]
    if os.geteuid() != 0:
        raise SystemExit("startup-order.py mounts a loop device: run it as root")
    work = tempfile.mkdtemp(prefix="hoopoe-startup-order-")
    image, mnt = os.path.join(work, "fs.img"), os.path.join(work, "mnt")
    os.mkdir(mnt)
    with open(image, "wb") as f:
        f.truncate(512 << 20)
    run("mkfs.ext4", "-q", "-F", image)
    listed = []
    open(ORDER, "w").close()  # from scratch: names no longer run drop out
    try:
        for round_ in range(1, args.rounds + 1):
            if os.path.exists(binary):
                os.remove(binary)  # the list is not an input SwiftPM tracks: force the relink
            subprocess.run(build, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            run("mount", "-o", "loop", image, mnt)
            try:
                device = run("findmnt", "-n", "-o", "SOURCE", mnt).strip()
                with open(f"/sys/block/{os.path.basename(device)}/queue/read_ahead_kb", "w") as f:
                    f.write("0")
                copy = os.path.join(mnt, "hoopoe")
                shutil.copy(binary, copy)
                run("umount", mnt)  # unmounting drops the copy's cached pages
                run("mount", "-o", "loop", image, mnt)
                device = run("findmnt", "-n", "-o", "SOURCE", mnt).strip()
                with open(f"/sys/block/{os.path.basename(device)}/queue/read_ahead_kb", "w") as f:
                    f.write("0")
                seen = set(listed)
                new = [n for n in dict.fromkeys(faulting_functions(copy, work)) if n not in seen]
            finally:
                run("umount", mnt)
            listed += new
            with open(ORDER, "w") as f:
                f.write("".join(n + "\n" for n in listed))
            print(f"round {round_}: {len(new)} new functions, {len(listed)} listed", file=sys.stderr)
        if os.path.exists(binary):
            os.remove(binary)
        subprocess.run(build, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
