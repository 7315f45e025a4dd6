"""A signed service identity (`x-marquee-identity`) for a benchmark client that calls a
service's gRPC port directly, as crates/platform/src/service_identity.rs mints them: a
compact JWS, EdDSA (Ed25519), JOSE typ `marquee-svc+jwt`, claims iss/aud/iat/exp and
`on_behalf_of` (kind, sub, tenant, roles, scopes). The callee must trust the caller's
public key: MARQUEE_<SERVICE>_IDENTITY__TRUSTED__<CALLER>=<base64 public key>.

  python3 service_identity.py keypair
      prints "<base64 32-byte seed> <base64 public key>"
  python3 service_identity.py mint SEED ISSUER AUDIENCE LIFETIME_SECS [ACCESS_TOKEN]
      prints the token; on behalf of the access token's principal when one is given
      (as the gateway forwards it: sub, tid, roles, scope, principal)

Needs the `cryptography` package.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# The roles and scopes the platform knows (crates/platform/src/identity.rs); others are
# dropped, as the gateway drops them.
ROLES = {"creator", "moderator", "admin", "owner", "billing_admin"}
SCOPES = {
    "assets:read",
    "assets:write",
    "campaigns:read",
    "campaigns:write",
    "billing:read",
    "tenant:read",
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def keypair() -> None:
    seed = os.urandom(32)
    public = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    print(base64.b64encode(seed).decode(), base64.b64encode(public).decode())


def principal_of(access_token: str) -> dict:
    payload = access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {
        "kind": claims["principal"],
        "sub": claims["sub"],
        "tenant": claims["tid"],
        "roles": [r for r in claims.get("roles", []) if r in ROLES],
        "scopes": [s for s in claims.get("scope", "").split() if s in SCOPES],
    }


def mint(seed: str, issuer: str, audience: str, lifetime: int, access_token: str | None) -> None:
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed))
    now = int(time.time())
    header = {"typ": "marquee-svc+jwt", "alg": "EdDSA"}
    claims = {"iss": issuer, "aud": audience, "iat": now, "exp": now + lifetime}
    if access_token:
        claims["on_behalf_of"] = principal_of(access_token)
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = key.sign(signing_input.encode())
    print(signing_input + "." + b64url(signature))


if __name__ == "__main__":
    if sys.argv[1:2] == ["keypair"]:
        keypair()
    elif sys.argv[1:2] == ["mint"] and len(sys.argv) in (6, 7):
        mint(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), (sys.argv[6:7] or [None])[0])
    else:
        sys.exit(__doc__)
