#!/usr/bin/env python
"""Run every shipped preset in full and check that it reaches its stated target in time.

    python scripts/check_presets.py                 # all presets
    python scripts/check_presets.py spiral xor      # some of them
    python scripts/check_presets.py --time-limit 60 --markdown

Each preset runs as ``nnplay run NAME --json --quiet`` in a fresh process, exactly as a user would run
it. A preset passes when the run exits 0 (its target, or every variant's target, is met) within the
time limit (wall clock, including start-up and loading the data). Exit status: 0 when all pass, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def shipped() -> list[str]:
    from nnplay.core.presets import shipped_preset_names

    return shipped_preset_names()


def run_one(name: str, timeout: float) -> dict:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "nnplay.core", "run", name, "--json", "--quiet"],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"name": name, "ok": False, "wall": time.perf_counter() - t0, "result": f"timed out after {timeout:.0f}s"}
    wall = time.perf_counter() - t0
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    summary = json.loads(lines[-1]) if lines else {}
    return {"name": name, "ok": proc.returncode == 0, "wall": wall, "code": proc.returncode,
            "result": describe(summary) if summary else proc.stderr.strip().splitlines()[-1:] or ["no output"]}


def describe(summary: dict) -> str:
    def one(target, epochs):
        if not target:
            return f"no target, {epochs} epochs"
        return (f"{target['metric']} = {target['value']:.4g} ({'met' if target['met'] else 'MISSED'}: "
                f"{target['description']}), {epochs} epochs")

    if "variants" in summary:
        return "; ".join(f"{v['variant']}: {one(v['target'], v['epochs_run'])}" for v in summary["variants"])
    return one(summary.get("target"), summary.get("epochs_run"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("presets", nargs="*", help="preset names (default: every shipped preset)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds each preset may take (default 60)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    names = args.presets or shipped()
    results = []
    for name in names:
        r = run_one(name, timeout=max(args.time_limit * 3, 120))
        if r["wall"] > args.time_limit:
            r["ok"] = False
            r["result"] = f"{r['result']}; too slow"
        results.append(r)
        if not args.markdown:
            print(f"{'ok  ' if r['ok'] else 'FAIL'} {name:<22} {r['wall']:6.1f}s  {r['result']}", flush=True)
    if args.markdown:
        print("| preset | result | time |\n|---|---|---|")
        for r in results:
            print(f"| {r['name']} | {'' if r['ok'] else '**FAIL** '}{r['result']} | {r['wall']:.1f} s |")
    failed = [r["name"] for r in results if not r["ok"]]
    print(f"{len(results) - len(failed)}/{len(results)} presets reached their target in time"
          + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
