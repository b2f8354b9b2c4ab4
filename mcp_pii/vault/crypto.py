"""The vault's keys: what is stored is encrypted or a keyed hash, never a value or a scope id.

One secret (``MCP_PII_VAULT_KEY``, or random bytes for a memory vault) gives four sub-keys by
HKDF-SHA256, one per use:

- the *scope key* hashes a scope id (HMAC-SHA256) into the name the backend stores it under;
- the *tag key* derives the scope's 6-character token tag (HMAC-SHA256, base32);
- the *index key* hashes (scope, token NAME, value) into the field that finds a value's token again,
  so equal values in two scopes share nothing in storage;
- the *value key* encrypts values with AES-256-GCM, a random 96-bit nonce per value, and the
  scope hash and the token NAME as associated data (a value copied to another scope or type fails to open).
"""

from __future__ import annotations

import base64
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mcp_pii.errors import ConfigError, VaultError
from mcp_pii.tokens import TAG_LENGTH

MIN_SECRET_CHARS = 32
NONCE_BYTES = 12
_SALT = b"mcp-pii vault v1"

__all__ = ["MIN_SECRET_CHARS", "VaultKeys"]


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose).derive(secret)


def _mac(key: bytes, *parts: str) -> bytes:
    # Parts are joined with NUL, which a scope hash or a token NAME never holds, so no two lists of
    # parts hash the same message.
    return hmac.digest(key, "\0".join(parts).encode("utf-8"), "sha256")


class VaultKeys:
    """The sub-keys of one vault secret, and the operations that use them."""

    __slots__ = ("_aead", "_index", "_scope", "_tag")

    def __init__(self, secret: str | bytes | None = None) -> None:
        """Derive the sub-keys from ``secret`` (at least 32 characters), or from random bytes when None."""
        if secret is None:
            raw = secrets.token_bytes(32)
        elif isinstance(secret, str):
            if len(secret) < MIN_SECRET_CHARS:
                raise ConfigError(
                    f"the vault key must be at least {MIN_SECRET_CHARS} characters; make one with "
                    "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
                )
            raw = secret.encode("utf-8")
        else:
            raw = secret
        self._scope = _derive(raw, b"scope id")
        self._tag = _derive(raw, b"token tag")
        self._index = _derive(raw, b"value index")
        self._aead = AESGCM(_derive(raw, b"value encryption"))

    def scope_hash(self, scope: str) -> str:
        """The name a scope is stored under (hex of a keyed hash of the scope id)."""
        return _mac(self._scope, scope).hex()

    def tag(self, scope: str) -> str:
        """The scope's token tag: 6 characters of base32 (30 bits) of a keyed hash of the scope id."""
        return base64.b32encode(_mac(self._tag, scope)).decode("ascii").lower()[:TAG_LENGTH]

    def value_index(self, sid: str, name: str, value: str) -> str:
        """The field that finds the token of ``value`` of the type named ``name`` in the scope stored as ``sid``."""
        return _mac(self._index, sid, name, value)[:16].hex()

    def seal(self, sid: str, name: str, value: str) -> bytes:
        """Encrypt ``value``: nonce followed by AES-GCM ciphertext and tag."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, value.encode("utf-8"), f"{sid}\0{name}".encode())

    def open(self, sid: str, name: str, sealed: bytes) -> str:
        """Decrypt what :meth:`seal` made for the same scope and type."""
        try:
            plain = self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], f"{sid}\0{name}".encode())
        except (InvalidTag, ValueError):
            raise VaultError(
                "a stored value could not be decrypted: every server sharing the vault needs the same MCP_PII_VAULT_KEY"
            ) from None
        return plain.decode("utf-8")
