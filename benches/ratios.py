#!/usr/bin/env python3
"""Ratios from one criterion run, read from target/criterion.

    cargo bench --bench scheme --bench layer --bench client --bench replay
    python3 benches/ratios.py

Every ratio compares estimates of the same run, so a busy machine slows both sides alike.
Means and medians are both shown; the medians resist outliers from other processes, and the
targets are checked on medians.

Instruction counts per call of the scheme routines, repeatable on a busy machine (valgrind's
emulated CPU has no SHA extensions, so SHA-1 runs its portable code there: compare the
counts between builds, not against the timed ratios):

    cargo bench --bench scheme --no-run
    python3 benches/ratios.py --instructions target/release/deps/scheme-<hash> [ID ...]

and per request of the layer bench's two routers:

    cargo bench --bench layer --no-run
    python3 benches/ratios.py --instructions target/release/deps/layer-<hash> \
        layer/signed_post/without_layer layer/signed_post/with_layer

The copies (`memcpy`/`memmove` calls: values moved, buffers copied) one request makes through
a layer bench router, with their sizes and the functions that make them, counted under gdb
(also repeatable on a busy machine; a copy of a value just written costs far more time than
its instructions say):

    python3 benches/ratios.py --copies target/release/deps/layer-<hash> layer/signed_post/with_layer
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
# The scheme bench's routines and request sizes.
SIZES = ["tiny", "typical", "large"]
KINDS = ["sign", "verify", "canonical", "sign_hmac_crate", "hmac_cached", "naive", "floor", "floor_hmac"]


def load():
    found = {}
    for new in glob.glob(os.path.join(ROOT, "**", "new"), recursive=True):
        try:
            bench = json.load(open(os.path.join(new, "benchmark.json")))
            est = json.load(open(os.path.join(new, "estimates.json")))
        except (OSError, ValueError):
            continue
        found[bench["full_id"]] = (est["mean"]["point_estimate"], est["median"]["point_estimate"])
    return found


def show(est, ids):
    for i in ids:
        if i in est:
            print(f"  {i:48} {est[i][0]:11.1f} ns  (median {est[i][1]:11.1f})")


def layer_pair(est, case, title, more):
    """The layer bench's `case` without and with the layer (and `more` ids), and what the layer adds."""
    bare, layered = f"layer/{case}/without_layer", f"layer/{case}/with_layer"
    if bare in est and layered in est:
        print(title)
        show(est, [bare, layered] + more)
        added = [(est[layered][j] - est[bare][j]) / 1000 for j in (0, 1)]
        print(f"  added by the layer: {added[0]:.2f} us per request (median {added[1]:.2f} us)")


def verdict(ok):
    return "met" if ok else "MISSED"


def main():
    est = load()
    if not est:
        sys.exit(f"no criterion results under {ROOT}: run the benches first")
    sizes = SIZES
    scheme = [f"scheme/{k}/{s}" for k in KINDS for s in sizes]
    present = [i for i in scheme if i in est]
    if present:
        print("scheme (janrain-signed HMAC hot path):")
        show(est, present)
        # Medians only: the targets are stated on medians of one run.
        print("  targets (medians):")
        limits = {"tiny": 1.8, "typical": 1.30, "large": 1.12}
        for s in sizes:
            med = lambda k: est.get(f"scheme/{k}/{s}", (None, None))[1]
            parts = []
            if med("sign") and med("floor"):
                r = med("sign") / med("floor")
                parts.append(f"sign/floor = {r:.3f} (<= {limits[s]}: {verdict(r <= limits[s])})")
            if med("floor_hmac") and med("floor"):
                parts.append(f"floor_hmac/floor = {med('floor_hmac') / med('floor'):.3f}")
            if med("sign") and med("sign_hmac_crate"):
                r = med("sign_hmac_crate") / med("sign")
                parts.append(f"sign_hmac_crate/sign = {r:.3f}")
            if med("sign") and med("hmac_cached"):
                parts.append(f"sign/hmac_cached = {med('sign') / med('hmac_cached'):.3f}")
            if med("naive") and med("sign"):
                r = med("naive") / med("sign")
                parts.append(f"naive/sign = {r:.2f}" + (f" (>= 4: {verdict(r >= 4)})" if s == "typical" else ""))
            if med("verify") and med("sign"):
                r = med("verify") / med("sign")
                parts.append(f"verify/sign = {r:.3f}" + (f" (<= 1.10: {verdict(r <= 1.10)})" if s == "typical" else ""))
            if s == "typical" and med("canonical"):
                c = med("canonical")
                parts.append(f"canonical = {c:.1f} ns (<= 40: {verdict(c <= 40)})")
            print(f"    {s:8} " + "   ".join(parts))
    layer_pair(est, "signed_post", "layer (axum Router, typical signed form POST, in process):",
               ["layer/signed_post/identity_layer", "layer/decode_form/typical", "layer/decode_form/plain"])
    layer_pair(est, "signed_post_late_body",
               "layer, the body one poll late (as hyper's server hands it over):", [])
    client = sorted(i for i in est if i.startswith("client/"))
    if client:
        print("client (middleware's own cost, network excluded):")
        show(est, client)
    replay = sorted(i for i in est if i.startswith("replay/"))
    if replay:
        print("replay guards:")
        show(est, replay)
        if "replay/none" in est:
            for g in ("replay/memory", "replay/redis"):
                if g in est:
                    print(f"  {g} adds {(est[g][1] - est['replay/none'][1]) / 1000:.2f} us (medians)")


