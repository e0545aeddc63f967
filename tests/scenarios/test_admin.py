"""The admin listener: presence queries, health, the admin token, and the Prometheus metrics."""

import json
import re
import time
import urllib.parse

from client import ScenarioCase

SUMMARY_FIELDS = {"user_id", "name", "avatar_url", "activity", "last_active_at"}


def now_ms():
    return int(time.time() * 1000)


def metric_samples(text, name):
    """Return {labels text: value} for every sample of metric `name` in Prometheus text format."""
    samples = {}
    for line in text.splitlines():
        match = re.fullmatch(re.escape(name) + r"(\{[^}]*\})?\s+(\S+)", line)
        if match:
            samples[match.group(1) or ""] = float(match.group(2))
    return samples


class AdminRouteTests(ScenarioCase):
    def get_json(self, path):
        status, headers, body = self.gateway.admin_get(path)
        self.assertEqual(status, 200, body)
        self.assertIn("application/json", headers.get("content-type", ""))
        return json.loads(body)

    async def test_document_presence_has_design_fields(self):
        document = self.document()
        await self.joined(document, "ada", name="Ada Lovelace", avatar_url="https://example.com/ada.png")
        await self.joined(document, "grace", name="Grace Hopper")
        before = now_ms()
        response = self.get_json(f"/internal/presence/{document}")

        self.assertEqual(set(response), {"document_id", "active_users", "total_count", "timestamp"})
        self.assertEqual(response["document_id"], document)
        self.assertEqual(response["total_count"], 2)
        self.assertLess(abs(response["timestamp"] - before), 5000, "timestamp is milliseconds since the epoch")
        users = {user["user_id"]: user for user in response["active_users"]}
        self.assertEqual(set(users), {"ada", "grace"})
        for user in users.values():
            self.assertEqual(set(user), SUMMARY_FIELDS)
            self.assertEqual(user["activity"], "Viewing")
            self.assertLess(abs(user["last_active_at"] - before), 5000)
        self.assertEqual(users["ada"]["name"], "Ada Lovelace")
        self.assertEqual(users["ada"]["avatar_url"], "https://example.com/ada.png")
        self.assertIsNone(users["grace"]["avatar_url"])

    async def test_document_presence_shows_activity(self):
        document = self.document()
        ada, _ = await self.joined(document, "ada")
        await ada.send({"type": "typing", "document_id": document, "is_typing": True})
        await ada.ping()
        await self.settle(0.1)
        users = self.get_json(f"/internal/presence/{document}")["active_users"]
        self.assertEqual(users[0]["activity"], "Editing")

    async def test_unknown_document_is_empty(self):
        response = self.get_json(f"/internal/presence/{self.document('nobody')}")
        self.assertEqual(response["active_users"], [])
        self.assertEqual(response["total_count"], 0)

    async def test_percent_encoded_document_id(self):
        document = self.document() + " with space/and slash"
        await self.joined(document, "ada")
        response = self.get_json("/internal/presence/" + urllib.parse.quote(document, safe=""))
        self.assertEqual(response["document_id"], document)
        self.assertEqual(response["total_count"], 1)

    async def test_workspace_documents_with_counts(self):
        workspace = self.document("workspace")
        first, second = self.document("first"), self.document("second")
        await self.joined(first, "ada", workspace_id=workspace)
        await self.joined(first, "grace", workspace_id=workspace)
        await self.joined(first, "grace", label="grace tab 2", workspace_id=workspace)
        leaver, _ = await self.joined(second, "linus", workspace_id=workspace)
        response = self.get_json(f"/internal/presence/workspace/{workspace}/documents")

        self.assertEqual(response["workspace_id"], workspace)
        counts = {entry["document_id"]: entry["active_users"] for entry in response["documents"]}
        self.assertEqual(counts, {first: 2, second: 1})

        await leaver.close()
        await self.settle(0.1)
        response = self.get_json(f"/internal/presence/workspace/{workspace}/documents")
        self.assertEqual([entry["document_id"] for entry in response["documents"]], [first],
                         "an emptied document is no longer active")

    async def test_user_documents_with_last_active(self):
        user_id = self.document("user")
        first, second = self.document("first"), self.document("second")
        client = await self.connect(user_id)
        await client.join(first, user_id)
        await client.join(second, user_id)
        response = self.get_json(f"/internal/presence/user/{user_id}")

        self.assertEqual(response["user_id"], user_id)
        documents = {entry["document_id"]: entry["last_active_at"] for entry in response["documents"]}
        self.assertEqual(set(documents), {first, second})
        for last_active_at in documents.values():
            self.assertLess(abs(last_active_at - now_ms()), 5000)

        await client.send({"type": "leave", "document_id": first})
        await client.ping()
        await self.settle(0.1)
        response = self.get_json(f"/internal/presence/user/{user_id}")
        self.assertEqual([entry["document_id"] for entry in response["documents"]], [second])

    async def test_health_and_readiness(self):
        status, _, body = self.gateway.admin_get("/healthz", token="")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "ok"})
        ready = self.get_json("/readyz")
        self.assertEqual(ready, {"status": "ready"})

    async def test_token_required_except_healthz(self):
        document = self.document()
        paths = ["/readyz", "/metrics", f"/internal/presence/{document}",
                 "/internal/presence/workspace/w1/documents", "/internal/presence/user/ada"]
        for path in paths:
            for token in ("", "wrong-token", self.gateway.token + "x"):
                with self.subTest(path=path, token=token):
                    status, headers, body = self.gateway.admin_get(path, token=token)
                    self.assertEqual(status, 401)
                    self.assertEqual(headers.get("www-authenticate"), "Bearer")
                    self.assertNotIn(self.gateway.token, body, "the token must not be echoed")
            with self.subTest(path=path, token="right"):
                status, _, _ = self.gateway.admin_get(path)
                self.assertEqual(status, 200)


