"""Signing keys for local use and tests, made when absent (``manage.py generate_keys``).

Production brings its own keys (NHS_LOGIN_PRIVATE_KEY_FILE): this never overwrites a file.
"""

import json
import os
import tempfile
from pathlib import Path

from django.conf import settings
from joserfc.jwk import RSAKey


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as file:
        file.write(content)
    # Another process may have made the same file meanwhile: the first one stays.
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def public_jwks(private_pem: bytes) -> dict:
    key = RSAKey.import_key(private_pem)
    public = key.as_dict(private=False)
    public.update({"kid": key.thumbprint(), "use": "sig", "alg": "RS512"})
    return {"keys": [public]}


def ensure_private_key(path: Path) -> bool:
    """Make an RSA private key (PEM) at ``path`` unless one is there; True if made."""
    if path.exists():
        return False
    _write_atomically(path, RSAKey.generate_key(2048, private=True).as_pem(private=True))
    return True


def ensure_keys() -> list[Path]:
    """The site's NHS login client key (and its public JWKS, which the sandbox's stand-in
    registers) and, with the sandbox, the stand-in's own signing key. Returns those made."""
    made = []
    client_key = Path(settings.NHS_LOGIN_PRIVATE_KEY_FILE)
    if ensure_private_key(client_key):
        made.append(client_key)
    if settings.SANDBOX_ENABLED:
        jwks = Path(settings.SANDBOX_NHS_LOGIN_CLIENT_JWKS_FILE)
        expected = json.dumps(public_jwks(client_key.read_bytes()), indent=2).encode()
        if not jwks.exists() or jwks.read_bytes() != expected:
            jwks.unlink(missing_ok=True)
            _write_atomically(jwks, expected)
            made.append(jwks)
        signing_key = Path(settings.SANDBOX_NHS_LOGIN_SIGNING_KEY_FILE)
        if ensure_private_key(signing_key):
            made.append(signing_key)
    return made
