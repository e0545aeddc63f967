"""Order and consistency: one order per document, and snapshot plus later events equal the truth."""

import asyncio
import copy
import random

from client import ScenarioCase, position, selection

ACTORS = ["ada", "grace", "linus"]
ACTIONS_PER_ACTOR = 60
# Compared between a member's view and the truth; timestamps are not carried by events.
COMPARED_FIELDS = ["user_id", "document_id", "workspace_id", "name", "avatar_url", "color", "state", "cursor",
                   "selection"]


def apply_event(users, event):
    """Apply one presence event to a dict of user id to UserPresence, as a client would."""
    kind, body = event.kind, event.body
    if kind == "UserJoined":
        if body["user_id"] in users:
            raise AssertionError(f"UserJoined for {body['user_id']}, who is already present")
        users[body["user_id"]] = copy.deepcopy(body)
        return
    if kind == "UserLeft":
        if body not in users:
            raise AssertionError(f"UserLeft for {body}, who is not present")
        del users[body]
        return
    if body["user_id"] not in users:
        raise AssertionError(f"{event} about a user who is not present")
    user = users[body["user_id"]]
    if kind == "CursorMoved":
        user["cursor"] = body["cursor"]
        user["selection"] = body["selection"]
    elif kind == "TypingChanged":
        user["state"]["typing"] = body["is_typing"]
    elif kind == "ViewportChanged":
        user["state"]["viewport"] = body["viewport"]
    elif kind == "ActivityChanged":
        user["state"]["activity"] = body["activity"]
    elif kind == "UserIdle":
        user["state"]["activity"] = "Idle"
    elif kind == "FocusChanged":
        user["state"]["focused"] = body["focused"]
    else:
        raise AssertionError(f"unknown event {event}")


def view(users, leave_out=()):
    return {user_id: {field: user[field] for field in COMPARED_FIELDS}
            for user_id, user in users.items() if user_id not in leave_out}


def without_user(events, user_id):
    return [(event.kind, event.body) for event in events if event.user_id != user_id]


def in_room_order(events):
    """Return the events as the room's order fixes them for every member.

    A connection's send queue lets a newer cursor, viewport or typing frame of the same user
    replace an unsent older one, in the older one's place. That stops once a frame of another kind
    (a join, leave, activity or focus change) is queued after it. So members agree on the sequence
    of those other events, and between two of them on each user's latest cursor, viewport and
    typing."""
    canonical = []
    latest = {}
    for kind, body in events:
        if kind in ("CursorMoved", "ViewportChanged", "TypingChanged"):
            latest[(kind, body["user_id"])] = body
        else:
            canonical.append(("latest updates", latest))
            canonical.append((kind, body))
            latest = {}
    canonical.append(("latest updates", latest))
    return canonical


async def act_randomly(client, document_id, seed):
    """Send a seeded random mix of cursor, selection, typing, viewport and focus messages."""
    rng = random.Random(seed)
    for _ in range(ACTIONS_PER_ACTOR):
        choice = rng.random()
        if choice < 0.4:
            line = rng.randrange(200)
            await client.send({"type": "cursor", "document_id": document_id, "cursor": position(line),
                               "selection": None})
        elif choice < 0.55:
            anchor = rng.randrange(200)
            await client.send({"type": "cursor", "document_id": document_id, "cursor": position(anchor + 3),
                               "selection": selection(anchor, anchor + 3)})
        elif choice < 0.7:
            await client.send({"type": "typing", "document_id": document_id})
        elif choice < 0.8:
            await client.send({"type": "typing", "document_id": document_id, "is_typing": rng.random() < 0.5})
        elif choice < 0.9:
            top = rng.randrange(500)
            await client.send({"type": "viewport", "document_id": document_id,
                               "viewport": {"top_line": top, "bottom_line": top + 40,
                                            "scroll_percentage": rng.randrange(1000) / 10}})
        else:
            await client.send({"type": "focus", "document_id": document_id, "focused": rng.random() < 0.6})
        await asyncio.sleep(rng.random() * 0.008)


