"""Signing secrets: generated here, shown once, stored encrypted.

Standard Webhooks signs with HMAC-SHA256, so the service needs the raw
secret at every delivery: a hash (as for API keys) cannot sign. The secret
is therefore stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a
key that does not live in the database, so a dump of the store alone does
not reveal it. Where the key comes from is the transport's choice
(api/webhooks_setup.py: `SEGMENTS_SECRET_KEY`, else a key file).
"""

from __future__ import annotations

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64 random bytes


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


class SecretBox:
    """Encrypts secrets for storage and decrypts them to sign."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @staticmethod
    def new_key() -> bytes:
        return Fernet.generate_key()

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as error:
            raise SecretKeyMismatch("a stored webhook secret was sealed with another key (SEGMENTS_SECRET_KEY)") from error


class SecretKeyMismatch(Exception):
    pass
