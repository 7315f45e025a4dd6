"""What the load scripts share (scripts/chaos.py, scripts/soak.py): a small REST client
for the gateway, upload bodies, and distinct small PNGs. Stdlib only."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import struct
import time
import zlib

BOUNDARY = "loadkitboundary7MA4YWxkTrZu0gW"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def png(seed: int) -> bytes:
    """A small PNG, different for every seed (content dedups identical bytes per owner)."""
    width, height = 3 + seed % 11, 2 + seed % 7
    r, g, b = seed % 251, (seed * 7) % 253, (seed * 13) % 255
    raw = b"".join(b"\x00" + bytes([r, g, b]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def multipart(title: str, filename: str, data: bytes) -> bytes:
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


class Api:
    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, method: str, path: str, token: str | None = None, body: object = None,
             raw: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 30) -> tuple[int | None, object]:
        """(status, JSON body or text); (None, error) when no answer came."""
        sent = dict(headers or {})
        if token:
            sent["authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent["content-type"] = "application/json"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            connection.close()
        except (OSError, http.client.HTTPException) as error:
            return None, repr(error)
        try:
            return response.status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return response.status, text

    def upload(self, token: str, title: str, data: bytes) -> tuple[int | None, object]:
        return self.call("POST", "/api/v1/assets", token, raw=multipart(title, f"{title}.png", data),
                         headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})

    def slow_upload(self, token: str, title: str, data: bytes, seconds: float) -> tuple[int | None, str]:
        """An upload whose body trickles in over `seconds`: in flight when a fault strikes."""
        body = multipart(title, f"{title}.png", data)
        head = (
            f"POST /api/v1/assets HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            sock.sendall(head)
            pieces = 10
            step = max(1, len(body) // pieces)
            for start in range(0, len(body), step):
                sock.sendall(body[start:start + step])
                time.sleep(seconds / pieces)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            sock.close()
        except OSError as error:
            return None, repr(error)
        status_line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
        parts = status_line.split(" ")
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        text = answer.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")
        return status, text


def load_env(webhook_secret: str) -> dict[str, str]:
    """Settings for a load run: a Stripe test key and webhook secret with Stripe's API
    pointed where nothing answers (a webhook is stored; its processing fails and waits to
    retry), and no budget, throttle or plan limit that would refuse a steady load."""
    return {
        "MARQUEE_STRIPE_SECRET_KEY": "sk_test_load",
        "MARQUEE_STRIPE_WEBHOOK_SECRET": webhook_secret,
        "MARQUEE_BILLING_STRIPE_API_BASE": "http://127.0.0.1:9",
        "MARQUEE_GATEWAY_RATE_LIMIT__ENABLED": "false",
        "MARQUEE_CONTENT_COMMENTS_PER_WINDOW": "0",
        "MARQUEE_CONTENT_DUPLICATE_COMMENT_WINDOW_SECS": "0",
        "MARQUEE_BILLING_PLANS__FREE__LIMITS__ASSETS": "1000000",
        "MARQUEE_BILLING_PLANS__FREE__LIMITS__STORAGE_BYTES": "100000000000",
    }


def stripe_event(event_id: str, customer: str) -> bytes:
    """A `customer.subscription.updated` event as Stripe posts it."""
    return json.dumps({
        "id": event_id, "object": "event", "type": "customer.subscription.updated",
        "api_version": "2025-03-31.basil", "created": int(time.time()), "livemode": False,
        "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
        "data": {"object": {"id": f"sub_{event_id}", "object": "subscription",
                            "customer": customer, "status": "active"}},
    }).encode()


def stripe_signature(secret: str, payload: bytes) -> str:
    """The `Stripe-Signature` header for `payload`, signed now."""
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
