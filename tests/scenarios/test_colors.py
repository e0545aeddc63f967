"""Default colours: hsl(H, 70%, 50%) with H = SeaHash(user id) % 360, computed here independently."""

import unittest

from client import ScenarioCase
from seahash import default_color, seahash

# Ids of several lengths, so every lane and a partial last word are used, and non-ASCII UTF-8.
USER_IDS = ["a", "u1", "ada-lovelace", "grace-hopper", "12345678", "123456789", "x" * 31, "x" * 32, "x" * 33,
            "user@example.com", "Zoë", "ユーザー", "🦊-fox"]


class SeaHashTests(unittest.TestCase):
    def test_reference_vector(self):
        self.assertEqual(seahash(b"to be or not to be"), 1988685042348123509)

    def test_empty_input_differs_from_one_zero_byte(self):
        self.assertNotEqual(seahash(b""), seahash(b"\x00"))


class DefaultColorTests(ScenarioCase):
    async def test_snapshot_colour_matches_seahash(self):
        document = self.document()
        for user_id in USER_IDS:
            _, snapshot = await self.joined(document, user_id)
            self.assertEqual(snapshot["self"]["color"], default_color(user_id), f"colour of {user_id!r}")

    async def test_joined_event_carries_same_colour(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        await self.joined(document, "grace-hopper")
        joined = await observer.next_event("UserJoined", "grace-hopper")
        self.assertEqual(joined.body["color"], default_color("grace-hopper"))
        self.assertEqual(joined.body["color"], "hsl(" + str(seahash(b"grace-hopper") % 360) + ", 70%, 50%)")

    async def test_colour_same_in_every_document(self):
        first, second = self.document("first"), self.document("second")
        _, one = await self.joined(first, "ada-lovelace")
        _, two = await self.joined(second, "ada-lovelace", label="ada in second")
        self.assertEqual(one["self"]["color"], two["self"]["color"])
