"""Finds the project's sealed values (`DataSealer`: `RCS1`, a 12-byte nonce, ChaCha20-Poly1305 ciphertext
and tag) in the raw bytes of files, with the data key, without opening any database: what
tools/consent_e2e.py looks for after an erasure. ChaCha20 and Poly1305 come from the `cryptography`
package (PyPI).

    sealed.find(files, key, accept)  ->  [(pieces, value)]: every sealed JSON value in the files whose tag
                                         verifies and whose JSON `accept` takes, in the pieces it lies in
"""
import json
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.poly1305 import Poly1305

MAGIC = b"RCS1"


def _keystream(key, nonce, counter, blocks):
    """ChaCha20's keystream from block `counter` on (RFC 8439, 2.4), through the `cryptography` package
    (its nonce is the 32-bit little-endian block counter and the 96-bit nonce)."""
    cipher = Cipher(algorithms.ChaCha20(key, struct.pack("<I", counter) + nonce), mode=None)
    return cipher.encryptor().update(b"\x00" * (64 * blocks))


def _tag(key, nonce, ciphertext):
    """The AEAD tag of `ciphertext` with no associated data (RFC 8439, 2.8), as swift-crypto makes it."""
    one_time = _keystream(key, nonce, 0, 1)[:32]
    pad = b"\x00" * (-len(ciphertext) % 16)
    return Poly1305.generate_tag(one_time, ciphertext + pad + struct.pack("<QQ", 0, len(ciphertext)))


def _xor_at(key, nonce, data, offset):
    """`data` decrypted as the bytes at `offset` in the value's ciphertext."""
    skip = offset % 64
    blocks = (skip + len(data) + 63) // 64
    stream = _keystream(key, nonce, 1 + offset // 64, blocks)
    return bytes(a ^ b for a, b in zip(data, stream[skip:]))


def _text(plain):
    """How many leading bytes of `plain` are JSON text as Swift's encoder writes it here (ASCII)."""
    for index, byte in enumerate(plain):
        if not (32 <= byte < 127 or byte in (9, 10, 13)):
            return index
    return len(plain)


def _page_size(files):
    """The page size, from the database file's first bytes (a WAL file's pages are the same size)."""
    for data, log in files:
        if not log and data.startswith(b"SQLite format 3\x00"):
            size = int.from_bytes(data[16:18], "big")
            return 65536 if size == 1 else size
    return 4096


def _continuations(files, page_size):
    """Where a value's bytes may go on: the content of each page (past an overflow page's 4-byte link)."""
    for data, log in files:
        first, step = (32 + 24, page_size + 24) if log else (0, page_size)
        for start in range(first, len(data) - 4, step):
            yield data, start + 4, min(len(data), start + page_size)


def find(files, key, accept):
    """Every sealed JSON value in `files` (a list of (bytes, is_wal_log)) that opens with `key` (32 bytes)
    and whose JSON `accept` takes: a list of (the pieces of the sealed value as they lie in the files, its
    JSON). A long value spills over into overflow pages; its pieces are followed by decrypting where a page
    would go on, and the tag is checked over the whole ciphertext, so a match is the stored value itself."""
    page_size = _page_size(files)
    found = []
    for data, _ in files:
        start = data.find(MAGIC)
        while start >= 0:
            match = _follow(files, page_size, data, start, key)
            if match and accept(match[1]):
                found.append(match)
            start = data.find(MAGIC, start + 1)
    return found


def _follow(files, page_size, data, start, key):
    nonce = data[start + 4:start + 16]
    first = data[start + 16:start + page_size]
    plain = _xor_at(key, nonce, first, 0)
    if not plain[:1] in (b"{", b"["):
        return None
    # Pieces: (bytes, where they lie), the ciphertext in order; the first piece's end is found below.
    pieces = [(data, start + 16, start + 16 + _text(plain))]
    decoder = json.JSONDecoder()
    while True:
        text_so_far = b"".join(_xor_at(key, nonce, piece[0][piece[1]:piece[2]], offset)
                               for piece, offset in zip(pieces, _offsets(pieces)))
        try:
            value, end = decoder.raw_decode(text_so_far.decode("ascii"))
        except ValueError:
            value = None
        if value is not None:
            return _verified(key, nonce, data, start, pieces, end, value)
        # The piece ends a little before its first non-text byte (the link to the next page may look like
        # text): try each end, and take the page whose content decrypts as text from there.
        last_data, last_start, last_end = pieces[-1]
        before = sum(piece[2] - piece[1] for piece in pieces[:-1])
        step = None
        for end_guess in range(last_end, max(last_start, last_end - 16) - 1, -1):
            offset = before + end_guess - last_start
            for other, begin, stop in _continuations(files, page_size):
                if begin == last_start:
                    continue
                probe = _xor_at(key, nonce, other[begin:begin + 64], offset)
                if len(probe) == 64 and _text(probe) == 64:
                    step = (end_guess, other, begin, stop, offset)
                    break
            if step:
                break
        if not step:
            return None
        end_guess, other, begin, stop, offset = step
        pieces[-1] = (last_data, last_start, end_guess)
        rest = _xor_at(key, nonce, other[begin:stop], offset)
        pieces.append((other, begin, begin + _text(rest)))
        if len(pieces) > 4096:
            return None


def _offsets(pieces):
    offset = 0
    for _, begin, end in pieces:
        yield offset
        offset += end - begin


def _verified(key, nonce, data, start, pieces, end, value):
    """The value's pieces cut at the JSON's end, when the tag right after it verifies the whole ciphertext."""
    kept, remaining = [], end
    for piece_data, begin, stop in pieces:
        size = min(stop - begin, remaining)
        kept.append((piece_data, begin, begin + size))
        remaining -= size
        if remaining == 0:
            break
    tail_data, _, tail_end = kept[-1]
    ciphertext = b"".join(piece_data[begin:stop] for piece_data, begin, stop in kept)
    tag = tail_data[tail_end:tail_end + 16]
    if len(tag) != 16 or _tag(key, nonce, ciphertext) != tag:
        return None
    blobs = [piece_data[begin:stop] for piece_data, begin, stop in kept]
    blobs[0] = data[start:start + 16] + blobs[0]
    blobs[-1] = blobs[-1] + tag
    return blobs, value
