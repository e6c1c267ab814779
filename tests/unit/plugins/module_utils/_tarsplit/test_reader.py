"""Reading tar-split metadata: every kind of damage is a TarSplitError, never a crash or a hang."""
import base64
import gzip
import json

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.reader import (
    FILE, SEGMENT, TarSplitError, read_entries)


def write_lines(path, lines, raw=None):
    data = raw if raw is not None else b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    with gzip.open(path, "wb") as stream:
        stream.write(data)
    return path


def test_entries_in_order(tmp_path):
    path = write_lines(tmp_path / "t.gz", [
        {"type": 2, "payload": base64.b64encode(b"header").decode(), "position": 0},
        {"type": 1, "name": "a/b", "size": 3, "payload": base64.b64encode(b"\0" * 8).decode(), "position": 1},
        {"type": 1, "name_raw": base64.b64encode(b"caf\xe9").decode(), "payload": None, "position": 2},
        {"type": 1, "name": "dir/", "payload": None, "position": 3},
    ])
    entries = list(read_entries(str(path)))
    assert [e.type for e in entries] == [SEGMENT, FILE, FILE, FILE]
    assert entries[0].payload == b"header"
    assert (entries[1].name, entries[1].size) == (b"a/b", 3)
    assert entries[2].name == b"caf\xe9" and entries[2].size == 0
    assert entries[3].payload is None


def test_truncated_gzip(tmp_path):
    good = write_lines(tmp_path / "good.gz", [{"type": 2, "payload": "aGVsbG8=", "position": i} for i in range(2000)])
    data = good.read_bytes()
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(TarSplitError, match="truncated"):
        list(read_entries(str(tmp_path / "cut.gz")))


def test_not_gzip(tmp_path):
    (tmp_path / "plain").write_bytes(b'{"type":2}\n')
    with pytest.raises(TarSplitError):
        list(read_entries(str(tmp_path / "plain")))


@pytest.mark.parametrize("raw, message", [
    (b"{not json\n", "not valid JSON"),
    (b"[1,2]\n", "not a JSON object"),
    (b'{"type":3,"position":0}\n', "unknown entry type"),
    (b'{"type":2,"payload":"***","position":0}\n', "not base64"),
    (b'{"type":1,"name":"x","size":-1,"payload":null}\n', "invalid size"),
    (b'{"type":1,"name":"x","size":5,"payload":null}\n', "no CRC-64"),
])
def test_garbage(tmp_path, raw, message):
    path = write_lines(tmp_path / "bad.gz", None, raw=raw)
    with pytest.raises(TarSplitError, match=message):
        list(read_entries(str(path)))
