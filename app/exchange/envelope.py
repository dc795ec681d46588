"""The sealed envelope around a package file: encrypted to its recipients (X25519 + ChaCha20-Poly1305), signed by
its sender (Ed25519), streamed in bounded chunks.

Layout (all lengths big-endian):

    MAGIC                                   b"JZPKG-SEALED/1\\n"
    u32 n, header (n bytes of JSON)         format, sender site id, county code, chunk size, recipients
    records, each: type (1 byte) u32 m, m bytes of ciphertext
        b"D"  a chunk of the package (at most CHUNK bytes before encryption)
        b"S"  the last record: the sender's Ed25519 signature (64 bytes)

Each recipient entry holds {"id": the key's recipient id, "ephemeral": an X25519 public key, "wrapped": the file key
encrypted with a key derived (HKDF-SHA256) from the ephemeral and the recipient's keys}. Record i is encrypted under
the file key with nonce = i as 11 bytes + a last-record flag byte, and the header's digest as associated data: a
chunk moved, dropped, repeated or cut off, or a header changed, fails to decrypt. The signature covers the header's
digest and the package's digest, so the sender's key vouches for both whom it was sent to and what it says.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.exchange.keys import PublicKeys, SiteKeys
from app.exchange.package import PRIVATE, written
from app.store.errors import StoreError

MAGIC = b"JZPKG-SEALED/1\n"
FORMAT = "jiuzhu-sealed/1"
CHUNK = 1 << 20
MAX_HEADER = 256 * 1024  # a county of a few hundred sites, one recipient entry each
_TAG = 16
_SIGNATURE = 64
_WRAP_INFO = b"jiuzhu-sealed/1 wrap"
_SIGNED = b"jiuzhu-sealed/1 signature\0"


def refused(detail: str) -> StoreError:
    return StoreError(f"交换包未导入，没有改动任何记录：{detail}")


def _nonce(i: int, last: bool) -> bytes:
    return i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _wrap_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, ephemeral + recipient, _WRAP_INFO).derive(shared)


def _wrap(file_key: bytes, to: PublicKeys) -> dict:
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes_raw()
    key = _wrap_key(eph.exchange(X25519PublicKey.from_public_bytes(to.encryption)), eph_pub, to.encryption)
    wrapped = ChaCha20Poly1305(key).encrypt(bytes(12), file_key, None)
    return {"id": to.recipient_id, "site_id": to.site_id, "ephemeral": base64.b64encode(eph_pub).decode(),
            "wrapped": base64.b64encode(wrapped).decode()}


def _unwrap(entry: dict, me: SiteKeys) -> bytes | None:
    try:
        eph_pub = base64.b64decode(entry["ephemeral"], validate=True)
        wrapped = base64.b64decode(entry["wrapped"], validate=True)
        mine = me.encryption_private.public_key().public_bytes_raw()
        shared = me.encryption_private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        return ChaCha20Poly1305(_wrap_key(shared, eph_pub, mine)).decrypt(bytes(12), wrapped, None)
    except (KeyError, TypeError, ValueError, InvalidTag):
        return None


def seal(plain: Path, out: Path, sender: SiteKeys, recipients: list[PublicKeys], county_code: str) -> None:
    """Encrypt `plain` to `recipients` and sign it, into `out` (0600; written whole under a temporary name)."""
    file_key = ChaCha20Poly1305.generate_key()
    header = json.dumps({"format": FORMAT, "sender": sender.site_id, "county_code": county_code, "chunk": CHUNK,
                         "recipients": [_wrap(file_key, r) for r in recipients]}, ensure_ascii=False).encode("utf-8")
    head_digest = hashlib.sha256(MAGIC + header).digest()
    aead, digest = ChaCha20Poly1305(file_key), hashlib.sha256()
    with written(out) as tmp, open(tmp, "wb") as f, open(plain, "rb") as src:
        f.write(MAGIC + struct.pack(">I", len(header)) + header)
        i = 0
        for chunk in iter(lambda: src.read(CHUNK), b""):
            digest.update(chunk)
            f.write(_record(b"D", aead.encrypt(_nonce(i, False), chunk, head_digest)))
            i += 1
        signature = sender.sign(_SIGNED + head_digest + digest.digest())
        f.write(_record(b"S", aead.encrypt(_nonce(i, True), signature, head_digest)))


def _record(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack(">I", len(data)) + data


def _exact(f, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise refused("文件不完整（可能没有拷完），请让报送方重新拷一份")
    return data


def header_of(f) -> tuple[dict, bytes]:
    """The envelope's header (checked for shape) and its bytes; the file positioned at the first record."""
    start = f.read(len(MAGIC))
    if start != MAGIC:
        if start.startswith(b"PK"):
            raise refused("交换包没有签名和加密（旧版本救助通导出的，或不是救助通导出的）。请报送方升级后重新导出")
        raise refused("这不是救助通的交换包")
    (n,) = struct.unpack(">I", _exact(f, 4))
    if n > MAX_HEADER:
        raise refused(f"包头超过 {MAX_HEADER // 1024} KB，不是救助通写出的")
    raw = _exact(f, n)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        header = None
    if not (isinstance(header, dict) and header.get("format") == FORMAT and isinstance(header.get("sender"), str)
            and isinstance(header.get("county_code"), str) and header.get("chunk") == CHUNK
            and isinstance(header.get("recipients"), list)
            and all(isinstance(r, dict) for r in header["recipients"])):
        raise refused("包头格式不对，交换包已损坏或被改动")
    return header, raw


