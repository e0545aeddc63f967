"""In jwt mode, every bad token ends the upgrade with 401 and a body that names the reason."""

import json
import time

from support import AUDIENCE, HS256_SECRET, ISSUER, POOL, LimitsCase, b64url, keys


def hs256_gateway():
    return POOL.get("jwt-hs256", {
        "auth": {"mode": "jwt", "jwt_secret": HS256_SECRET, "issuer": ISSUER, "audience": AUDIENCE,
                 "leeway_seconds": 5},
    })


def rs256_gateway():
    return POOL.get("jwt-rs256", {"auth": {"mode": "jwt", "jwt_public_key_file": str(keys().rsa_public)}})


def es256_gateway():
    return POOL.get("jwt-es256", {"auth": {"mode": "jwt", "jwt_public_key_file": str(keys().ec_public)}})


class HS256TokenTests(LimitsCase):
    async def assertRejected(self, token, reason_text, gateway=None):
        status, body = await self.rejected_upgrade(gateway or hs256_gateway(), query=f"?token={token}")
        self.assertEqual(status, 401, body)
        self.assertIn(reason_text, body)
        return body

    async def test_valid_token_in_query_joins(self):
        client = await self.connect(hs256_gateway(), query=f"?token={keys().token()}")
        snapshot = await client.join(self.document())
        self.assertEqual(snapshot["event_type"], "snapshot")
        self.assertEqual(snapshot["payload"]["self"]["user_id"], "u1")

    async def test_valid_token_in_header_joins(self):
        client = await self.connect(hs256_gateway(), headers={"Authorization": f"Bearer {keys().token()}"})
        snapshot = await client.join(self.document())
        self.assertEqual(snapshot["event_type"], "snapshot")

    async def test_missing_token_is_rejected(self):
        status, body = await self.rejected_upgrade(hs256_gateway())
        self.assertEqual(status, 401)
        self.assertIn("missing token", body)

    async def test_expired_token_is_rejected(self):
        await self.assertRejected(keys().token(exp=int(time.time()) - 60), "token expired")

    async def test_expiry_within_leeway_is_accepted(self):
        client = await self.connect(hs256_gateway(), query=f"?token={keys().token(exp=int(time.time()) - 2)}")
        await client.ping()

    async def test_not_yet_valid_token_is_rejected(self):
        await self.assertRejected(keys().token(nbf=int(time.time()) + 120), "not valid yet")

    async def test_wrong_issuer_is_rejected(self):
        body = await self.assertRejected(keys().token(iss="https://evil.test"), "issuer")
        self.assertNotIn(ISSUER, body, "the 401 body must not reveal the expected issuer")

    async def test_missing_issuer_is_rejected(self):
        await self.assertRejected(keys().token(iss=None), "no \"iss\" claim")

    async def test_wrong_audience_is_rejected(self):
        await self.assertRejected(keys().token(aud="billing"), "audience")

    async def test_audience_array_is_accepted(self):
        client = await self.connect(hs256_gateway(), query=f"?token={keys().token(aud=['billing', AUDIENCE])}")
        await client.ping()

    async def test_alg_none_is_rejected(self):
        unsigned = keys().token(alg="none")
        await self.assertRejected(unsigned, "unsigned tokens are not accepted")
        await self.assertRejected(unsigned + "AAAA", "algorithm \"none\" is not accepted")

    async def test_other_algorithm_is_rejected(self):
        await self.assertRejected(keys().token(alg="RS256"), "algorithm \"RS256\" is not accepted")

    async def test_tampered_payload_is_rejected(self):
        header, _, signature = keys().token().split(".")
        forged = b64url(json.dumps({"sub": "admin", "workspace_id": "w1", "iss": ISSUER, "aud": AUDIENCE,
                                    "exp": int(time.time()) + 600}).encode())
        await self.assertRejected(f"{header}.{forged}.{signature}", "invalid token signature")

    async def test_wrong_secret_is_rejected(self):
        token = keys().token(key=b"another-secret-of-at-least-32-bytes-long")
        await self.assertRejected(token, "invalid token signature")

    async def test_padded_base64_is_rejected(self):
        header, payload, signature = keys().token().split(".")
        await self.assertRejected(f"{header}.{payload}.{signature}%3D", "no padding")

    async def test_malformed_token_is_rejected(self):
        await self.assertRejected("not-a-token", "malformed token")

    async def test_missing_subject_is_rejected(self):
        await self.assertRejected(keys().token(sub=None), "no \"sub\" claim")

    async def test_missing_workspace_is_rejected(self):
        await self.assertRejected(keys().token(workspace_id=None), "workspaces")

    async def test_connection_closes_when_token_expires(self):
        gateway = POOL.get("jwt-no-leeway", {"auth": {"mode": "jwt", "jwt_secret": HS256_SECRET, "leeway_seconds": 0}})
        client = await self.connect(gateway, query=f"?token={keys().token(exp=int(time.time()) + 2)}")
        await client.join(self.document())
        self.assertEqual(await client.wait_closed(timeout=5), 1008)
        self.assertIn("token expired", client.close_reason)

    async def test_rejections_are_counted(self):
        gateway = hs256_gateway()
        before = gateway.metric("presence_auth_rejections_total")
        await self.assertRejected("a.b.c", "invalid token")
        self.assertEqual(gateway.metric("presence_auth_rejections_total"), before + 1)


class PublicKeyTokenTests(LimitsCase):
    async def assertRejected(self, gateway, token, reason_text):
        status, body = await self.rejected_upgrade(gateway, query=f"?token={token}")
        self.assertEqual(status, 401, body)
        self.assertIn(reason_text, body)

    async def test_rs256_token_joins(self):
        client = await self.connect(rs256_gateway(), query=f"?token={keys().token(alg='RS256')}")
        snapshot = await client.join(self.document())
        self.assertEqual(snapshot["event_type"], "snapshot")

    async def test_hs256_signed_with_public_key_is_rejected(self):
        # Algorithm confusion: the HMAC key is the server's public key PEM, which anyone can read.
        token = keys().token(alg="HS256", key=keys().rsa_public.read_bytes())
        await self.assertRejected(rs256_gateway(), token, "algorithm \"HS256\" is not accepted")

    async def test_rs256_tampered_payload_is_rejected(self):
        header, _, signature = keys().token(alg="RS256").split(".")
        _, forged, _ = keys().token(alg="RS256", sub="admin").split(".")
        await self.assertRejected(rs256_gateway(), f"{header}.{forged}.{signature}", "invalid token signature")

    async def test_es256_token_joins(self):
        client = await self.connect(es256_gateway(), query=f"?token={keys().token(alg='ES256')}")
        snapshot = await client.join(self.document())
        self.assertEqual(snapshot["event_type"], "snapshot")

    async def test_es256_der_signature_is_rejected(self):
        await self.assertRejected(es256_gateway(), keys().token(alg="ES256-DER"), "invalid token signature")

    async def test_es256_tampered_payload_is_rejected(self):
        header, _, signature = keys().token(alg="ES256").split(".")
        _, forged, _ = keys().token(alg="ES256", workspace_id="w9").split(".")
        await self.assertRejected(es256_gateway(), f"{header}.{forged}.{signature}", "invalid token signature")

    async def test_rs256_token_is_rejected_by_es256_key(self):
        await self.assertRejected(es256_gateway(), keys().token(alg="RS256"), "algorithm \"RS256\" is not accepted")
