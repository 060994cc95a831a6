"""Security headers on every response, and CORS only where configured.

The headers are the ones agreed for the console and GraphiQL
(Content-Security-Policy allowing nothing from another origin, no framing,
no MIME sniffing, no referrer). A pure ASGI middleware rather than
Starlette's `BaseHTTPMiddleware`, which buffers differently around
streamed responses (CSV exports) and does not see websockets; the headers
go on `http.response.start`, before any body. A route that sets one of
these headers itself keeps its own value.

CORS is off by default: no `Access-Control-*` header is ever sent, so a
page of another origin cannot read the API's answers. `SEGMENTS_CORS_ORIGINS`
(comma-separated origins) turns on Starlette's `CORSMiddleware` for exactly
those origins (api/settings.py).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def security_middleware(cors_origins: tuple[str, ...]) -> list[Middleware]:
    """The middleware stack, outermost first: CORS (when configured) answers
    preflight requests before anything else, and its answers get the
    security headers too."""
    stack = [Middleware(SecurityHeadersMiddleware)]
    if cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )
        )
    return stack
