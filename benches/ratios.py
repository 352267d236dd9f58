#!/usr/bin/env python3
"""Ratios from one criterion run, read from target/criterion.

    cargo bench --bench scheme --bench layer --bench client --bench replay
    python3 benches/ratios.py

Every ratio compares estimates of the same run, so a busy machine slows both sides alike.
Means and medians are both shown; the medians resist outliers from other processes.
"""

import glob
import json
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"


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


def main():
    est = load()
    if not est:
        sys.exit(f"no criterion results under {ROOT}: run the benches first")
    sizes = ["tiny", "typical", "large"]
    scheme = [f"scheme/{k}/{s}" for k in ["sign", "verify", "canonical", "naive", "floor"] for s in sizes]
    if all(i in est for i in scheme):
        print("scheme (janrain-signed HMAC hot path):")
        show(est, scheme)
        for s in sizes:
            g = lambda k, j: est[f"scheme/{k}/{s}"][j]
            print(
                f"  {s:8} sign/floor = {g('sign', 0) / g('floor', 0):.3f} (median {g('sign', 1) / g('floor', 1):.3f})"
                f"   naive/sign = {g('naive', 0) / g('sign', 0):.2f} (median {g('naive', 1) / g('sign', 1):.2f})"
            )
    bare, layered = "layer/signed_post/without_layer", "layer/signed_post/with_layer"
    if bare in est and layered in est:
        print("layer (axum Router, typical signed form POST, in process):")
        show(est, [bare, layered, "layer/decode_form/typical"])
        added = [(est[layered][j] - est[bare][j]) / 1000 for j in (0, 1)]
        print(f"  added by the layer: {added[0]:.2f} us per request (median {added[1]:.2f} us)")
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


if __name__ == "__main__":
    main()
