#!/usr/bin/env python3
"""Summarize presence-bench JSON results: the median of each metric over the runs of a scenario,
per server, and the gateway-to-Node ratio.

Usage: summarize.py RESULTS_DIR [--summary FILE.json] [--markdown FILE.md]
Reads RESULTS_DIR/NAME-SERVER-RUN.json as bench/run.sh writes them.
"""
import argparse
import json
import re
import statistics
import sys
from pathlib import Path

ROOM_METRICS = [
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
    ("latency_p99_ms", "latency p99 (ms)"),
    ("latency_max_ms", "latency max (ms)"),
    ("positions_sent", "positions sent"),
    ("events_delivered", "cursor events delivered"),
    ("delivered_per_second", "delivered events per second"),
    ("all_final_positions_delivered", "every final position delivered"),
    ("server_cpu_seconds_per_million", "server CPU s per million delivered"),
    ("server_cores", "server cores busy"),
    ("server_rss_kib", "server resident memory (KiB)"),
    ("generator_cores", "generator cores busy"),
    ("connection_failures", "connection failures"),
]

METRICS = {
    "busy-room": ROOM_METRICS,
    "busy-room-batched": ROOM_METRICS,
    "many-rooms": ROOM_METRICS,
    "idle-crowd": [
        ("clients_joined", "clients joined"),
        ("server_kib_per_connection", "server memory per connection, added (KiB)"),
        ("server_total_kib_per_connection", "server memory per connection, total (KiB)"),
        ("server_rss_after_kib", "server resident memory joined (KiB)"),
        ("join_seconds", "time to join all (s)"),
        ("connection_failures", "connection failures"),
    ],
    "join-storm": [
        ("snapshots_received", "snapshots received"),
        ("all_snapshots_received", "every snapshot received"),
        ("seconds_to_last_snapshot", "first open to last snapshot (s)"),
        ("join_latency_p50_ms", "open to snapshot p50 (ms)"),
        ("join_latency_p99_ms", "open to snapshot p99 (ms)"),
        ("join_latency_max_ms", "open to snapshot max (ms)"),
        ("errors", "errors"),
        ("server_cpu_seconds", "server CPU (s)"),
    ],
    "churn": [
        ("joins", "joins"),
        ("leaves", "leaves"),
        ("drops", "drops"),
        ("members_at_end", "members at the end"),
        ("views_matching", "views equal to the truth"),
        ("all_views_match", "every view equals the truth"),
        ("lost_sessions", "sessions lost"),
        ("server_errors", "error events"),
    ],
    "capacity": [
        ("max_delivered_per_second", "max sustained delivered events per second"),
        ("max_passing_members", "largest passing room (members)"),
        ("latency_p99_ms_at_max", "p99 at that rate (ms)"),
        ("server_cpu_seconds_per_million_at_max", "server CPU s per million at that rate"),
        ("stop_reason", "stopped because"),
    ],
}
METRICS["churn-redis"] = METRICS["churn"]

FILE_NAME = re.compile(r"^(?P<name>.+)-(?P<server>gateway-redis|gateway|node)-(?P<run>\d+)\.json$")


def load(directory):
    """Return {name: {server: [result document, ...]}} for every result file in directory."""
    groups = {}
    for path in sorted(Path(directory).glob("*.json")):
        match = FILE_NAME.match(path.name)
        if not match:
            continue
        with path.open() as file:
            document = json.load(file)
        groups.setdefault(match["name"], {}).setdefault(match["server"], []).append(document)
    return groups


def median(values):
    """Median of numbers, 'yes in k of n' of booleans, or the distinct strings joined."""
    if not values:
        return None
    if all(isinstance(value, bool) for value in values):
        return f"yes in {sum(values)} of {len(values)}"
    if all(isinstance(value, (int, float)) for value in values):
        return statistics.median(values)
    return "; ".join(sorted({str(value) for value in values}))


def summarize(groups):
    summary = {}
    order = list(METRICS)
    for name, servers in sorted(groups.items(), key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0])):
        metrics = METRICS.get(name, [])
        entry = {"runs": {server: len(documents) for server, documents in servers.items()}, "metrics": {}}
        first = next(iter(servers.values()))[0]
        entry["machine"] = first.get("machine", {})
        entry["parameters"] = first.get("parameters", {})
        entry["batch_ms"] = first.get("batch_ms")
        for key, label in metrics:
            row = {"label": label}
            for server, documents in servers.items():
                row[server] = median([d["results"][key] for d in documents if key in d.get("results", {})])
            gateway, node = row.get("gateway"), row.get("node")
            if isinstance(gateway, (int, float)) and isinstance(node, (int, float)) and node:
                row["ratio"] = gateway / node
            entry["metrics"][key] = row
        summary[name] = entry
    return summary


def format_value(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(summary):
    lines = []
    for name, entry in summary.items():
        servers = [server for server in ("gateway", "gateway-redis", "node") if server in entry["runs"]]
        runs = ", ".join(f"{server} {count}" for server, count in entry["runs"].items())
        lines.append(f"### {name}\n\nMedians over runs ({runs}).\n")
        header = ["metric"] + servers + (["gateway / node"] if {"gateway", "node"} <= set(servers) else [])
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for row in entry["metrics"].values():
            cells = [row["label"]] + [format_value(row.get(server)) for server in servers]
            if len(header) > len(servers) + 1:
                cells.append(f"{row['ratio']:.2f}" if "ratio" in row else "-")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--summary", help="write the medians as JSON to this file")
    parser.add_argument("--markdown", help="write the medians as Markdown tables to this file")
    arguments = parser.parse_args()
    groups = load(arguments.directory)
    if not groups:
        sys.exit(f"summarize.py: no NAME-SERVER-RUN.json files in {arguments.directory}; run bench/run.sh first")
    summary = summarize(groups)
    text = markdown(summary)
    if arguments.summary:
        Path(arguments.summary).write_text(json.dumps({"source": Path(arguments.directory).name, "scenarios": summary}, indent=2) + "\n")
    if arguments.markdown:
        Path(arguments.markdown).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
