# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tar-split metadata writer: Go-exact JSON lines, and Debian's tar-split agrees with it."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import gzip
import io
import json
import os
import subprocess
import tarfile

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.crc64 import crc64_iso
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.packer import (
    FILE_TYPE, SEGMENT_TYPE, TarSplitPacker, encode_entry)

CRC_OF_123456789 = b'\xb9\x09\x56\xc7\x75\xa4\x10\x01'


def test_segment_line():
    assert encode_entry(SEGMENT_TYPE, None, 0, b'\x00ab', 0) == b'{"type":2,"payload":"AGFi","position":0}\n'


def test_empty_segment_line_has_empty_payload_not_null():
    assert encode_entry(SEGMENT_TYPE, None, 0, b'', 7) == b'{"type":2,"payload":"","position":7}\n'


def test_utf8_file_line():
    line = encode_entry(FILE_TYPE, u'usr/bin/caf\u00e9'.encode('utf-8'), 9, CRC_OF_123456789, 1)
    assert line == b'{"type":1,"name":"usr/bin/caf\xc3\xa9","size":9,"payload":"uQlWx3WkEAE=","position":1}\n'


def test_non_utf8_name_goes_to_name_raw():
    line = encode_entry(FILE_TYPE, b'caf\xe9', 9, CRC_OF_123456789, 2)
    assert line == b'{"type":1,"name_raw":"Y2Fm6Q==","size":9,"payload":"uQlWx3WkEAE=","position":2}\n'


def test_utf8_surrogate_encoding_is_not_utf8():
    # Go's utf8.Valid rejects encoded surrogates; so must we.
    assert b'"name_raw"' in encode_entry(FILE_TYPE, b'a\xed\xa0\x80', 0, None, 0)


def test_empty_file_has_no_size_and_null_payload():
    assert encode_entry(FILE_TYPE, b'etc/', 0, None, 3) == b'{"type":1,"name":"etc/","payload":null,"position":3}\n'


def test_html_characters_are_escaped_as_go_does():
    line = encode_entry(FILE_TYPE, b'a<b>&c', 0, None, 0)
    assert line == b'{"type":1,"name":"a\\u003cb\\u003e\\u0026c","payload":null,"position":0}\n'


def test_control_quote_backslash_and_line_separators():
    name = u'"\\\n\r\t\x01\x08\x0c\x1f\x7f\u2028\u2029\u00e9'
    line = encode_entry(FILE_TYPE, name.encode('utf-8'), 0, None, 0)
    expected = (b'{"type":1,"name":"\\"\\\\\\n\\r\\t\\u0001\\u0008\\u000c\\u001f\x7f\\u2028\\u2029\xc3\xa9",'
                b'"payload":null,"position":0}\n')
    assert line == expected
    assert json.loads(line.decode('utf-8'))['name'] == name


def _packed(writes):
    out = io.BytesIO()
    packer = TarSplitPacker(out)
    writes(packer)
    packer.close()
    return out


def test_packer_numbers_positions_and_gzips():
    out = _packed(lambda p: (p.add_segment(b'hdr'), p.add_file(b'a', 9, 0xb90956c775a41001),
                             p.add_file(b'b/', 0, None), p.add_segment(b'\0' * 4)))
    assert not out.closed
    lines = gzip.decompress(out.getvalue()).splitlines(True)
    assert lines == [
        b'{"type":2,"payload":"aGRy","position":0}\n',
        b'{"type":1,"name":"a","size":9,"payload":"uQlWx3WkEAE=","position":1}\n',
        b'{"type":1,"name":"b/","payload":null,"position":2}\n',
        b'{"type":2,"payload":"AAAAAA==","position":3}\n',
    ]


def test_gzip_header_is_deterministic():
    data = _packed(lambda p: p.add_segment(b'x')).getvalue()
    assert data[3] == 0            # no FNAME: the temporary file's name is not recorded
    assert data[4:8] == b'\0' * 4  # mtime 0


def test_size_zero_file_payload_is_null_whatever_crc():
    out = _packed(lambda p: p.add_file(b'empty', 0, 0))
    assert b'"payload":null' in gzip.decompress(out.getvalue())


def test_sized_file_needs_crc():
    with pytest.raises(ValueError):
        _packed(lambda p: p.add_file(b'a', 1, None))


def test_duplicate_paths_are_refused_as_tar_split_would():
    with pytest.raises(ValueError, match='duplicate'):
        _packed(lambda p: (p.add_file(b'dir/', 0, None), p.add_file(b'dir', 0, None)))


# ---- against Debian's tar-split -----------------------------------------------------------------

NAMES = [
    b'plain.txt', b'a<b>&c', b'quote"back\\slash', b'ctl\x01\x08\x0c\x7f', u'sep\u2028\u2029'.encode('utf-8'),
    b'caf\xe9', b'new\nline', b'dir/nested', b'empty', u'\u00e9t\u00e9/long-' .encode('utf-8') + b'x' * 150,
]


def _build_tree_and_tar(root):
    """Files on disk under root, and a PAX tar of them written by Python's tarfile."""
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode='w', format=tarfile.PAX_FORMAT, encoding='utf-8',
                      errors='surrogateescape') as archive:
        for index, name in enumerate(NAMES):
            path = os.path.join(os.fsencode(root), name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            content = b'' if name == b'empty' else os.urandom(index * 300 + 1)
            with open(path, 'wb') as handle:
                handle.write(content)
            archive.addfile(archive.gettarinfo(path, arcname=os.fsdecode(name)), io.BytesIO(content))
    # Go's writer ends after the two zero blocks; tarfile pads on to a 10 KiB record, which newer
    # tar-split versions store in chunks of their own choosing. Keep Go's ending.
    return stream.getvalue()[:archive.offset]  # offset counts the zero blocks, not the record padding


def _pack_like_disassembler(tar_bytes, packer):
    """Segments exactly where tar-split's disassembler cuts: headers (with the previous padding),
    the end blocks, then whatever follows them (here nothing: an empty segment)."""
    end = 0
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), encoding='utf-8', errors='surrogateescape') as archive:
        for member in archive:
            packer.add_segment(tar_bytes[end:member.offset_data])
            name = os.fsencode(member.name)
            crc = crc64_iso(tar_bytes[member.offset_data:member.offset_data + member.size])
            packer.add_file(name, member.size, crc)
            end = member.offset_data + member.size
    end_blocks = end + (-end % 512) + 1024
    packer.add_segment(tar_bytes[end:end_blocks])
    packer.add_segment(tar_bytes[end_blocks:])


def _tar_split(*args):
    return subprocess.run(('tar-split',) + args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_tar_split_reassembles_packer_output_and_writes_the_same_json(tmp_path):
    root = str(tmp_path / 'tree')
    tar_bytes = _build_tree_and_tar(root)
    ours = str(tmp_path / 'ours.json.gz')
    with open(ours, 'wb') as handle:
        packer = TarSplitPacker(handle)
        _pack_like_disassembler(tar_bytes, packer)
        packer.close()

    _tar_split('asm', '--input', ours, '--path', root, '--output', str(tmp_path / 'out.tar'))
    assert (tmp_path / 'out.tar').read_bytes() == tar_bytes

    (tmp_path / 'in.tar').write_bytes(tar_bytes)
    theirs = str(tmp_path / 'theirs.json.gz')
    _tar_split('disasm', '--no-stdout', '--output', theirs, str(tmp_path / 'in.tar'))
    with gzip.open(theirs) as expected, gzip.open(ours) as actual:
        assert actual.read().splitlines() == expected.read().splitlines()
