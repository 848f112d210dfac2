#!/usr/bin/env python3
"""Soak test: many requests of mixed lengths through one long-running `bertcpp` process, RSS sampled.

A server that embeds requests of every length must not grow without bound (issue 14: the GEMM primitive cache
kept one entry per distinct token count). This script feeds N JSON-lines requests to one `bertcpp embed` (or
`encode`) process through a pipe, samples the process's resident set size (VmRSS from /proc) as the requests
are processed, and reports whether RSS stays flat: (max - min) / min over the samples taken after the first
10 % of the requests must be at most 2 %.

    python3 bench/soak.py --cli build/examples/bertcpp --model models/cache/all-MiniLM-L6-v2 \
        [--requests 100000] [--command embed|encode] [--batch-size 8] [--threads 0] [--json out.json]
        [--max-seconds S]

--max-seconds stops feeding requests after S seconds (for a machine too slow or too busy for the whole run): the
requests already sent are processed, and the verdict is over the requests actually answered, whose count is
reported ("requests_done", "stopped_early").

Texts (embed) are random words from a fixed list, 1 to --max-words words each (seeded, reproducible); token-id
records (encode) have 1 to --max-tokens ids. Exit status 0 when flat, 1 when not, 2 on a setup error.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards quietly hex bold jumping zebras near "
         "forty big old houses; naïve café owners serve crème brûlée, 東京 and Zürich visitors argue about "
         "1984 numbers, emails like a.b@example.com and URLs https://example.org/x?y=1").split()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def request(rng, args):
    if args.command == "embed":
        n = rng.randint(1, args.max_words)
        return json.dumps({"text": " ".join(rng.choice(WORDS) for _ in range(n))}, ensure_ascii=False)
    n = rng.randint(1, args.max_tokens)
    return json.dumps({"input_ids": [101] + [rng.randint(1000, 29000) for _ in range(n - 1)]})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cli", required=True, help="the bertcpp executable")
    p.add_argument("--model", required=True)
    p.add_argument("--command", choices=("embed", "encode"), default="embed")
    p.add_argument("--requests", type=int, default=100000)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--max-words", type=int, default=120, help="embed: words per text, 1..N")
    p.add_argument("--max-tokens", type=int, default=128, help="encode: ids per record, 1..N")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--samples", type=int, default=200, help="RSS samples over the run")
    p.add_argument("--tolerance", type=float, default=0.02, help="allowed (max - min) / min after warm-up")
    p.add_argument("--json", help="also write the samples and the verdict here")
    p.add_argument("--max-seconds", type=float, default=0, help="stop sending requests after this long (0: never)")
    args = p.parse_args()

    cmd = [args.cli, args.command, "-m", args.model, "-b", str(args.batch_size), "--threads", str(args.threads)]
    if args.command == "encode":
        cmd += ["--no-pooler", "--precision", "3"]
    # stderr to a file, not a pipe: nothing reads it until the end, and a full pipe would stall the process.
    errlog = tempfile.TemporaryFile()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errlog)
    except OSError as e:
        print(f"soak: cannot run {args.cli}: {e}", file=sys.stderr)
        return 2

    fed = 0
    start = time.monotonic()

    def feed():
        nonlocal fed
        rng = random.Random(args.seed)
        try:
            for _ in range(args.requests):
                if args.max_seconds and time.monotonic() - start > args.max_seconds:
                    break
                proc.stdin.write((request(rng, args) + "\n").encode())
                fed += 1
            proc.stdin.close()
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    every = max(1, args.requests // args.samples)
    samples = []  # (requests done, seconds, RSS KiB)
    done = errors = 0
    for line in proc.stdout:
        done += 1
        if line.startswith(b'{"error"'):
            errors += 1
        now = time.monotonic()
        # Every `every` requests, and at least every 30 s (a slow run still gets a curve).
        if done % every == 0 or done == args.requests or (samples and now - start - samples[-1][1] >= 30):
            samples.append((done, round(time.monotonic() - start, 2), rss_kib(proc.pid)))
    status = proc.wait()
    elapsed = time.monotonic() - start
    writer.join()
    if status not in (0, 1) or done != fed or not samples:
        errlog.seek(0)
        print(f"soak: {args.command} exited with {status} after {done} outputs for {fed} requests: "
              f"{errlog.read().decode(errors='replace')[-2000:]}", file=sys.stderr)
        return 2

    total = done
    # The last batch's lines can be read while the process already frees everything on its way out.
    samples = [s for s in samples if s[0] <= total - args.batch_size] or samples
    steady = [s for s in samples if s[0] > total // 10] or samples[-1:]
    lo, hi = min(s[2] for s in steady), max(s[2] for s in steady)
    spread = (hi - lo) / lo
    flat = spread <= args.tolerance
    result = {
        "command": " ".join(cmd), "requests": args.requests, "requests_done": total,
        "stopped_early": total < args.requests, "rss_samples": len(samples), "error_records": errors,
        "seconds": round(elapsed, 1), "requests_per_second": round(total / elapsed, 1),
        "rss_mib_first_sample": round(samples[0][2] / 1024, 1), "rss_mib_at_10pct": round(steady[0][2] / 1024, 1),
        "rss_mib_last": round(samples[-1][2] / 1024, 1), "rss_mib_min_after_10pct": round(lo / 1024, 1),
        "rss_mib_max_after_10pct": round(hi / 1024, 1), "spread_after_10pct": round(spread, 4),
        "tolerance": args.tolerance, "flat": flat,
    }
    print(json.dumps(result, indent=1))
    # A coarse curve: RSS at each tenth of the run.
    for k in range(1, 11):
        target = total * k // 10
        s = min(samples, key=lambda x: abs(x[0] - target))
        print(f"  {s[0]:>8} requests  {s[1]:>8.1f} s  RSS {s[2] / 1024:8.1f} MiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"result": result, "samples": samples}, f)
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
