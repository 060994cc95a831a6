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
    data_dir: Path = Path(".data")
    graphql_max_depth: int = 12
    graphql_max_tokens: int = 4000
    max_page_size: int = 500
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
        if "SEGMENTS_DATA_DIR" in env:
            values["data_dir"] = Path(env["SEGMENTS_DATA_DIR"])
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
