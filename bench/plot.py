#!/usr/bin/env python3
"""Draw the latency distributions of the busy-room runs of both servers from presence-bench JSON.

Usage: plot.py RESULTS_DIR [--output docs/images/latency.png]
Each panel is one scenario: busy-room, busy-room-batched or many-rooms. Each line is one run's
latency from sending a cursor position to receiving it, drawn as the share of events delivered
within each time. The data are the histograms that presence-bench stores in its JSON.
"""
import argparse
import json
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)

SCENARIOS = ["busy-room", "busy-room-batched", "many-rooms"]
COLORS = {"gateway": "tab:blue", "node": "tab:orange"}
FILE_NAME = re.compile(r"^(?P<name>.+)-(?P<server>gateway|node)-(?P<run>\d+)\.json$")


def cumulative(buckets):
    """Return (milliseconds, fraction delivered within) points from [lower_us, upper_us, count] buckets."""
    total = sum(count for _, _, count in buckets)
    seen = 0
    times, fractions = [], []
    for _, upper, count in buckets:
        seen += count
        times.append(upper / 1000)
        fractions.append(seen / total)
    return times, fractions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent.parent / "docs/images/latency.png"))
    arguments = parser.parse_args()

    runs = {}
    for path in sorted(Path(arguments.directory).glob("*.json")):
        match = FILE_NAME.match(path.name)
        if match and match["name"] in SCENARIOS:
            document = json.loads(path.read_text())
            if document.get("latency_histogram_us"):
                runs.setdefault(match["name"], []).append((match["server"], match["run"], document))
    if not runs:
        sys.exit(f"plot.py: no busy-room or many-rooms results with histograms in {arguments.directory}")

    names = [name for name in SCENARIOS if name in runs]
    figure, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 4.2), squeeze=False)
    for axis, name in zip(axes[0], names):
        labelled = set()
        for server, run, document in runs[name]:
            times, fractions = cumulative(document["latency_histogram_us"])
            label = server if server not in labelled else None
            labelled.add(server)
            axis.plot(times, fractions, color=COLORS.get(server, "gray"), alpha=0.8, linewidth=1.4, label=label)
        parameters = runs[name][0][2]["parameters"]
        batch = runs[name][0][2].get("batch_ms")
        title = (f"{name}: {parameters.get('documents')} doc x {parameters.get('members_per_document')} members, "
                 f"{parameters.get('movers_per_document')} moving")
        axis.set_title(title + (f"\n(batch_ms={batch}; Node ignores it)" if batch is not None else ""), fontsize=9)
        axis.set_xscale("log")
        axis.set_xlabel("send to receipt (ms, log scale)")
        axis.set_ylabel("share of delivered cursor events")
        axis.set_ylim(0, 1.01)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(loc="upper left")
    machine = runs[names[0]][0][2]["machine"]
    figure.suptitle(f"presence-bench latency, {machine['online_cpus']} x {machine['cpu_model']}, one line per run", fontsize=10)
    figure.tight_layout()
    Path(arguments.output).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(arguments.output, dpi=110)
    print(f"plot.py: wrote {arguments.output}")


if __name__ == "__main__":
    main()
