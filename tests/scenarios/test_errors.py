"""Bad messages get an error that names the field and echoes `ref`, and the connection stays open."""

import json

from client import ScenarioCase, position

DOCUMENT_PLACEHOLDER = "{document}"


def cursor_message(cursor, selection=None, **extra):
    message = {"type": "cursor", "document_id": DOCUMENT_PLACEHOLDER, "cursor": cursor, "selection": selection}
    message.update(extra)
    return message


def viewport_message(viewport):
    return {"type": "viewport", "document_id": DOCUMENT_PLACEHOLDER, "viewport": viewport}


def join_message(**fields):
    message = {"type": "join", "document_id": "other-doc", "workspace_id": "w1", "user_id": "ada", "name": "Ada"}
    message.update(fields)
    return {key: value for key, value in message.items() if value is not None}


# (case, message or raw text, expected code, text the error message must contain). Dict messages get
# a numeric `ref`, which the error must echo; raw texts cannot carry one that the gateway can read.
MALFORMED = [
    ("missing type", {"document_id": DOCUMENT_PLACEHOLDER}, "InvalidMessage", '"type"'),
    ("type not a string", {"type": 7}, "InvalidMessage", '"type"'),
    ("unknown type", {"type": "wave"}, "UnknownMessageType", '"wave"'),
    ("unknown top-level field", cursor_message(position(1), is_typing=True), "InvalidMessage", '"is_typing"'),
    ("join without user_id", join_message(user_id=None), "InvalidMessage", '"user_id"'),
    ("join with empty name", join_message(name=""), "InvalidMessage", '"name"'),
    ("join with misspelt field", join_message(nmae="Ada"), "InvalidMessage", '"nmae"'),
    ("cursor without cursor", {"type": "cursor", "document_id": DOCUMENT_PLACEHOLDER}, "InvalidMessage", '"cursor"'),
    ("negative line", cursor_message({"line": -1, "column": 0, "offset": 0}), "InvalidMessage", "cursor.line"),
    ("fractional column", cursor_message({"line": 1, "column": 1.5, "offset": 0}), "InvalidMessage",
     "cursor.column"),
    ("offset above 2^32 - 1", cursor_message({"line": 1, "column": 0, "offset": 2 ** 32}), "InvalidMessage",
     "cursor.offset"),
    ("line as a string", cursor_message({"line": "3", "column": 0, "offset": 0}), "InvalidMessage", "cursor.line"),
    ("selection without is_backward",
     cursor_message(position(2), {"anchor": position(1), "head": position(2)}), "InvalidMessage",
     "selection.is_backward"),
    ("typing flag not a boolean", {"type": "typing", "document_id": DOCUMENT_PLACEHOLDER, "is_typing": "yes"},
     "InvalidMessage", "is_typing"),
    ("focus without focused", {"type": "focus", "document_id": DOCUMENT_PLACEHOLDER}, "InvalidMessage",
     '"focused"'),
    ("viewport bottom above top", viewport_message({"top_line": 9, "bottom_line": 3, "scroll_percentage": 0}),
     "InvalidMessage", "viewport.bottom_line"),
    ("ref as an object", {"type": "ping", "ref": {"id": 1}}, "InvalidMessage", '"ref"'),
    ("control character in name", join_message(name="Ada\u0007"), "InvalidMessage", '"name"'),
    ("newline in document_id", join_message(document_id="line\nbreak"), "InvalidMessage", '"document_id"'),
    ("avatar_url over 2048 bytes", join_message(avatar_url="https://example.com/" + "a" * 2030), "InvalidMessage",
     '"avatar_url"'),
]

# A number that is finite as a double but not as the 32-bit float a viewport stores.
BEYOND_FLOAT = ('{"type":"viewport","document_id":"%s","viewport":'
                '{"top_line":0,"bottom_line":1,"scroll_percentage":3.5e38},"ref":"nf-float"}')
# Numbers JSON's grammar allows that overflow a double, so they parse as infinity or fail to parse.
BEYOND_DOUBLE = [
    ("positive", '{"type":"viewport","document_id":"%s","viewport":'
                 '{"top_line":0,"bottom_line":1,"scroll_percentage":1e400},"ref":"nf-1"}', "nf-1"),
    ("negative", '{"type":"viewport","document_id":"%s","viewport":'
                 '{"top_line":0,"bottom_line":1,"scroll_percentage":-1e400},"ref":"nf-2"}', "nf-2"),
]

