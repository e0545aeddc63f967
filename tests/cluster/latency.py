"""Measures the latency of a cursor event to a member on the same node and on another node.

Starts redis-server and two gateways (PRESENCE_GATEWAY_BIN, a release build for meaningful numbers).
In each of DOCUMENTS documents a sender on node 1 moves its cursor every INTERVAL_S; a watcher on
node 1 and a watcher on node 2 record when each position arrives. Latency runs from the send call
to the receipt of the CursorMoved event, both on this process's monotonic clock, so it includes the
room's flush interval (16 ms by default) and, across nodes, the Redis round trip.

Usage: latency.py [seconds]   (default 20)
"""

import asyncio
import statistics
import sys
import time

from support import Client, RedisServer, gateway_node

DOCUMENTS = 5
INTERVAL_S = 0.06  # above the 50 ms cursor throttle, so every position goes out at once


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(seconds):
    redis = RedisServer().start()
    nodes = [gateway_node(name, [redis.url], {"log": {"level": "warning"}}).start() for name in ("lat-1", "lat-2")]
    clients = []
    try:
        pairs = []
        for index in range(DOCUMENTS):
            document = f"latency-{index}"
            sender = await Client.connect(nodes[0].ws_url, f"sender{index}")
            local = await Client.connect(nodes[0].ws_url, f"local{index}")
            remote = await Client.connect(nodes[1].ws_url, f"remote{index}")
            clients += [sender, local, remote]
            await sender.join(document, f"s{index}")
            await local.join(document, f"l{index}")
            await remote.join(document, f"r{index}")
            pairs.append((document, sender, local, remote))
        await asyncio.sleep(0.5)

        sent = {}

        async def move(document, sender, index):
            line = 0
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                line += 1
                sent[(document, line)] = time.monotonic()
                await sender.cursor(document, line)
                await asyncio.sleep(INTERVAL_S)

        await asyncio.gather(*(move(document, sender, index)
                               for index, (document, sender, _, _) in enumerate(pairs)))
        await asyncio.sleep(0.5)

        results = {}
        for label, position in (("same node", 2), ("other node", 3)):
            latencies = []
            for pair in pairs:
                document, watcher = pair[0], pair[position]
                for event in watcher.events:
                    if event.kind == "CursorMoved" and event.document_id == document:
                        started = sent.get((document, event.body["cursor"]["line"]))
                        if started is not None:
                            latencies.append((event.arrived_s - started) * 1000)
            results[label] = latencies
        return results, len(sent)
    finally:
        for client in clients:
            try:
                await client.close()
            except Exception:
                pass
        for node in nodes:
            node.cleanup()
        redis.cleanup()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    results, sent = asyncio.run(measure(seconds))
    print(f"{sent} cursor positions sent in {seconds:.0f} s over {DOCUMENTS} documents")
    for label, latencies in results.items():
        if not latencies:
            print(f"{label}: no events received")
            continue
        print(f"{label}: {len(latencies)} received, p50 {statistics.median(latencies):.2f} ms, "
              f"p99 {percentile(latencies, 0.99):.2f} ms, max {max(latencies):.2f} ms")


if __name__ == "__main__":
    main()
