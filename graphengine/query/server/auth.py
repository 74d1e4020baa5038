"""SASL PLAIN authentication against a credentials file of salted password hashes.

The file holds one user a line, ``user:scrypt:N:r:p:<salt hex>:<hash hex>`` (``hashlib.scrypt``
with a random 16-byte salt per user), or ``user:pbkdf2_sha256:<iterations>:<salt hex>:<hash
hex>`` where OpenSSL lacks scrypt. Lines starting with ``#`` are comments. Passwords are never
stored; ``graphengine credentials add FILE USER`` writes an entry (the file is replaced
atomically, mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import tempfile
from pathlib import Path

__all__ = ["Credentials", "add_user", "hash_password", "parse_sasl_plain"]

_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
_PBKDF2_ITERATIONS = 240_000


def _has_scrypt() -> bool:
    try:
        hashlib.scrypt(b"x", salt=b"y", n=2, r=1, p=1)
        return True
    except (AttributeError, ValueError):
        return False


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The stored form of a password (the part after ``user:``), salted."""
    salt = os.urandom(16) if salt is None else salt
    pw = password.encode("utf-8")
    if _has_scrypt():
        n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
        digest = hashlib.scrypt(pw, salt=salt, n=n, r=r, p=p, dklen=32)
        return f"scrypt:{n}:{r}:{p}:{salt.hex()}:{digest.hex()}"
    digest = hashlib.pbkdf2_hmac("sha256", pw, salt, _PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256:{_PBKDF2_ITERATIONS}:{salt.hex()}:{digest.hex()}"


def _verify(stored: str, password: str) -> bool:
    parts = stored.split(":")
    pw = password.encode("utf-8")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            salt, want = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
            got = hashlib.scrypt(pw, salt=salt, n=n, r=r, p=p, dklen=len(want),
                                 maxmem=256 * 1024 * 1024)
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            salt, want = bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
            got = hashlib.pbkdf2_hmac("sha256", pw, salt, int(parts[1]))
        else:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(got, want)


def parse_sasl_plain(sasl: str | bytes) -> tuple[str, str]:
    """``(user, password)`` of a base64 SASL PLAIN response ``authzid NUL authcid NUL passwd``.

    Raises:
        ValueError: not base64 or not three NUL-separated fields.
    """
    try:
        raw = base64.b64decode(sasl, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("the SASL response is not base64") from e
    fields = raw.split(b"\x00")
    if len(fields) != 3:
        raise ValueError("a SASL PLAIN response has three NUL-separated fields")
    try:
        return fields[1].decode("utf-8"), fields[2].decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError("the SASL PLAIN user and password must be UTF-8") from e


class Credentials:
    """Users and their salted password hashes, read from a credentials file."""

    def __init__(self, users: dict[str, str]):
        self._users = dict(users)
        self._dummy = hash_password("not a password")

    @classmethod
    def load(cls, path: os.PathLike | str) -> Credentials:
        """Read a credentials file (see the module docstring).

        Raises:
            FileNotFoundError: no such file.
            ValueError: a line that is not ``user:hash``.
        """
        return cls(_read(Path(path)))

    def __len__(self) -> int:
        return len(self._users)

    def authenticate(self, user: str, password: str) -> bool:
        """Whether the password is the user's (an unknown user costs the same time)."""
        stored = self._users.get(user)
        if stored is None:
            _verify(self._dummy, password)
            return False
        return _verify(stored, password)


def _read(path: Path) -> dict[str, str]:
    users: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, stored = line.partition(":")
        if not sep or not user or not stored:
            raise ValueError(f"{path}:{n}: expected user:hash")
        users[user] = stored
    return users


def add_user(path: os.PathLike | str, user: str, password: str) -> None:
    """Add (or replace) a user in a credentials file, written atomically with mode 0600."""
    if not user or ":" in user or "\n" in user:
        raise ValueError("a user name is non-empty and holds no ':' or newline")
    p = Path(path)
    users = _read(p) if p.exists() else {}
    users[user] = hash_password(password)
    text = "# graphengine credentials: user:salted password hash\n" + "".join(
        f"{u}:{h}\n" for u, h in users.items())
    fd, tmp = tempfile.mkstemp(prefix=p.name + ".", dir=p.parent or ".")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
