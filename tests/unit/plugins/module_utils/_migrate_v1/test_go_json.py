"""_go_json: JSON and time exactly as Go 1.5's encoding/json and time packages read and write them.

Expected bytes are Go 1.5 behaviour read from its sources (encoding/json encode.go, decode.go,
indent.go, scanner.go; time/format.go), the toolchain Docker 1.10.3 was built with.
"""
import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.go_json import (
    GoJSONError, GoTime, Raw, Struct, compact, encode_string, marshal, marshal_raw_object, object_members,
    parse, parse_stream_value, unquote)


@pytest.mark.parametrize("text, expected", [
    (u"plain", b'"plain"'),
    (u"a\"b\\c", b'"a\\"b\\\\c"'),
    (u"\n\r\t", b'"\\n\\r\\t"'),                       # Go >= 1.4 writes \t, not \u0009
    (u"\b\f\x00\x1f", b'"\\u0008\\u000c\\u0000\\u001f"'),  # \b and \f only became short in Go 1.22
    (u"<a href='x'>&</a>", b'"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e"'),
    (u"\x7f", b'"\x7f"'),                              # DEL is not escaped
    (u"caf\u00e9 \u65e5\u672c", u'"caf\u00e9 \u65e5\u672c"'.encode('utf-8')),
    (u"\u2028\u2029", b'"\\u2028\\u2029"'),
    (u"\U0001f600", u'"\U0001f600"'.encode('utf-8')),
    (u"/", b'"/"'),                                     # no escaping of /
])
def test_encode_string(text, expected):
    assert encode_string(text) == expected


@pytest.mark.parametrize("raw, expected", [
    (b'"plain"', u"plain"),
    (b'"\\u00e9\\/\\b\\f\\n\\r\\t\\"\\\\"', u"\u00e9/\b\f\n\r\t\"\\"),
    (b'"\\ud83d\\ude00"', u"\U0001f600"),               # a valid surrogate pair
    (b'"\\ud83d"', u"\ufffd"),                          # a lone high surrogate
    (b'"\\ude00x"', u"\ufffdx"),                        # a lone low surrogate
    (b'"\\ud83d\\u0041"', u"\ufffdA"),                  # high surrogate then no low one: both kept apart
    (b'"a\xffb"', u"a\ufffdb"),                         # invalid UTF-8 byte
    (b'"\xe2\x80A"', u"\ufffd\ufffdA"),                 # truncated sequence: one U+FFFD per byte, as Go
    (b'"\xed\xa0\x80"', u"\ufffd\ufffd\ufffd"),         # an encoded surrogate is invalid UTF-8
])
def test_unquote(raw, expected):
    assert unquote(raw) == expected


def test_compact_keeps_raw_bytes_but_escapes_html():
    raw = b'{ "a" : [ 1 , 2.50 , "x \\u00e9 \xc3\xa9 <&> \xe2\x80\xa8" ],\n\t"b":{ } }'
    assert compact(raw) == b'{"a":[1,2.50,"x \\u00e9 \xc3\xa9 \\u003c\\u0026\\u003e \\u2028"],"b":{}}'


def test_compact_keeps_escapes_and_white_space_inside_strings():
    assert compact(b'[ "a b\\t\\" c" ]') == b'["a b\\t\\" c"]'


def test_marshal_map_sorted_by_bytes_and_struct_in_field_order():
    value = {u"b": 1, u"a": [True, None, u"x"], u"\u00e9": {}, u"B": Raw(b' { "z" : 1 } ')}
    assert marshal(value) == u'{"B":{"z":1},"a":[true,null,"x"],"b":1,"\u00e9":{}}'.encode('utf-8')
    struct = Struct([(u"z", u"", True), (u"y", u"", False), (u"x", 0, True), (u"w", None, False), (u"v", [], True)])
    assert marshal(struct) == b'{"y":"","w":null}'


def test_object_members_and_raw_remarshal():
    data = b'{"b": {"k" : [1, 2]}, "a": null, "b": "last wins", "id": "x"}'
    members = object_members(data)
    assert sorted(members) == [u"a", u"b", u"id"]
    assert members[u"a"] is None
    del members[u"id"]
    assert marshal_raw_object(members) == b'{"a":null,"b":"last wins"}'


