# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CRC-64 as Go's hash/crc64 with the ISO table, the checksum tar-split stores for every file.

Reflected polynomial 0xD800000000000000 (x^64 + x^4 + x^3 + x + 1), init and final xor all ones.

A byte-table loop runs at about 9 MB/s in Python, far too slow for whole image stores. Long buffers
are folded as one big integer instead. In the reflected bit order the buffer read little-endian is
the message polynomial with its highest degree at bit 0. Modulo P, x^(64s) == (x^s + 1)(x^(3s) + 1)
whenever s is a power of two (squaring is linear over GF(2) and x^64 == x^4 + x^3 + x + 1), so the
terms of degree >= 64s fold down with two shifts and two xors of CPython's native big integers,
shrinking the number by 60s bits each round.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

_POLY_REFLECTED = 0xD800000000000000
_MASK64 = 0xFFFFFFFFFFFFFFFF
# Below this many bytes the table loop is cheaper than big-integer folding (measured: folding wins
# from 8 bytes up, by 7x at 256 bytes).
_FOLD_THRESHOLD = 8
# Folding 64 KiB at a time keeps the integers in cache: about twice the rate of 1 MiB at once.
_FOLD_CHUNK = 64 * 1024


def _make_table():
    table = []
    for byte in range(256):
        crc = byte
        for _bit in range(8):
            crc = (crc >> 1) ^ _POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


def _update_table(register, data):
    table = _TABLE
    for byte in bytearray(data):
        register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register


# Masks of the rounds of a full chunk, which always come in the same sequence: building a mask is two
# passes over a big integer, a fifth of a round's work.
_CHUNK_MASKS = {}


def _low_mask(bits, cache):
    if cache is None:
        return (1 << bits) - 1
    mask = cache.get(bits)
    if mask is None:
        mask = cache[bits] = (1 << bits) - 1
    return mask


def _fold(value, nbits, masks=None):
    """Reduce a reflected polynomial of nbits bits (message times x^64) to the 64-bit register."""
    # Big rounds: fold the terms of degree >= 64s, the low (nbits - 64s) bits, onto the rest.
    while nbits >= 248:
        step = 1 << ((nbits // 124).bit_length() - 1)   # largest power of two with 124 * step <= nbits
        high_degree_bits = nbits - 64 * step
        high = value & _low_mask(high_degree_bits, masks)
        high ^= high << step                               # * (x^s + 1)
        high ^= high << (3 * step)                         # * (x^3s + 1)
        value = ((value >> high_degree_bits) << (high_degree_bits - 60 * step)) ^ high
        nbits -= 60 * step
    # Small rounds: at most 60 bits of excess degree each.
    while nbits > 64:
        excess = min(nbits - 64, 60)
        high = value & ((1 << excess) - 1)
        high ^= high << 1
        high ^= high << 3
        value = (value >> excess) ^ (high << (60 - excess))
        nbits -= excess
    return value


def crc64_iso(data, crc=0):
    """Return the CRC-64/ISO of data, continuing from crc (0 to start), like zlib.crc32."""
    register = crc ^ _MASK64
    if len(data) < _FOLD_THRESHOLD:
        return _update_table(register, data) ^ _MASK64
    view = memoryview(data)
    for start in range(0, len(view), _FOLD_CHUNK):
        chunk = view[start:start + _FOLD_CHUNK]
        if len(chunk) < _FOLD_THRESHOLD:
            register = _update_table(register, chunk)
            continue
        # The running register is xored into the first 8 message bytes, then x^64 is appended as
        # 64 zero bits of lowest degree (the most significant end of the little-endian number).
        value = int.from_bytes(chunk, 'little') ^ register
        register = _fold(value, 8 * len(chunk) + 64, _CHUNK_MASKS if len(chunk) == _FOLD_CHUNK else None)
    return register ^ _MASK64


def crc64_iso_bytes(crc):
    """The 8-byte big-endian form tar-split stores in a file entry's payload."""
    return crc.to_bytes(8, 'big')