def instructions(binary, ids):
    """Instructions per call of each routine: callgrind counts only inside the bench's `counted`
    loop, run twice with different call counts so that the loop's own setup cancels out."""
    ids = ids or [f"scheme/{k}/{s}" for s in SIZES for k in KINDS]
    per_call = {}
    for i in ids:
        counts = []
        for calls in (1000, 3000):
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "callgrind.out")
                subprocess.run(
                    ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                     "--toggle-collect=*counted*", binary, i],
                    env={**os.environ, "SCHEME_COUNT": str(calls), "LAYER_COUNT": str(calls)},
                    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                text = open(out).read()
                counts.append(int(re.search(r"^summary:\s+(\d+)", text, re.M).group(1)))
        per_call[i] = (counts[1] - counts[0]) / 2000
        print(f"  {i:32} {per_call[i]:10.0f} instructions per call")
    return per_call


# gdb: from main on, stop at every libc copy routine (whichever variant the CPU selects) and
# print its length and the two functions above it.
GDB_COPIES = """set pagination off
start
rbreak ^__memcpy_.*unaligned
rbreak ^__memmove_.*unaligned
commands 2-999
silent
printf "COPY %d\\n", $rdx
bt 3
continue
end
continue
"""


def short_name(name):
    """A function's name without its hash, generic arguments and module paths:
    `<ResponseFuture as Future>::poll`, `<impl Verifier>::decide`."""
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    while True:
        shorter = re.sub(r"(?<=[A-Za-z0-9_])<[^<>]*>", "", name)
        if shorter == name:
            break
        name = shorter
    return re.sub(r"\b(?:[a-z_][a-z0-9_]*::)+(?=[A-Za-z_<{])", "", name)


def copies_in(binary, bench_id, calls):
    """Every copy of a run of `calls` requests: (length, caller, caller's caller) each."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "copies.gdb")
        with open(script, "w") as f:
            f.write(GDB_COPIES)
        out = subprocess.run(
            ["gdb", "-q", "-batch", "-x", script, "--args", binary, bench_id],
            env={**os.environ, "LAYER_COUNT": str(calls)},
            check=True, capture_output=True, text=True).stdout
    found, current = [], None
    for line in out.splitlines():
        if line.startswith("COPY "):
            current = [int(line.split()[1])]
            found.append(current)
        elif current is not None and re.match(r"#[12] ", line):
            m = re.search(r" in (.*?) \(", line) or re.search(r"#\d+\s+(.*?) \(", line)
            name = m.group(1) if m else line.strip()
            current.append(short_name(name))
    return [tuple(c) for c in found]


def copies(binary, ids):
    """The copies one request makes: those of four requests less those of three."""
    from collections import Counter
    for i in ids:
        per_request = Counter(copies_in(binary, i, 4)) - Counter(copies_in(binary, i, 3))
        total = sum(per_request.values())
        size = sum(c[0] * n for c, n in per_request.items())
        print(f"{i}: {total} copies, {size} bytes per request")
        for c, n in sorted(per_request.items(), key=lambda kv: (-kv[0][0], kv[0])):
            print(f"  {n} x {c[0]:5} bytes  in {' <- '.join(c[1:])}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--instructions":
        instructions(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) > 2 and sys.argv[1] == "--copies":
        copies(sys.argv[2], sys.argv[3:])
    else:
        main()