@pytest.mark.parametrize("data", [
    b'', b'{', b'{"a":1,}', b'[1,]', b'{"a" 1}', b"{'a':1}", b'01', b'1.', b'.5', b'+1', b'NaN',
    b'"\x01"', b'"\\x"', b'"\\u12"', b'tru', b'{} {}', b'\xef\xbb\xbf{}', b'[1 2]',
])
def test_parse_rejects_what_go_rejects(data):
    with pytest.raises(GoJSONError):
        parse(data)


def test_parse_accepts_white_space_and_raw_high_bytes():
    node = parse(b' \t\r\n{"a":"\xff","b":-0.5e+10} \n')
    assert node.kind == "object"
    assert [key for key, _child in node.value] == [u"a", u"b"]
    assert node.value[1][1].raw == b'-0.5e+10'


def test_stream_value_ignores_what_follows():
    assert parse_stream_value(b'  {"a":1} trailing').raw == b'{"a":1}'
    with pytest.raises(GoJSONError):
        parse_stream_value(b'   ')


@pytest.mark.parametrize("raw, expected", [
    (b'"2015-10-31T22:22:54.690851953Z"', b'"2015-10-31T22:22:54.690851953Z"'),
    (b'"2015-10-31T22:22:54.690851950Z"', b'"2015-10-31T22:22:54.69085195Z"'),   # trailing zeros trimmed
    (b'"2015-10-31T22:22:54.000000000Z"', b'"2015-10-31T22:22:54Z"'),
    (b'"2015-10-31T22:22:54.5Z"', b'"2015-10-31T22:22:54.5Z"'),
    (b'"2015-10-31T22:22:54+00:00"', b'"2015-10-31T22:22:54Z"'),                 # zero offset: Z
    (b'"2015-10-31T22:22:54-00:00"', b'"2015-10-31T22:22:54Z"'),
    (b'"2015-10-31T23:22:54.1+01:00"', b'"2015-10-31T23:22:54.1+01:00"'),        # offset kept, not UTC
    (b'"2015-10-31T05:22:54-05:30"', b'"2015-10-31T05:22:54-05:30"'),
    (b'"2015-10-31T5:22:54Z"', b'"2015-10-31T05:22:54Z"'),                       # Go 1.5 takes a 1-digit hour
    (b'"2015-02-31T00:00:00Z"', b'"2015-03-03T00:00:00Z"'),                      # day normalised (Go 1.5)
    (b'"2016-03-00T00:00:00Z"', b'"2016-02-29T00:00:00Z"'),
    (b'"2015-10-31T22:22:54.0000000001Z"', b'"2015-10-31T22:22:54.000000001Z"'),  # 10 digits, value < 1e9
    (b'"0000-01-01T00:00:00Z"', b'"0000-01-01T00:00:00Z"'),
])
def test_time_round_trip(raw, expected):
    assert GoTime.parse_json(raw).marshal_json() == expected


@pytest.mark.parametrize("raw", [
    b'null', b'0', b'"2015-10-31 22:22:54Z"', b'"2015-10-31T22:22:54"', b'"2015-10-31T22:22:54z"',
    b'"2015-13-01T00:00:00Z"', b'"2015-10-32T00:00:00Z"', b'"2015-10-31T24:00:00Z"', b'"2015-10-31T22:60:00Z"',
    b'"2015-10-31T22:22:60Z"', b'"2015-10-31T22:22:54.1234567890Z"', b'"15-10-31T22:22:54Z"',
    b'"2015-10-31T22:22:54+0100"', b'"2015-10-31T22:22:54.Z"', b'"2015-1-31T22:22:54Z"',
])
def test_time_parse_errors(raw):
    with pytest.raises(GoJSONError):
        GoTime.parse_json(raw)


def test_time_marshal_year_range():
    with pytest.raises(GoJSONError):
        GoTime.parse_json(b'"0000-01-00T00:00:00Z"').marshal_json()  # normalises into year -1
    assert GoTime().marshal_json() == b'"0001-01-01T00:00:00Z"'       # the zero time.Time