@contextmanager
def opened(path: Path, me: SiteKeys, sender_keys: Callable[[str], PublicKeys], max_size: int,
           what: str = "本站") -> Iterator[tuple[Path, dict]]:
    """The package inside a sealed file, decrypted into a private temporary file, and the envelope's header.

    Refused whole (StoreError) before anything is yielded if the file is not addressed to `me`, its sender is not
    one `sender_keys` vouches for (it raises the refusal itself: unknown, revoked), any record fails to decrypt
    (altered, cut short, reordered) or the signature does not hold. Memory stays at one chunk; the temporary file
    is removed on leaving."""
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise StoreError(f"找不到或读不了交换包 {path}：{exc.strerror or exc}") from None
    with f, tempfile.TemporaryDirectory(prefix="jiuzhu-open-") as scratch:
        header, raw = header_of(f)
        if header["sender"] == me.site_id:
            raise refused("这是本站自己导出的交换包，不需要导入本站")
        mine = me.public().recipient_id
        entry = next((r for r in header["recipients"] if r.get("id") == mine), None)
        if entry is None:
            raise refused(f"这个交换包不是发给{what}的（加密给了其他单位），{what}无法也不应打开它")
        sender = sender_keys(header["sender"])
        file_key = _unwrap(entry, me)
        if file_key is None:
            raise refused("包头中给本单位的密钥无法解开，交换包已损坏或被改动")
        head_digest = hashlib.sha256(MAGIC + raw).digest()
        aead, digest, size, i = ChaCha20Poly1305(file_key), hashlib.sha256(), 0, 0
        plain = Path(scratch) / "package.zip"
        fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
        with os.fdopen(fd, "wb") as out:
            while True:
                kind, (n,) = _exact(f, 1), struct.unpack(">I", _exact(f, 4))
                if kind not in (b"D", b"S") or n > CHUNK + _TAG:
                    raise refused("包内的数据块格式不对，交换包已损坏或被改动")
                try:
                    data = aead.decrypt(_nonce(i, kind == b"S"), _exact(f, n), head_digest)
                except InvalidTag:
                    raise refused("包内数据与发送方加密时不同（被改动、截断或调换过），请让报送方重新导出") from None
                i += 1
                if kind == b"S":
                    break
                size += len(data)
                if size > max_size:
                    raise refused(f"包内数据超过上限 {max_size // (1 << 30)} GB")
                digest.update(data)
                out.write(data)
        if f.read(1):
            raise refused("签名之后还有多余的数据，交换包已损坏或被改动")
        if len(data) != _SIGNATURE or not sender.verify(data, _SIGNED + head_digest + digest.digest()):
            raise refused(f"签名与站点 {sender.name or sender.site_id} 在县里登记的公钥不符（包被改动过，或不是该站点导出的）")
        yield plain, header
