"""Capacity counts distinct users, not tabs; a connection joins a bounded number of documents."""

import asyncio

from client import ScenarioCase
from gateway import POOL

MAX_USERS = 3
MAX_DOCUMENTS = 3


def limits_gateway():
    return POOL.get("limits", {"presence": {"max_users_per_document": MAX_USERS},
                               "server": {"max_documents_per_connection": MAX_DOCUMENTS}})


class CapacityTests(ScenarioCase):
    @classmethod
    def start_gateway(cls):
        return limits_gateway()

    async def fill(self, document):
        clients = []
        for index in range(MAX_USERS):
            client, _ = await self.joined(document, f"user-{index}")
            clients.append(client)
        return clients

    async def test_next_user_gets_document_at_capacity(self):
        document = self.document()
        members = await self.fill(document)
        extra = await self.connect("extra")
        await extra.send({"type": "join", "document_id": document, "workspace_id": "w1", "user_id": "extra",
                          "name": "Extra", "ref": "join-1"})
        error = await extra.next_error()

        self.assertEqual(error["document_id"], document)
        self.assertEqual(error["payload"]["code"], "DocumentAtCapacity")
        self.assertEqual(error["payload"]["ref"], "join-1")
        self.assertIn(f"maximum {MAX_USERS} users", error["payload"]["message"])
        await self.settle()
        for member in members:
            self.assertEqual(member.events_since(0, user_id="extra"), [], "a rejected user must not be announced")
        await extra.ping()

    async def test_simultaneous_joins_admit_up_to_maximum(self):
        document = self.document()
        first, _ = await self.joined(document, "user-0")
        contenders = [await self.connect(f"contender-{index}") for index in range(4)]
        await asyncio.gather(*(client.send({"type": "join", "document_id": document, "workspace_id": "w1",
                                            "user_id": client.label, "name": client.label})
                               for client in contenders))
        replies = [await client.next_message(lambda body: body["event_type"] in ("snapshot", "error"))
                   for client in contenders]
        kinds = sorted(reply["event_type"] for reply in replies)
        self.assertEqual(kinds, ["error", "error", "snapshot", "snapshot"])
        for reply in replies:
            if reply["event_type"] == "error":
                self.assertEqual(reply["payload"]["code"], "DocumentAtCapacity")

    async def test_second_tab_of_admitted_user_joins_full_document(self):
        document = self.document()
        members = await self.fill(document)
        tab2, snapshot = await self.joined(document, "user-0", label="user-0 tab 2")
        self.assertEqual(len(snapshot["users"]), MAX_USERS)
        await tab2.cursor(document, 5)
        moved = await members[1].next_event("CursorMoved", "user-0")
        self.assertEqual(moved.body["cursor"]["line"], 5)

    async def test_rejected_connection_can_still_move_elsewhere(self):
        document = self.document()
        await self.fill(document)
        extra = await self.connect("extra")
        await extra.send({"type": "join", "document_id": document, "workspace_id": "w1", "user_id": "extra",
                          "name": "Extra"})
        await extra.next_error()
        await extra.cursor(document, 1)
        not_joined = await extra.next_error()
        self.assertEqual(not_joined["payload"]["code"], "NotJoined")

        other = self.document("other")
        snapshot = await extra.join(other, "extra")
        self.assertEqual([user["user_id"] for user in snapshot["users"]], ["extra"])

    async def test_place_frees_when_user_leaves(self):
        document = self.document()
        members = await self.fill(document)
        await members[0].close()
        await members[1].next_event("UserLeft", "user-0")
        _, snapshot = await self.joined(document, "newcomer")
        self.assertEqual(len(snapshot["users"]), MAX_USERS)


class DocumentsPerConnectionTests(ScenarioCase):
    @classmethod
    def start_gateway(cls):
        return limits_gateway()

    async def test_connection_limited_to_max_documents(self):
        client = await self.connect("ada")
        documents = [self.document(f"d{index}") for index in range(MAX_DOCUMENTS + 1)]
        for document in documents[:MAX_DOCUMENTS]:
            await client.join(document, "ada")
        await client.send({"type": "join", "document_id": documents[-1], "workspace_id": "w1", "user_id": "ada",
                           "name": "Ada", "ref": 99})
        error = await client.next_error()
        self.assertEqual(error["payload"]["code"], "InvalidMessage")
        self.assertEqual(error["payload"]["ref"], 99)
        self.assertIn("max_documents_per_connection", error["payload"]["message"])
        self.assertEqual(error["document_id"], documents[-1])

        # Joining one of the same documents again is not a new document; leaving one frees a place.
        await client.join(documents[0], "ada")
        await client.send({"type": "leave", "document_id": documents[0]})
        snapshot = await client.join(documents[-1], "ada")
        self.assertEqual(snapshot["self"]["document_id"], documents[-1])

    async def test_connection_in_several_documents_gets_each(self):
        client = await self.connect("ada")
        first, second = self.document("first"), self.document("second")
        await client.join(first, "ada")
        await client.join(second, "ada")
        grace, _ = await self.joined(second, "grace")
        await grace.cursor(second, 8)
        moved = await client.next_event("CursorMoved", "grace")
        self.assertEqual(moved.document_id, second)
        self.assertEqual(client.events_since(0, document_id=first), [])
