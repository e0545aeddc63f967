"""Who may see whom: the token fixes the identity and the workspaces and documents a user may join."""

import asyncio

from support import POOL, LimitsCase, keys
from test_tokens import hs256_gateway


def open_gateway():
    return POOL.get("auth-none", {"auth": {"mode": "none"}})


class TokenAccessTests(LimitsCase):
    async def connect_with(self, label, **claims):
        return await self.connect(hs256_gateway(), label, query=f"?token={keys().token(**claims)}")

    async def test_join_cannot_override_token_identity(self):
        document = self.document()
        observer = await self.connect_with("observer", sub="observer", name="Observer")
        self.assertEqual((await observer.join(document, "observer"))["event_type"], "snapshot")

        ada = await self.connect_with("ada", sub="ada", name="Ada", avatar_url="https://example.com/ada.png")
        snapshot = await ada.join(document, user_id="mallory", name="Mallory")
        self.assertEqual(snapshot["payload"]["self"]["user_id"], "ada")
        self.assertEqual(snapshot["payload"]["self"]["name"], "Ada")
        self.assertEqual(snapshot["payload"]["self"]["avatar_url"], "https://example.com/ada.png")

        joined = await observer.next_event("UserJoined")
        self.assertEqual(joined["user_id"], "ada")
        self.assertEqual(joined["name"], "Ada")

    async def test_picture_claim_fills_avatar(self):
        client = await self.connect_with("ada", picture="https://example.com/p.png")
        snapshot = await client.join(self.document())
        self.assertEqual(snapshot["payload"]["self"]["avatar_url"], "https://example.com/p.png")

    async def test_join_may_leave_identity_to_token(self):
        client = await self.connect_with("ada", sub="ada", name="Ada")
        document = self.document()
        await client.send({"type": "join", "document_id": document, "workspace_id": "w1"})
        snapshot = await client.next_message(
            lambda body: body.get("document_id") == document and body["event_type"] in ("snapshot", "error"),
            "snapshot of a join without user_id and name")
        self.assertEqual(snapshot["event_type"], "snapshot", snapshot)
        self.assertEqual(snapshot["payload"]["self"]["user_id"], "ada")
        self.assertEqual(snapshot["payload"]["self"]["name"], "Ada")

    async def test_join_outside_token_workspace_is_forbidden(self):
        client = await self.connect_with("ada", workspace_id="w1")
        answer = await client.join(self.document(), workspace_id="w2")
        self.assertEqual(answer["event_type"], "error")
        self.assertEqual(answer["payload"]["code"], "Forbidden")
        self.assertIn("\"w2\"", answer["payload"]["message"])
        await client.ping()

    async def test_workspaces_array_allows_each_workspace(self):
        client = await self.connect_with("ada", workspace_id=None, workspaces=["w2", "w3"])
        self.assertEqual((await client.join(self.document(), workspace_id="w2"))["event_type"], "snapshot")
        self.assertEqual((await client.join(self.document("other"), workspace_id="w3"))["event_type"], "snapshot")
        answer = await client.join(self.document("third"), workspace_id="w1")
        self.assertEqual(answer["payload"]["code"], "Forbidden")

    async def test_documents_claim_narrows_joins(self):
        allowed = self.document("allowed")
        client = await self.connect_with("ada", documents=[allowed])
        self.assertEqual((await client.join(allowed))["event_type"], "snapshot")
        answer = await client.join(self.document("other"))
        self.assertEqual(answer["event_type"], "error")
        self.assertEqual(answer["payload"]["code"], "Forbidden")

    async def test_forbidden_user_sees_no_events(self):
        document = self.document()
        member = await self.connect_with("member", sub="member", workspace_id="w1")
        await member.join(document)
        outsider = await self.connect_with("outsider", sub="outsider", workspace_id="w2")
        answer = await outsider.join(document, workspace_id="w1")
        self.assertEqual(answer["payload"]["code"], "Forbidden")

        await member.send({"type": "cursor", "document_id": document,
                           "cursor": {"line": 1, "column": 2, "offset": 3}, "selection": None})
        await asyncio.sleep(0.3)
        await outsider.ping()
        presence = [body for body in outsider.messages if body["event_type"] == "presence"]
        self.assertEqual(presence, [], "a user refused a document must receive none of its events")

    async def test_forbidden_user_cannot_send_to_document(self):
        document = self.document()
        member = await self.connect_with("member", sub="member")
        await member.join(document)
        outsider = await self.connect_with("outsider", sub="outsider", documents=["elsewhere"])
        answer = await outsider.join(document)
        self.assertEqual(answer["payload"]["code"], "Forbidden")
        await outsider.send({"type": "typing", "document_id": document, "is_typing": True})
        error = await outsider.next_error()
        self.assertEqual(error["payload"]["code"], "NotJoined")


class DevelopmentModeTests(LimitsCase):
    async def test_mode_none_takes_identity_from_join(self):
        client = await self.connect(open_gateway())
        snapshot = await client.join(self.document(), user_id="anyone", workspace_id="any-workspace", name="Anyone")
        self.assertEqual(snapshot["payload"]["self"]["user_id"], "anyone")
        self.assertEqual(snapshot["payload"]["self"]["name"], "Anyone")

    async def test_mode_none_join_needs_user_id(self):
        client = await self.connect(open_gateway())
        document = self.document()
        await client.send({"type": "join", "document_id": document, "workspace_id": "w1", "name": "Anyone", "ref": 4})
        error = await client.next_error()
        self.assertEqual(error["payload"]["code"], "InvalidMessage")
        self.assertEqual(error["payload"]["ref"], 4)
        self.assertIn('missing field "user_id"', error["payload"]["message"])
        snapshot = await client.join(document, user_id="anyone", name="Anyone")
        self.assertEqual(snapshot["event_type"], "snapshot", "the connection stays usable")

    async def test_mode_none_logs_warning_at_start(self):
        self.assertIn("authentication is off", open_gateway().log())
