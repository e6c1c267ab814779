"""CRC-64/ISO must equal Go's hash/crc64 ISO table, which tar-split stores for every file."""
import os
import random

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit import crc64
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.crc64 import crc64_iso, crc64_iso_bytes


def bitwise_crc64_iso(data):
    """Straight from the definition, one bit at a time: the reference the fast code is checked against."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _bit in range(8):
            crc = (crc >> 1) ^ 0xD800000000000000 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFFFFFFFFFF


def test_check_value():
    assert crc64_iso(b"123456789") == 0xB90956C775A41001


def test_empty_input():
    assert crc64_iso(b"") == 0


@pytest.mark.parametrize("length", [1, 7, 8, 9, 63, 64, 255, 256, 257, 511, 512, 513, 4096, 65535, 65536, 65537, 200003])
def test_fold_matches_bitwise_definition(length):
    data = random.Random(length).randbytes(length)
    expected = bitwise_crc64_iso(data) if length < 5000 else crc64._update_table(2**64 - 1, data) ^ (2**64 - 1)
    assert crc64_iso(data) == expected


def test_table_matches_bitwise_on_random_inputs():
    rng = random.Random(7)
    for _round in range(50):
        data = rng.randbytes(rng.randrange(0, 300))
        assert crc64._update_table(2**64 - 1, data) ^ (2**64 - 1) == bitwise_crc64_iso(data)


@pytest.mark.parametrize("split", [0, 1, 8, 100, 255, 256, 70000, 131072])
def test_incremental_equals_whole(split):
    data = random.Random(split).randbytes(140000)
    assert crc64_iso(data[split:], crc64_iso(data[:split])) == crc64_iso(data)


def test_accepts_memoryview_and_bytearray():
    data = os.urandom(100000)
    assert crc64_iso(memoryview(data)) == crc64_iso(bytearray(data)) == crc64_iso(data)


def test_payload_form_is_big_endian():
    assert crc64_iso_bytes(0xB90956C775A41001) == bytes.fromhex("b90956c775a41001")