class OrderTests(ScenarioCase):
    async def test_members_see_one_order_and_converge(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        actors = {}
        for user_id in ACTORS:
            actors[user_id], _ = await self.joined(document, user_id)
        for user_id in ACTORS:
            await observer.next_event("UserJoined", user_id)
        await self.settle(0.1)
        members = {"observer": observer, **actors}
        # Every member's view once it has heard of the baseline user is that user's snapshot.
        _, baseline_snapshot = await self.joined(document, "baseline")
        for client in members.values():
            await client.next_event("UserJoined", "baseline")
        start = {user_id: client.event_position for user_id, client in members.items()}
        baseline = {user["user_id"]: user for user in baseline_snapshot["users"]}

        async def join_midway():
            await asyncio.sleep(0.15)
            joiner = await self.connect("joiner")
            snapshot = await joiner.join(document, "joiner")
            second_tab = await self.connect("ada tab 2")
            await second_tab.join(document, "ada")
            await asyncio.sleep(0.1)
            await second_tab.send({"type": "leave", "document_id": document})
            return joiner, snapshot

        results = await asyncio.gather(
            *(act_randomly(client, document, seed) for seed, client in enumerate(actors.values())), join_midway())
        joiner, joiner_snapshot = results[-1]
        # Outlast the cursor throttle, the flush tick and the typing debounce.
        await self.settle(0.5)
        _, truth_snapshot = await self.joined(document, "final")
        truth = {user["user_id"]: user for user in truth_snapshot["users"] if user["user_id"] != "final"}
        # Each member's events up to the final user's arrival, which follows everything else.
        end = {}
        for user_id, client in {**members, "joiner": joiner}.items():
            await client.next_event("UserJoined", "final")
            end[user_id] = client.event_position - 1

        with self.subTest("every member sees the same order"):
            observed = observer.events[start["observer"]:end["observer"]]
            for user_id, client in actors.items():
                self.assertEqual(in_room_order(without_user(client.events[start[user_id]:end[user_id]], user_id)),
                                 in_room_order(without_user(observed, user_id)),
                                 f"{user_id} saw another order than the observer")

        with self.subTest("snapshot plus later events equal the truth"):
            joiner_users = {user["user_id"]: copy.deepcopy(user) for user in joiner_snapshot["users"]}
            for event in joiner.events[:end["joiner"]]:
                apply_event(joiner_users, event)
            self.assertEqual(view(joiner_users), view(truth))

        with self.subTest("each member's view equals the truth"):
            for user_id, client in members.items():
                users = copy.deepcopy(baseline)
                for event in client.events[start[user_id]:end[user_id]]:
                    apply_event(users, event)
                # A member never hears its own events, so its own entry is the only one allowed to differ.
                self.assertEqual(view(users, leave_out={user_id}), view(truth, leave_out={user_id}),
                                 f"{user_id}'s view differs from the truth")

        with self.subTest("no update is a leave followed by a join"):
            for user_id, client in members.items():
                kinds = [(event.kind, event.user_id) for event in client.events[start[user_id]:end[user_id]]]
                self.assertNotIn(("UserLeft", "ada"), kinds, "ada's second tab left, ada did not")
                self.assertEqual([user for kind, user in kinds if kind == "UserLeft"], [])
                self.assertEqual([user for kind, user in kinds if kind == "UserJoined"], ["joiner"])

        with self.subTest("the joiner after its snapshot follows the observer's order"):
            joined_at = next(index for index, event in enumerate(observer.events)
                             if event.kind == "UserJoined" and event.user_id == "joiner")
            self.assertEqual(in_room_order(without_user(joiner.events[:end["joiner"]], "joiner")),
                             in_room_order(without_user(observer.events[joined_at + 1:end["observer"]], "joiner")))
