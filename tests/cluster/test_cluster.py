"""Several gateway processes sharing presence through real redis-server processes.

Each class starts its own Redis servers and gateway nodes on free loopback ports. Node timeouts are
small (NODE_TIMEOUT_MS) so that the crash scenarios finish in seconds.
"""

import asyncio
import json
import os
import pathlib
import subprocess
import tempfile
import time
import unittest
import uuid

from support import (
    NODE_TIMEOUT_MS, Client, GatewayError, RedisServer, gateway_node, hash_of, kill_hard, stream_entries)

USER_FIELDS = {"user_id", "document_id", "workspace_id", "name", "avatar_url", "color", "state", "cursor",
               "selection", "connected_at", "last_active_at", "last_cursor_update"}
STREAM_FIELDS = {"type", "user_id", "document_id", "workspace_id", "timestamp"}
REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
BENCH_BINARY = (REPOSITORY / os.environ.get("PRESENCE_BENCH_BIN", ".build/release/presence-bench")).resolve()


class ClusterCase(unittest.IsolatedAsyncioTestCase):
    """Starts `redis_count` Redis servers and `node_names` gateways once per class."""

    redis_count = 1
    node_names = ("gw-1", "gw-2", "gw-3")
    node_extra = {"presence": {"max_users_per_document": 3}}

    @classmethod
    def setUpClass(cls):
        cls.redis_servers = [RedisServer().start() for _ in range(cls.redis_count)]
        urls = [server.url for server in cls.redis_servers]
        cls.nodes = []
        try:
            for name in cls.node_names:
                cls.nodes.append(gateway_node(name, urls, cls.node_extra).start())
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for node in cls.nodes:
            node.cleanup()
        for server in cls.redis_servers:
            server.cleanup()

    @property
    def redis(self):
        return self.redis_servers[0]

    async def asyncSetUp(self):
        self.clients = []
        asyncio.get_running_loop().slow_callback_duration = 1.0

    async def asyncTearDown(self):
        for client in self.clients:
            try:
                await client.close()
            except Exception:
                pass

    def document(self, label="doc"):
        return f"{label}-{uuid.uuid4().hex[:10]}"

    async def joined(self, node, document_id, user_id, workspace_id="w1"):
        client = await Client.connect(node.ws_url, f"{user_id}@{node.name}")
        self.clients.append(client)
        snapshot = await client.join(document_id, user_id, workspace_id=workspace_id)
        return client, snapshot

    async def eventually(self, condition, description, timeout=5.0, details=None):
        """Poll `condition` (a plain function) every 50 ms until it returns true."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                extra = f"\n{details()}" if details else ""
                self.fail(f"{description} did not happen within {timeout} s{extra}")
            await asyncio.sleep(0.05)

    def user_ids(self, snapshot):
        return sorted(user["user_id"] for user in snapshot["users"])


class CrossNodeTests(ClusterCase):
    async def test_events_cross_nodes(self):
        document = self.document()
        ada, _ = await self.joined(self.nodes[0], document, "ada")
        bob, snapshot = await self.joined(self.nodes[1], document, "bob")
        self.assertEqual(self.user_ids(snapshot), ["ada", "bob"], "the snapshot lists users on other nodes")
        await ada.next_event("UserJoined", "bob")

        await bob.cursor(document, 7)
        await bob.send({"type": "typing", "document_id": document, "is_typing": True})
        await bob.send({"type": "viewport", "document_id": document,
                        "viewport": {"top_line": 5, "bottom_line": 45, "scroll_percentage": 0.25}})
        await bob.send({"type": "focus", "document_id": document, "focused": False})
        cursor = await ada.next_event("CursorMoved", "bob")
        self.assertEqual(cursor.body["cursor"]["line"], 7)
        typing = await ada.next_event("TypingChanged", "bob")
        self.assertTrue(typing.body["is_typing"])
        viewport = await ada.next_event("ViewportChanged", "bob")
        self.assertEqual(viewport.body["viewport"]["top_line"], 5)
        focus = await ada.next_event("FocusChanged", "bob")
        self.assertFalse(focus.body["focused"])

        await ada.cursor(document, 3)
        moved = await bob.next_event("CursorMoved", "ada")
        self.assertEqual(moved.body["cursor"]["line"], 3)

        await bob.close()
        self.clients.remove(bob)
        await ada.next_event("UserLeft", "bob")

    async def test_keys_fields_and_stream(self):
        document = self.document()
        workspace = f"ws-{uuid.uuid4().hex[:8]}"
        ada, _ = await self.joined(self.nodes[0], document, "ada", workspace)
        bob, _ = await self.joined(self.nodes[1], document, "bob", workspace)
        await ada.next_event("UserJoined", "bob")

        users_key = f"presence:{document}:users"
        records = hash_of(self.redis, users_key)
        self.assertEqual(sorted(records), ["ada", "bob"])
        for user_id, text in records.items():
            record = json.loads(text)
            self.assertEqual(set(record), USER_FIELDS)
            self.assertEqual(record["user_id"], user_id)
            self.assertEqual(record["document_id"], document)
            self.assertEqual(record["workspace_id"], workspace)
        ttl = self.redis.command("TTL", users_key)
        self.assertGreater(ttl, 0)
        self.assertLessEqual(ttl, 30)
        self.assertEqual(self.redis.command("SMEMBERS", f"presence:workspace:{workspace}:documents"), [document])
        last_active = self.redis.command("HGET", "presence:user:ada", document)
        self.assertEqual(int(last_active), json.loads(records["ada"])["last_active_at"])
        self.assertEqual(self.redis.command("HLEN", users_key), 2)

        status, _, body = self.nodes[2].admin_get(f"/internal/presence/{document}")
        self.assertEqual(status, 200, body)
        listing = json.loads(body)
        self.assertEqual(listing["total_count"], 2, "a node without these users reads them from Redis")
        self.assertEqual(sorted(user["user_id"] for user in listing["active_users"]), ["ada", "bob"])

        for client in (ada, bob):
            await client.close()
            self.clients.remove(client)
        await self.eventually(lambda: self.redis.command("EXISTS", users_key) == 0, "the users hash to go")
        self.assertEqual(self.redis.command("SMEMBERS", f"presence:workspace:{workspace}:documents"), [])
        self.assertEqual(self.redis.command("EXISTS", "presence:user:ada"), 0)

        entries = [entry for entry in stream_entries(self.redis) if entry["document_id"] == document]
        for entry in entries:
            self.assertEqual(set(entry), STREAM_FIELDS)
            self.assertEqual(entry["workspace_id"], workspace)
            self.assertGreater(int(entry["timestamp"]), 1_700_000_000_000)
        self.assertEqual([(entry["type"], entry["user_id"]) for entry in entries],
                         [("joined", "ada"), ("joined", "bob"), ("left", "ada"), ("left", "bob")])

    async def test_tabs_on_two_nodes(self):
        document = self.document()
        observer, _ = await self.joined(self.nodes[2], document, "olga")
        first_tab, _ = await self.joined(self.nodes[0], document, "tess")
        await observer.next_event("UserJoined", "tess")
        second_tab, snapshot = await self.joined(self.nodes[1], document, "tess")
        self.assertEqual(self.user_ids(snapshot), ["olga", "tess"])
        await self.eventually(
            lambda: set((self.redis.command("HGET", f"presence:{document}:nodes", "tess") or "").split())
            == {"gw-1", "gw-2"}, "both nodes to hold tess")

        await first_tab.close()
        self.clients.remove(first_tab)
        await self.eventually(
            lambda: self.redis.command("HGET", f"presence:{document}:nodes", "tess") == "gw-2",
            "gw-1 to let go of tess")
        await asyncio.sleep(0.3)
        self.assertEqual(
            [event.kind for event in observer.events if event.user_id == "tess"], ["UserJoined"],
            "closing one of two tabs sends no UserLeft")

        await second_tab.close()
        self.clients.remove(second_tab)
        await observer.next_event("UserLeft", "tess")
        entries = [(entry["type"], entry["user_id"]) for entry in stream_entries(self.redis)
                   if entry["document_id"] == document and entry["user_id"] == "tess"]
        self.assertEqual(entries, [("joined", "tess"), ("left", "tess")])

    async def test_capacity_counts_users_once(self):
        document = self.document()
        await self.joined(self.nodes[0], document, "u1")
        await self.joined(self.nodes[1], document, "u2")
        await self.joined(self.nodes[2], document, "u3")
        with self.assertRaises(GatewayError) as raised:
            await self.joined(self.nodes[0], document, "u4")
        self.assertIn("DocumentAtCapacity", str(raised.exception))
        _, snapshot = await self.joined(self.nodes[0], document, "u2")
        self.assertEqual(self.user_ids(snapshot), ["u1", "u2", "u3"], "a second tab of u2 adds no user")


class FailureTests(ClusterCase):
    node_extra = {}

    async def test_killed_node_users_leave(self):
        document = self.document()
        watcher, _ = await self.joined(self.nodes[0], document, "watcher")
        second, _ = await self.joined(self.nodes[1], document, "second")
        victim_node = self.nodes[2]
        for user_id in ("victim1", "victim2"):
            await self.joined(victim_node, document, user_id)
            await watcher.next_event("UserJoined", user_id)
        # The victim's clients lose their connection with the node; tearDown need not close them.
        self.clients = [client for client in self.clients if not client.label.endswith("@gw-3")]

        kill_hard(victim_node)
        killed_at = time.monotonic()
        for user_id in ("victim1", "victim2"):
            await watcher.next_event("UserLeft", user_id, timeout=NODE_TIMEOUT_MS / 1000 + 3)
        elapsed_ms = (time.monotonic() - killed_at) * 1000
        # The sweep runs within NODE_TIMEOUT_MS of the node's last heartbeat; 500 ms covers delivery on a
        # busy machine.
        self.assertLess(elapsed_ms, NODE_TIMEOUT_MS + 500, f"leaves arrived {elapsed_ms:.0f} ms after the kill")
        for user_id in ("victim1", "victim2"):
            await second.next_event("UserLeft", user_id)

        await asyncio.sleep(1.0)
        self.assertEqual(sorted(hash_of(self.redis, f"presence:{document}:users")), ["second", "watcher"])
        leaves = [entry["user_id"] for entry in stream_entries(self.redis)
                  if entry["document_id"] == document and entry["type"] == "left"]
        self.assertEqual(sorted(leaves), ["victim1", "victim2"], "two survivors, one leave each")
        self.assertEqual(len([event for event in watcher.events if event.kind == "UserLeft"]), 2)
        self.assertIsNone(self.redis.command("ZSCORE", "presence:nodes", "gw-3"))

    async def test_redis_restart_converges(self):
        document = self.document()
        olga, _ = await self.joined(self.nodes[0], document, "olga")
        paul, _ = await self.joined(self.nodes[1], document, "paul")
        await olga.next_event("UserJoined", "paul")

        self.redis.stop()
        await self.eventually(
            lambda: self.nodes[0].admin_get("/readyz")[2].find("degraded") >= 0, "gw-1 to report degraded")
        # Changes on gw-2 while Redis is away: olga cannot see them yet.
        await paul.close()
        self.clients.remove(paul)
        newcomer, snapshot = await self.joined(self.nodes[1], document, "nina")
        self.assertEqual(self.user_ids(snapshot), ["nina"], "gw-2 serves its own clients without Redis")
        await olga.cursor(document, 2)
        await asyncio.sleep(0.3)

        self.redis.start()
        restarted_at = time.monotonic()

        def seen(client, kind, user_id):
            return any(event.kind == kind and event.user_id == user_id for event in client.events)

        await self.eventually(
            lambda: seen(olga, "UserLeft", "paul") and seen(olga, "UserJoined", "nina")
            and seen(newcomer, "UserJoined", "olga"),
            "both nodes to see what changed during the outage", timeout=5,
            details=lambda: f"olga: {olga.events}\nnina: {newcomer.events}\n"
                            f"gw-1: {self.nodes[0].stderr()[-2000:]}\ngw-2: {self.nodes[1].stderr()[-2000:]}")
        self.assertLess(time.monotonic() - restarted_at, 5.0)
        await self.eventually(
            lambda: sorted(hash_of(self.redis, f"presence:{document}:users")) == ["nina", "olga"],
            "Redis to hold the presence of both nodes again")
        await self.eventually(lambda: '"ready"' in self.nodes[0].admin_get("/readyz")[2], "gw-1 to be ready again")

        late, snapshot = await self.joined(self.nodes[0], document, "lena")
        self.assertEqual(self.user_ids(snapshot), ["lena", "nina", "olga"])

    async def test_traffic_during_restart(self):
        document = self.document()
        ada, _ = await self.joined(self.nodes[0], document, "ada")
        bob, _ = await self.joined(self.nodes[1], document, "bob")
        await ada.next_event("UserJoined", "bob")

        async def keep_moving(client, lines):
            for line in range(lines):
                await client.cursor(document, line)
                await asyncio.sleep(0.02)

        moving = asyncio.create_task(keep_moving(bob, 100))
        self.redis.stop()
        await asyncio.sleep(0.5)
        self.redis.start()
        await moving
        await bob.cursor(document, 500)
        final = await ada.next_event("CursorMoved", "bob", where=lambda body: body["cursor"]["line"] == 500,
                                     timeout=5)
        self.assertEqual(final.body["cursor"]["line"], 500)
        self.assertEqual([event.kind for event in ada.events if event.user_id == "bob" and event.kind != "CursorMoved"
                          and event.kind != "ActivityChanged"], ["UserJoined"], "bob never left ada's view")


class ShutdownTests(ClusterCase):
    node_names = ("gw-stay", "gw-stop")
    node_extra = {}

    async def test_stopped_node_leaves_at_once(self):
        document = self.document()
        staying, _ = await self.joined(self.nodes[0], document, "stays")
        await self.joined(self.nodes[1], document, "goes")
        await staying.next_event("UserJoined", "goes")
        self.clients = [client for client in self.clients if not client.label.endswith("@gw-stop")]

        stopped_at = time.monotonic()
        # stop() blocks until the process exits, so it runs on a thread while the client reads.
        stopping = asyncio.create_task(asyncio.to_thread(self.nodes[1].stop))
        left = await staying.next_event("UserLeft", "goes", timeout=NODE_TIMEOUT_MS / 1000)
        self.assertLess(left.arrived_s - stopped_at, 1.0, "SIGTERM announces the leave without waiting for the sweep")
        self.assertEqual(await stopping, 0)
        self.assertIsNone(self.redis.command("ZSCORE", "presence:nodes", "gw-stop"))
        self.assertEqual(sorted(hash_of(self.redis, f"presence:{document}:users")), ["stays"])
        self.assertEqual(self.redis.command("HLEN", "presence:node:gw-stop:members"), 0)


class BurstTests(ClusterCase):
    """Two fresh nodes whose rooms all open at once, while relayed joins race each room's first load."""

    node_names = ("gw-burst-a", "gw-burst-b")
    node_extra = {"log": {"level": "warning"}}

    def test_simultaneous_joins_on_two_nodes_converge(self):
        if not BENCH_BINARY.exists():
            self.fail(f"{BENCH_BINARY} not found; build it with `swift build -c release --product presence-bench` "
                      "or set PRESENCE_BENCH_BIN")
        with tempfile.TemporaryDirectory(prefix="presence-burst-") as directory:
            report_path = pathlib.Path(directory) / "churn.json"
            run = subprocess.run(
                [str(BENCH_BINARY), "churn", "--url", self.nodes[0].ws_url, "--url", self.nodes[1].ws_url,
                 "--connections", "200", "--documents", "10", "--rate", "50", "--duration", "1", "--hold", "3",
                 "--seed", "1", "--json", str(report_path)],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(run.returncode, 0, run.stderr)
            report = json.loads(report_path.read_text())
        self.assertTrue(report["results"]["all_views_match"], f"views differ from the truth:\n{run.stdout}")


class ShardingTests(ClusterCase):
    redis_count = 2
    node_names = ("gw-s1", "gw-s2")
    node_extra = {}

    async def test_documents_spread_over_shards(self):
        documents = [self.document("shard") for _ in range(12)]
        owners = []
        for document in documents:
            ada, _ = await self.joined(self.nodes[0], document, "ada")
            bob, snapshot = await self.joined(self.nodes[1], document, "bob")
            self.assertEqual(self.user_ids(snapshot), ["ada", "bob"])
            await bob.cursor(document, 9)
            moved = await ada.next_event("CursorMoved", "bob", document_id=document)
            self.assertEqual(moved.body["cursor"]["line"], 9)
            holding = [index for index, server in enumerate(self.redis_servers)
                       if server.command("HLEN", f"presence:{document}:users") == 2]
            self.assertEqual(len(holding), 1, f"{document} must live on exactly one shard")
            owners.append(holding[0])
            subscribed = [server.command("PUBSUB", "NUMSUB", f"presence:channel:{document}")[1]
                          for server in self.redis_servers]
            self.assertEqual(subscribed[holding[0]], 2, "both nodes subscribe on the document's shard")
            self.assertEqual(subscribed[1 - holding[0]], 0)
        self.assertEqual(sorted(set(owners)), [0, 1], f"12 documents should use both shards: {owners}")
        for index, server in enumerate(self.redis_servers):
            own = [document for document, owner in zip(documents, owners) if owner == index]
            entries = {entry["document_id"] for entry in stream_entries(server)}
            self.assertEqual(entries, set(own), "each shard's stream has its own documents' events")


if __name__ == "__main__":
    unittest.main()
