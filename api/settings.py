"""Service configuration, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    # A real MongoDB; when empty the embedded mongoeco store is used.
    mongodb_uri: str = ""
    database: str = "segments"
    # Embedded store engine: "sqlite" keeps data under data_dir, "memory" does not.
    embedded_engine: str = "sqlite"
    # The embedded engine behind its seam (api/embedded_store.py); off: the engine
    # as it is, which is what the domain meets on a real MongoDB (make test-plain).
    embedded_seam: bool = True
    data_dir: Path = Path(".data")
    graphql_max_depth: int = 12
    graphql_max_tokens: int = 4000
    graphql_max_query_bytes: int = 20_000
    graphql_max_aliases: int = 30
    max_page_size: int = 500
    # Webhooks and the change stream (docs/webhooks.md): the key that encrypts
    # signing secrets (a Fernet key; unset: a key file under data_dir), how often
    # readers look for changes written by other processes, and how long one
    # process keeps the delivery lease without renewing it.
    secret_key: str = ""
    change_poll_seconds: float = 0.5
    webhook_lease_seconds: float = 10.0
    # How long a build or a round of the time-window scheduler stays claimed by
    # a process that stopped renewing its lease (rules/store/leases.py, docs/scaling.md).
    work_lease_seconds: float = 30.0
    # Requests per second per API key (api/ratelimit.py); 0 turns a limit off.
    # Customer.io: 10/s on the App API, 100/s on the Track API. GraphQL is
    # generous because the console polls it.
    rate_limit_app: float = 10
    rate_limit_track: float = 100
    rate_limit_graphql: float = 50
    # importSegmentMembers: larger CSV files are refused before anything is read.
    max_upload_bytes: int = 50_000_000
    # Origins allowed to call the API from a browser (CORS); empty: CORS off (api/security.py).
    cors_origins: tuple[str, ...] = ()
    # Serve https with this certificate and key (PEM files); see api/tls.py for a local one.
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if environ is None else environ
        values: dict = {}
        if "SEGMENTS_HOST" in env:
            values["host"] = env["SEGMENTS_HOST"]
        if "SEGMENTS_PORT" in env:
            try:
                values["port"] = int(env["SEGMENTS_PORT"])
            except ValueError:
                raise SystemExit(f"SEGMENTS_PORT must be a number, got {env['SEGMENTS_PORT']!r}")
        if env.get("SEGMENTS_MONGODB_URI"):
            values["mongodb_uri"] = env["SEGMENTS_MONGODB_URI"]
        if "SEGMENTS_DATABASE" in env:
            values["database"] = env["SEGMENTS_DATABASE"]
        if "SEGMENTS_EMBEDDED_ENGINE" in env:
            engine = env["SEGMENTS_EMBEDDED_ENGINE"]
            if engine not in ("sqlite", "memory"):
                raise SystemExit(f"SEGMENTS_EMBEDDED_ENGINE must be 'sqlite' or 'memory', got {engine!r}")
            values["embedded_engine"] = engine
        if "SEGMENTS_EMBEDDED_SEAM" in env:
            seam = env["SEGMENTS_EMBEDDED_SEAM"]
            if seam not in ("on", "off"):
                raise SystemExit(f"SEGMENTS_EMBEDDED_SEAM must be 'on' or 'off', got {seam!r}")
            values["embedded_seam"] = seam == "on"
        if "SEGMENTS_DATA_DIR" in env:
            values["data_dir"] = Path(env["SEGMENTS_DATA_DIR"])
        if env.get("SEGMENTS_SECRET_KEY"):
            values["secret_key"] = env["SEGMENTS_SECRET_KEY"]
        for name, field in (("SEGMENTS_CHANGE_POLL_SECONDS", "change_poll_seconds"), ("SEGMENTS_WEBHOOK_LEASE_SECONDS", "webhook_lease_seconds"), ("SEGMENTS_WORK_LEASE_SECONDS", "work_lease_seconds")):
            if name in env:
                try:
                    values[field] = float(env[name])
                except ValueError:
                    raise SystemExit(f"{name} must be a number of seconds, got {env[name]!r}")
        for name in ("app", "track", "graphql"):
            variable = f"SEGMENTS_RATE_LIMIT_{name.upper()}"
            if variable in env:
                try:
                    values[f"rate_limit_{name}"] = float(env[variable])
                except ValueError:
                    raise SystemExit(f"{variable} must be a number of requests per second, got {env[variable]!r}")
                if values[f"rate_limit_{name}"] < 0:
                    raise SystemExit(f"{variable} must not be negative")
        for variable, name in _LIMITS.items():
            if variable in env:
                values[name] = _positive_int(variable, env[variable])
        if "SEGMENTS_CORS_ORIGINS" in env:
            values["cors_origins"] = _cors_origins(env["SEGMENTS_CORS_ORIGINS"])
        cert, key = env.get("SEGMENTS_TLS_CERT"), env.get("SEGMENTS_TLS_KEY")
        if bool(cert) != bool(key):
            raise SystemExit("SEGMENTS_TLS_CERT and SEGMENTS_TLS_KEY: set both (PEM certificate and private key) or neither")
        if cert and key:
            for variable, path in (("SEGMENTS_TLS_CERT", cert), ("SEGMENTS_TLS_KEY", key)):
                if not Path(path).is_file():
                    raise SystemExit(f"{variable}: no file {path}")
            values["tls_cert"], values["tls_key"] = Path(cert), Path(key)
        values.update(overrides)
        return cls(**values)


def _cors_origins(raw: str) -> tuple[str, ...]:
    origins = tuple(dict.fromkeys(part.strip().rstrip("/") for part in raw.split(",") if part.strip()))
    for origin in origins:
        scheme, _, host = origin.partition("://")
        if scheme not in ("http", "https") or not host or "/" in host:
            raise SystemExit(f"SEGMENTS_CORS_ORIGINS: {origin!r} is not an origin (scheme://host[:port], comma-separated)")
    return origins


# environment variable -> Settings field, each a positive whole number
_LIMITS = {
    "SEGMENTS_GRAPHQL_MAX_DEPTH": "graphql_max_depth",
    "SEGMENTS_GRAPHQL_MAX_TOKENS": "graphql_max_tokens",
    "SEGMENTS_GRAPHQL_MAX_QUERY_BYTES": "graphql_max_query_bytes",
    "SEGMENTS_GRAPHQL_MAX_ALIASES": "graphql_max_aliases",
    "SEGMENTS_MAX_PAGE_SIZE": "max_page_size",
    "SEGMENTS_MAX_UPLOAD_BYTES": "max_upload_bytes",
}


def _positive_int(variable: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{variable} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise SystemExit(f"{variable} must be at least 1, got {value}")
    return value
