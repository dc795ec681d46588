"""This site's key pair (Ed25519 to sign, X25519 to receive), kept in a key file beside the database; key cards.

Where the private keys live, and why: in a file of their own beside the database (`jiuzhu.sqlite3.keys/<site
id>.json`, mode 0600), not in the database's settings. The database is what gets copied: daily backups, the
`before-restore` copy, a database carried to the county on a stick for a site move. A private key in it would
travel with every copy, and anyone holding an old backup could sign packages as the site. The key file stays on
the machine that made it. One file per site id, so a restore of another site's database (a site move) gets keys
of its own on this machine rather than taking, or overwriting, another site's. Losing the file (a reinstalled
laptop) costs a new registration at the county, never a forged package.

A key card is the public half as a small JSON file: what a site hands the county to be registered, and what the
county hands sites so that they can encrypt to it and check its packages. Both sides read the fingerprint aloud
(or by phone) to be sure the card was not swapped on the way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from app.exchange import territory
from app.store.errors import StoreError

KEY_FORMAT = "jiuzhu-site-key/1"
CARD_FORMAT = "jiuzhu-key-card/1"
MAX_CARD = 16 * 1024
_RAW = (Encoding.Raw, PublicFormat.Raw)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _raw(text: object, what: str) -> bytes:
    try:
        raw = base64.b64decode(str(text), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise StoreError(f"{what}不是有效的公钥（应为 32 字节的 base64）")
    return raw


@dataclass(frozen=True)
class PublicKeys:
    """A site's public keys: Ed25519 to check what it signed, X25519 to encrypt to it."""

    site_id: str
    signing: bytes
    encryption: bytes
    name: str = ""
    # The region-code prefix whose records the site sends: on a site's own card its claim (the township its users
    # work in, or none); in a register, what the county stated when it registered the site (territory.py).
    jurisdiction: str = ""

    @property
    def fingerprint(self) -> str:
        """Sixteen bytes of the keys' digest in groups of four hex digits, to compare by eye or read by phone."""
        digest = hashlib.sha256(self.signing + self.encryption).hexdigest()[:32]
        return "-".join(digest[i:i + 4] for i in range(0, 32, 4))

    @property
    def recipient_id(self) -> str:
        """Names the encryption key in a package's list of recipients (the key itself need not be repeated)."""
        return hashlib.sha256(b"jiuzhu recipient\0" + self.encryption).hexdigest()[:32]

    def verify(self, signature: bytes, message: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            Ed25519PublicKey.from_public_bytes(self.signing).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def card(self) -> dict:
        card = {"format": CARD_FORMAT, "site_id": self.site_id, "name": self.name, "signing": _b64(self.signing),
                "encryption": _b64(self.encryption), "fingerprint": self.fingerprint}
        return {**card, "jurisdiction": self.jurisdiction} if self.jurisdiction else card

    @classmethod
    def from_card(cls, card: object) -> PublicKeys:
        """The keys on a card (or a registry entry), checked field by field."""
        if not isinstance(card, dict) or card.get("format", CARD_FORMAT) != CARD_FORMAT:
            raise StoreError("这不是救助通的公钥卡（格式不对）")
        site, name = card.get("site_id"), card.get("name", "")
        if not isinstance(site, str) or not 0 < len(site) <= 64 or not isinstance(name, str) or len(name) > 200:
            raise StoreError("公钥卡中的站点编号或名称不对")
        claim = card.get("jurisdiction") or ""
        wrong = claim and territory.problem(claim)
        if wrong:
            raise StoreError(f"公钥卡中的站点辖区不对：{wrong}")
        keys = cls(site, _raw(card.get("signing"), "公钥卡中的签名公钥"),
                   _raw(card.get("encryption"), "公钥卡中的加密公钥"), name, claim)
        if "fingerprint" in card and card["fingerprint"] != keys.fingerprint:
            raise StoreError("公钥卡的指纹与其中的公钥不符，卡片可能被改动过")
        return keys


def read_card(path: Path) -> PublicKeys:
    """A key card from a file (small and bounded: a card is a few hundred bytes)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CARD + 1)
    except OSError as exc:
        raise StoreError(f"读不了公钥卡 {path}：{exc.strerror or exc}") from None
    if len(data) > MAX_CARD:
        raise StoreError(f"公钥卡 {path} 超过 {MAX_CARD // 1024} KB，不是救助通的公钥卡")
    try:
        card = json.loads(data)
    except (ValueError, RecursionError):
        raise StoreError(f"公钥卡 {path} 不是有效的 JSON") from None
    return PublicKeys.from_card(card)


def write_card(keys: PublicKeys, path: Path) -> None:
    Path(path).write_text(json.dumps(keys.card(), ensure_ascii=False, indent=2), encoding="utf-8")


@dataclass(frozen=True)
class SiteKeys:
    """This site's private keys."""

    site_id: str
    signing_private: Ed25519PrivateKey
    encryption_private: X25519PrivateKey

    def public(self, name: str = "", jurisdiction: str = "") -> PublicKeys:
        return PublicKeys(self.site_id, self.signing_private.public_key().public_bytes(*_RAW),
                          self.encryption_private.public_key().public_bytes(*_RAW), name, jurisdiction)

    def sign(self, message: bytes) -> bytes:
        return self.signing_private.sign(message)


def key_dir(db_path: Path) -> Path:
    return Path(db_path).with_name(Path(db_path).name + ".keys")


def key_file(db_path: Path, site_id: str) -> Path:
    return key_dir(db_path) / f"{site_id}.json"


def load(db_path: Path, site_id: str) -> SiteKeys:
    """This site's keys, made (and kept, 0600) on first use for this site id."""
    path = key_file(db_path, site_id)
    if path.exists():
        return _read(path, site_id)
    keys = SiteKeys(site_id, Ed25519PrivateKey.generate(), X25519PrivateKey.generate())
    _write(path, keys)
    return keys


def _private(key) -> str:
    return _b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def _write(path: Path, keys: SiteKeys) -> None:
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"format": KEY_FORMAT, "site_id": keys.site_id, "signing": _private(keys.signing_private),
                       "encryption": _private(keys.encryption_private)}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(f"写不了本站密钥文件 {path}：{exc.strerror or exc}。请检查数据文件夹的写权限") from None


def _read(path: Path, site_id: str) -> SiteKeys:
    try:
        data = json.loads(path.read_bytes()[:MAX_CARD])
        if data.get("format") != KEY_FORMAT or data.get("site_id") != site_id:
            raise ValueError("wrong file")
        return SiteKeys(site_id, Ed25519PrivateKey.from_private_bytes(_raw(data["signing"], "")),
                        X25519PrivateKey.from_private_bytes(_raw(data["encryption"], "")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, StoreError):
        raise StoreError(f"本站密钥文件 {path} 已损坏。请不要删除它，联系县信息员：换新密钥后须由县里重新登记本站") from None


def mine(store) -> SiteKeys:
    """The keys of the site whose database `store` holds."""
    from app.exchange.records import site_id

    return load(store.path, site_id(store.conn))
