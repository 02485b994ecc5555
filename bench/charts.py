#!/usr/bin/env python3
"""Draws bench/overhead.png and bench/memory-soak.png from bench/results/*.json and *.csv.
Run: python3 bench/charts.py   (needs matplotlib: pip install matplotlib)"""
import csv
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def load(name):
    path = os.path.join(RESULTS, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def pct(s, invert=False):
    """Ratio summary -> cost in % (median, lower err, upper err). invert: throughput (cost = 1 - r)."""
    if invert:
        med, lo, hi = (1 - s["median"]) * 100, (1 - s["max"]) * 100, (1 - s["min"]) * 100
    else:
        med, lo, hi = (s["median"] - 1) * 100, (s["min"] - 1) * 100, (s["max"] - 1) * 100
    return med, med - lo, hi - med


def bars(ax, present, metrics, title):
    width = 0.8 / len(metrics)
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    for mi, (mlabel, key, invert) in enumerate(metrics):
        xs, meds, errs = [], [], [[], []]
        for gi, (_, r) in enumerate(present):
            med, lo, hi = pct(r["ratios"][key], invert)
            xs.append(gi + (mi - (len(metrics) - 1) / 2) * width)
            meds.append(med)
            errs[0].append(lo)
            errs[1].append(hi)
        ax.bar(xs, meds, width, yerr=errs, capsize=3, label=mlabel + " cost", color=colors[mi])
        for x, m in zip(xs, meds):
            ax.annotate(f"{m:+.1f}%", (x, m), textcoords="offset points", xytext=(0, 3 if m >= 0 else -10),
                        ha="center", fontsize=7)
    ax.axhline(2, color="gray", linestyle="--", linewidth=1)
    ax.text(len(present) - 0.5, 2, " target 2%", va="bottom", ha="right", fontsize=8, color="gray")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(present)))
    ax.set_xticklabels([label for label, _ in present], fontsize=8)
    ax.set_ylabel("cost vs baseline (%)\nmedian of pairs, whiskers = min..max")
    ax.set_yscale("symlog", linthresh=10)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left")


def overhead_chart():
    groups = [
        ("otel-span-profiler\n(reference service)", "otel-profiler-mixed"),
        ("otel-span-profiler\n(CPU-bound)", "sampling-overhead-cpu"),
        ("otel-span-profiler\n(async-heavy)", "sampling-overhead-async"),
        ("@sentry/profiling-node\n(reference service)", "sentry-profiler-mixed"),
        ("dd-trace profiler\n(reference service)", "dd-trace-profiler-mixed"),
    ]
    interleaved = [
        ("reference service", "otel-profiler-interleaved-mixed"),
        ("CPU-bound", "otel-profiler-interleaved-cpu"),
        ("async-heavy", "otel-profiler-interleaved-async"),
    ]
    present = [(label, load(name)) for label, name in groups]
    present = [(label, r) for label, r in present if r]
    inter = [(label, load(name)) for label, name in interleaved]
    inter = [(label, r) for label, r in inter if r]
    if not present:
        print("no overhead results yet")
        return
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5), gridspec_kw={"width_ratios": [5, 2.4]})
    counts = sorted({r["options"]["pairs"] for _, r in present})
    pairs = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    bars(axes[0], present, [
        ("CPU s per request", "cpuSecondsPer1kRequests", False),
        ("throughput", "throughputPerSecond", True),
        ("p50 latency", "latencyP50Millis", False),
        ("p99 latency", "latencyP99Millis", False),
    ], f"Separate server processes, each profiler vs its own tracing-only baseline\n(alternating A/B runs, {pairs} pairs, server pinned to CPU 0, load on CPU 1)")
    if inter:
        bars(axes[1], inter, [
            ("CPU s per request", "cpuSecondsPer1kRequests", False),
            ("throughput", "throughputPerSecond", True),
            ("server p50 latency", "serverLatencyP50Millis", False),
            ("server p99 latency", "serverLatencyP99Millis", False),
        ], f"otel-span-profiler switched on/off in one server\n({inter[0][1]['options']['pairs']} adjacent pairs of {inter[0][1]['options']['windowSeconds']} s windows, ABBA)")
    else:
        axes[1].axis("off")
    fig.tight_layout()
    out = os.path.join(HERE, "overhead.png")
    fig.savefig(out, dpi=100)
    print("wrote", out)


def read_csv(name):
    path = os.path.join(RESULTS, name + ".csv")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return rows


def memory_chart():
    soak = read_csv("memory-soak")
    if not soak:
        print("no memory soak yet")
        return
    base = read_csv("memory-soak-baseline")
    meta = load("memory-soak")
    fig, ax = plt.subplots(figsize=(11, 5))
    for rows, label, style in [(soak, "with otel-span-profiler", "-"), (base, "tracing only", ":")]:
        if not rows:
            continue
        x = [int(r["requests"]) / 1e3 for r in rows]
        ax.plot(x, [int(r["rss_bytes"]) / 2**20 for r in rows], style, color="#4c72b0", label="RSS, " + label)
        ax.plot(x, [int(r["heap_used_bytes"]) / 2**20 for r in rows], style, color="#dd8452", label="heap used, " + label)
    if meta:
        total = meta["options"]["requests"]
        ax.axvline(total * 0.2 / 1e3, color="gray", linestyle="--", linewidth=1)
        m = meta["memory"]
        ax.text(total * 0.2 / 1e3, ax.get_ylim()[1] * 0.95,
                f"  after warm-up: RSS {m['rssSlopeMiBPer100kRequests']:+.3f} MiB/100k req,"
                f" heap {m['heapUsedSlopeMiBPer100kRequests']:+.3f} MiB/100k req", fontsize=8, va="top")
    ax.set_xlabel("requests served (thousands)")
    ax.set_ylabel("MiB")
    ax.set_ylim(bottom=0)
    ax.set_title("Memory soak: reference service, every root span profiled at 99 Hz")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    out = os.path.join(HERE, "memory-soak.png")
    fig.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    overhead_chart()
    memory_chart()
