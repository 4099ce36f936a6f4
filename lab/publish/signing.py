"""Signed releases: release.json (the sha256 of every other file in the commit) signed with an Ed25519 key.

The signature sits beside the record as `release.json.sig` (JSON: algorithm, the public key, its id, the
signature over release.json's exact bytes). Publishing signs when a key is configured
(ARBORIST_SIGNING_KEY: a PEM private key, or the path of one) and otherwise says the release is unsigned.
`lab pull --verify` checks the signature, against ARBORIST_RELEASE_PUBLIC_KEY when that pins a key.
Keys are never logged; only a key id (the first 16 hex digits of the public key's sha256) is shown.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

SIG_FILE = "release.json.sig"
KEY_ENV = "ARBORIST_SIGNING_KEY"
PUBLIC_KEY_ENV = "ARBORIST_RELEASE_PUBLIC_KEY"
ALGORITHM = "ed25519"
MAX_SIG_BYTES = 4096
MAX_KEY_BYTES = 16384


class SignatureError(ValueError):
    """A release signature is missing, malformed, made by another key, or does not match release.json."""


def _text_or_file(value: str) -> bytes:
    """A PEM/base64 value given inline, or the path of a file holding it."""
    stripped = value.strip()
    if stripped.startswith("-----BEGIN") or len(stripped) > 1024 or "\n" in stripped:
        return stripped.encode()
    path = Path(stripped).expanduser()
    if path.is_file():
        if path.stat().st_size > MAX_KEY_BYTES:
            raise SignatureError(f"key file {path} is larger than {MAX_KEY_BYTES} bytes")
        return path.read_bytes().strip()
    return stripped.encode()


def load_private_key(value: str | None = None) -> Any | None:
    """The Ed25519 private key from `value` or $ARBORIST_SIGNING_KEY; None when neither is set."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if value is None:
        from lab.settings import SigningSettings

        secret = SigningSettings.from_environ().signing_key
        value = secret.get_secret_value() if secret else ""
    raw = value
    if not raw.strip():
        return None
    try:
        key = load_pem_private_key(_text_or_file(raw), password=None)
    except (ValueError, TypeError):
        raise SignatureError(f"{KEY_ENV} is not an unencrypted PEM private key (or the path of one)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{KEY_ENV} must be an Ed25519 key, not {type(key).__name__}")
    return key


def _raw_public(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).hexdigest()[:16]


def public_key_id(private_key: Any) -> str:
    return key_id(_raw_public(private_key.public_key()))


def sign(record: bytes, private_key: Any) -> bytes:
    """release.json.sig for the exact bytes `record`."""
    public = _raw_public(private_key.public_key())
    return (json.dumps({"algorithm": ALGORITHM, "key_id": key_id(public),
                        "public_key": base64.b64encode(public).decode(),
                        "signature": base64.b64encode(private_key.sign(record)).decode()}, indent=2) + "\n").encode()


def trusted_public_key(value: str | None = None) -> bytes | None:
    """The raw public key pinned by `value` or $ARBORIST_RELEASE_PUBLIC_KEY (PEM, base64 raw, or a file)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if value is None:
        from lab.settings import SigningSettings

        value = SigningSettings.from_environ().release_public_key or ""
    raw = value
    if not raw.strip():
        return None
    data = _text_or_file(raw)
    try:
        if data.startswith(b"-----BEGIN"):
            key = load_pem_public_key(data)
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not Ed25519")
            return _raw_public(key)
        decoded = base64.b64decode(data, validate=True)
        if len(decoded) != 32:
            raise ValueError("not 32 bytes")
        return decoded
    except ValueError:
        raise SignatureError(f"{PUBLIC_KEY_ENV} is not an Ed25519 public key (PEM, or 32 bytes in base64)") from None


def verify(record: bytes, signature_file: bytes, trusted: bytes | None = None) -> str:
    """The key id that signed `record`; SignatureError when it is not a valid signature (by the pinned key)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if len(signature_file) > MAX_SIG_BYTES:
        raise SignatureError(f"{SIG_FILE} is larger than {MAX_SIG_BYTES} bytes")
    try:
        entry = json.loads(signature_file)
        public = base64.b64decode(entry["public_key"], validate=True)
        signature = base64.b64decode(entry["signature"], validate=True)
        if entry.get("algorithm") != ALGORITHM or len(public) != 32:
            raise ValueError(entry.get("algorithm"))
    except (ValueError, KeyError, TypeError):
        raise SignatureError(f"{SIG_FILE} is not an {ALGORITHM} signature") from None
    if trusted is not None and public != trusted:
        raise SignatureError(f"signed by key {key_id(public)}, not by the pinned key {key_id(trusted)} "
                             f"({PUBLIC_KEY_ENV})")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, record)
    except InvalidSignature:
        raise SignatureError(f"the signature does not match release.json (key {key_id(public)}): "
                             "release.json was changed after it was signed") from None
    return key_id(public)


def verify_folder(folder: Path, trusted: bytes | None = None) -> str:
    """Check `folder`'s release.json against its release.json.sig; the signing key's id."""
    sig = folder / SIG_FILE
    if not sig.is_file():
        raise SignatureError(f"the release is unsigned (no {SIG_FILE}), so it cannot be verified")
    if sig.stat().st_size > MAX_SIG_BYTES:
        raise SignatureError(f"{SIG_FILE} is larger than {MAX_SIG_BYTES} bytes")
    return verify((folder / "release.json").read_bytes(), sig.read_bytes(), trusted)