class MetricsTests(ScenarioCase):
    def metrics(self):
        status, headers, body = self.gateway.admin_get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn("text/plain", headers.get("content-type", ""))
        return body

    async def test_active_users_per_document_vanish_when_empty(self):
        document = self.document()
        labels = f'{{document_id="{document}",workspace_id="w1"}}'
        ada, _ = await self.joined(document, "ada")
        grace, _ = await self.joined(document, "grace")
        tab2, _ = await self.joined(document, "grace", label="grace tab 2")
        self.assertEqual(metric_samples(self.metrics(), "materi_presence_active_users").get(labels), 2,
                         "a second tab is not another user")

        await grace.close()
        await tab2.close()
        await ada.next_event("UserLeft", "grace")
        self.assertEqual(metric_samples(self.metrics(), "materi_presence_active_users").get(labels), 1)

        await ada.close()
        await self.settle(0.1)
        self.assertNotIn(labels, metric_samples(self.metrics(), "materi_presence_active_users"),
                         "an emptied document's series must go")

    async def test_updates_total_counts_by_event_type(self):
        document = self.document()
        ada, _ = await self.joined(document, "ada")
        before = metric_samples(self.metrics(), "materi_presence_updates_total")
        for line in range(5):
            await ada.cursor(document, line)
        await ada.send({"type": "typing", "document_id": document})
        await ada.ping()
        after = metric_samples(self.metrics(), "materi_presence_updates_total")

        cursor, typing = '{event_type="cursor"}', '{event_type="typing"}'
        self.assertEqual(after[cursor] - before.get(cursor, 0), 5)
        self.assertEqual(after[typing] - before.get(typing, 0), 1)

    async def test_cursor_latency_histogram_observes_broadcasts(self):
        document = self.document()
        ada, _ = await self.joined(document, "ada")
        grace, _ = await self.joined(document, "grace")
        name = "materi_cursor_update_latency_seconds"
        before = metric_samples(self.metrics(), name + "_count").get("", 0)
        await ada.cursor(document, 1)
        await grace.next_event("CursorMoved", "ada")
        text = self.metrics()

        self.assertIn(f"# TYPE {name} histogram", text)
        self.assertGreater(metric_samples(text, name + "_count")[""], before)
        buckets = metric_samples(text, name + "_bucket")
        self.assertEqual(set(buckets), {f'{{le="{bound}"}}' for bound in ("0.005", "0.01", "0.025", "0.05", "0.1",
                                                                         "+Inf")})