UNPARSEABLE = [
    ("truncated JSON", '{"type":"cursor",', "JSON"),
    ("NaN literal", '{"type":"viewport","document_id":"d","viewport":{"top_line":0,"bottom_line":1,'
                    '"scroll_percentage":NaN}}', "JSON"),
    ("array", "[1, 2]", "object"),
    ("string", '"join"', "object"),
    ("duplicate key", '{"type":"ping","type":"ping"}', "type"),
    ("nesting deeper than 32", '{"type":"ping","ref":' + "[" * 40 + "]" * 40 + "}", "JSON"),
    ("lone surrogate", '{"type":"join","document_id":"\\ud800","workspace_id":"w","user_id":"u","name":"n"}',
     "JSON"),
]


class MalformedMessageTests(ScenarioCase):
    async def member_pair(self):
        document = self.document()
        client, _ = await self.joined(document, "ada")
        other, _ = await self.joined(document, "grace")
        return document, client, other

    async def assert_still_open(self, document, client, other):
        """Check that the connection replies to pings and still receives the document's events."""
        await client.ping()
        mark = client.mark()
        await other.cursor(document, 42)
        moved = await client.next_event("CursorMoved", "grace")
        self.assertEqual(moved.body["cursor"]["line"], 42)
        self.assertIsNone(client.close_code)
        self.assertGreater(len(client.events_since(mark)), 0)

    async def test_each_malformed_message_names_field(self):
        document, client, other = await self.member_pair()
        for ref, (case, message, code, named) in enumerate(MALFORMED):
            with self.subTest(case):
                text = json.dumps(dict(message, ref=ref) if "ref" not in message else message)
                await client.send_raw(text.replace(DOCUMENT_PLACEHOLDER, document))
                error = await client.next_error()
                self.assertEqual(error["payload"]["code"], code, error)
                self.assertIn(named, error["payload"]["message"])
                if "ref" not in message:
                    self.assertEqual(error["payload"]["ref"], ref)
        await self.assert_still_open(document, client, other)

    async def test_error_carries_document_of_bad_message(self):
        document, client, other = await self.member_pair()
        await client.send(dict(cursor_message({"line": -4, "column": 0, "offset": 0}), document_id=document,
                               ref="bad-line"))
        error = await client.next_error()
        self.assertEqual(error["document_id"], document)
        self.assertEqual(error["payload"]["ref"], "bad-line")
        self.assertIn("-4", error["payload"]["message"])

    async def test_unparseable_messages_keep_connection(self):
        document, client, other = await self.member_pair()
        for case, text, named in UNPARSEABLE:
            with self.subTest(case):
                await client.send_raw(text)
                error = await client.next_error()
                self.assertEqual(error["payload"]["code"], "InvalidMessage")
                self.assertIn(named, error["payload"]["message"])
                self.assertNotIn("ref", error["payload"])
        await self.assert_still_open(document, client, other)

    async def test_number_beyond_float_rejected(self):
        document, client, other = await self.member_pair()
        await client.send_raw(BEYOND_FLOAT % document)
        error = await client.next_error()
        self.assertEqual(error["payload"]["code"], "InvalidMessage")
        self.assertIn("viewport.scroll_percentage", error["payload"]["message"])
        self.assertEqual(error["payload"]["ref"], "nf-float")
        await self.settle()
        self.assertEqual(other.events_since(0, kind="ViewportChanged"), [], "a rejected viewport must not spread")
        await self.assert_still_open(document, client, other)

    async def test_number_beyond_double_names_field(self):
        """1e400 is valid JSON; the reply names the field that cannot hold it and echoes the ref."""
        document, client, other = await self.member_pair()
        for case, template, ref in BEYOND_DOUBLE:
            with self.subTest(case):
                await client.send_raw(template % document)
                error = await client.next_error()
                self.assertEqual(error["payload"]["code"], "InvalidMessage")
                self.assertIn("viewport.scroll_percentage", error["payload"]["message"])
                self.assertEqual(error["payload"].get("ref"), ref)
        await self.assert_still_open(document, client, other)

    async def test_ids_over_128_bytes_rejected(self):
        document, client, other = await self.member_pair()
        cases = [
            ("document_id", join_message(document_id="d" * 129)),
            ("document_id", join_message(document_id="€" * 43)),  # 43 characters, 129 bytes
            ("workspace_id", join_message(workspace_id="w" * 129)),
            ("user_id", join_message(user_id="u" * 129)),
            ("document_id", {"type": "cursor", "document_id": "d" * 200, "cursor": position(1)}),
        ]
        for ref, (field, message) in enumerate(cases):
            with self.subTest(field=field, ref=ref):
                await client.send(dict(message, ref=ref))
                error = await client.next_error()
                self.assertEqual(error["payload"]["code"], "InvalidMessage")
                self.assertIn(f'"{field}"', error["payload"]["message"])
                self.assertIn("128", error["payload"]["message"])
                self.assertEqual(error["payload"]["ref"], ref)
        await self.assert_still_open(document, client, other)

    async def test_ids_of_128_bytes_accepted(self):
        client = await self.connect("long ids")
        document = ("d" + self.document())[:1] + "x" * 127
        snapshot = await client.join(document, "u" * 128, workspace_id="w" * 128)
        self.assertEqual(snapshot["self"]["user_id"], "u" * 128)
        self.assertEqual(snapshot["self"]["document_id"], document)

    async def test_names_over_256_characters_rejected(self):
        document, client, other = await self.member_pair()
        for ref, name in enumerate(["n" * 257, "é" * 257]):
            with self.subTest(length=len(name), ref=ref):
                await client.send(join_message(name=name, ref=ref))
                error = await client.next_error()
                self.assertEqual(error["payload"]["code"], "InvalidMessage")
                self.assertIn('"name"', error["payload"]["message"])
                self.assertIn("256", error["payload"]["message"])
                self.assertEqual(error["payload"]["ref"], ref)
        await self.assert_still_open(document, client, other)

    async def test_name_of_256_characters_accepted(self):
        client = await self.connect("long name")
        # 256 characters of two bytes each: the limit counts characters, not bytes.
        snapshot = await client.join(self.document(), "ada", name="é" * 256)
        self.assertEqual(snapshot["self"]["name"], "é" * 256)

    async def test_update_before_join_is_not_joined(self):
        document, client, other = await self.member_pair()
        unjoined = self.document("unjoined")
        messages = [
            {"type": "cursor", "document_id": unjoined, "cursor": position(1), "ref": "c"},
            {"type": "typing", "document_id": unjoined, "ref": "t"},
            {"type": "viewport", "document_id": unjoined,
             "viewport": {"top_line": 0, "bottom_line": 1, "scroll_percentage": 0}, "ref": "v"},
            {"type": "focus", "document_id": unjoined, "focused": False, "ref": "f"},
        ]
        for message in messages:
            with self.subTest(message["type"]):
                await client.send(message)
                error = await client.next_error()
                self.assertEqual(error["payload"]["code"], "NotJoined")
                self.assertEqual(error["payload"]["ref"], message["ref"])
                self.assertEqual(error["document_id"], unjoined)
                self.assertIn(unjoined, error["payload"]["message"])
        await self.assert_still_open(document, client, other)

    async def test_rejected_join_leaves_connection_unjoined(self):
        client = await self.connect("ada")
        document = self.document()
        await client.send(join_message(document_id=document, name="n" * 300, ref="j"))
        await client.next_error()
        await client.cursor(document, 1)
        error = await client.next_error()
        self.assertEqual(error["payload"]["code"], "NotJoined")

    async def test_workspace_mismatch_rejected(self):
        document, client, other = await self.member_pair()
        intruder = await self.connect("intruder")
        await intruder.send(join_message(document_id=document, workspace_id="w2", user_id="eve", ref="ws"))
        error = await intruder.next_error()
        self.assertEqual(error["payload"]["code"], "InvalidMessage")
        self.assertEqual(error["payload"]["ref"], "ws")
        self.assertIn("w2", error["payload"]["message"])
        await intruder.ping()
