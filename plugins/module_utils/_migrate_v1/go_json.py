# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""JSON as Go 1.5's encoding/json reads and writes it (Docker 1.10.3 was built with Go 1.5.3).

Docker hashes bytes that Go produced, so an image ID can only be predicted by writing the same bytes.
What this reproduces, from Go 1.5's encoding/json (scanner.go, decode.go, encode.go, indent.go) and
time/format.go:

- the grammar of the scanner (strict RFC 7159; bytes >= 0x80 pass unchecked inside strings);
- string decoding (``unquoteBytes``): invalid UTF-8 bytes and lone surrogate escapes become U+FFFD;
- string encoding (``encodeState.string``): ``\\"``, ``\\\\``, ``\\n``, ``\\r``, ``\\t``, other bytes below
  0x20 and ``<``, ``>``, ``&`` as ``\\u00XX`` (lower-case hex), U+2028 and U+2029 as ``\\u2028``/``\\u2029``,
  everything else as UTF-8;
- ``json.RawMessage`` values: re-emitted through ``compact(..., escape=true)``: insignificant white space
  dropped, ``<``, ``>``, ``&`` and U+2028/U+2029 escaped, every other byte kept (so ``\\u00e9`` stays
  ``\\u00e9`` and ``é`` stays ``é``);
- maps: keys sorted by their bytes; structs: field order, ``omitempty``;
- ``time.Time``: parsed with ``time.Parse(RFC3339)`` (Go 1.5 rules, see GoTime.parse), written as
  RFC 3339 with nanoseconds whose trailing zeros are trimmed, ``Z`` for a zero offset.

Standard library only, Python 3.6+.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re


class GoJSONError(ValueError):
    """Go's encoding/json (or time) would return an error for this input."""


# --------------------------------------------------------------------------------------------------
# Parsing (scanner.go + decode.go): a tree of nodes that keep their raw bytes

OBJECT = 'object'
ARRAY = 'array'
STRING = 'string'
NUMBER = 'number'
TRUE = 'true'
FALSE = 'false'
NULL = 'null'

_WHITESPACE = b' \t\r\n'
_NUMBER = re.compile(br'-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?')
# A string token as the scanner accepts it: no raw control byte, only the escapes JSON defines.
_STRING = re.compile(br'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
_MAX_DEPTH = 400  # Go has no limit; this is far beyond any Docker configuration


class Node(object):
    """One JSON value: kind, value (decoded: a str for strings, the literal text for numbers, a list
    of (key, Node) for objects in document order, a list of Nodes for arrays) and its raw bytes."""

    __slots__ = ('kind', 'value', 'raw')

    def __init__(self, kind, value, raw):
        self.kind = kind
        self.value = value
        self.raw = raw

    def __repr__(self):
        return 'Node(%s, %r)' % (self.kind, self.raw[:60])


def _skip_ws(data, pos):
    length = len(data)
    while pos < length and data[pos] in _WHITESPACE:
        pos += 1
    return pos


def _error(data, pos, what):
    near = data[pos:pos + 20]
    return GoJSONError('invalid JSON at offset %d (%s): %r' % (pos, what, near))


def _parse_value(data, pos, depth):
    if depth > _MAX_DEPTH:
        raise _error(data, pos, 'nested too deeply')
    if pos >= len(data):
        raise _error(data, pos, 'unexpected end of input')
    char = data[pos:pos + 1]
    if char == b'{':
        return _parse_object(data, pos, depth)
    if char == b'[':
        return _parse_array(data, pos, depth)
    if char == b'"':
        match = _STRING.match(data, pos)
        if not match:
            raise _error(data, pos, 'bad string')
        end = match.end()
        return Node(STRING, unquote(data[pos:end]), data[pos:end]), end
    for literal, kind in ((b'true', TRUE), (b'false', FALSE), (b'null', NULL)):
        if data.startswith(literal, pos):
            end = pos + len(literal)
            return Node(kind, None, data[pos:end]), end
    match = _NUMBER.match(data, pos)
    if match:
        end = match.end()
        text = data[pos:end]
        return Node(NUMBER, text.decode('ascii'), text), end
    raise _error(data, pos, 'unexpected character')


def _parse_object(data, start, depth):
    items = []
    pos = _skip_ws(data, start + 1)
    if data[pos:pos + 1] == b'}':
        return Node(OBJECT, items, data[start:pos + 1]), pos + 1
    while True:
        if data[pos:pos + 1] != b'"':
            raise _error(data, pos, 'object key expected')
        key, pos = _parse_value(data, pos, depth + 1)
        pos = _skip_ws(data, pos)
        if data[pos:pos + 1] != b':':
            raise _error(data, pos, 'colon expected')
        value, pos = _parse_value(data, _skip_ws(data, pos + 1), depth + 1)
        items.append((key.value, value))
        pos = _skip_ws(data, pos)
        char = data[pos:pos + 1]
        if char == b'}':
            return Node(OBJECT, items, data[start:pos + 1]), pos + 1
        if char != b',':
            raise _error(data, pos, 'comma or } expected')
        pos = _skip_ws(data, pos + 1)


def _parse_array(data, start, depth):
    items = []
    pos = _skip_ws(data, start + 1)
    if data[pos:pos + 1] == b']':
        return Node(ARRAY, items, data[start:pos + 1]), pos + 1
    while True:
        value, pos = _parse_value(data, pos, depth + 1)
        items.append(value)
        pos = _skip_ws(data, pos)
        char = data[pos:pos + 1]
        if char == b']':
            return Node(ARRAY, items, data[start:pos + 1]), pos + 1
        if char != b',':
            raise _error(data, pos, 'comma or ] expected')
        pos = _skip_ws(data, pos + 1)


def parse(data):
    """The document data (bytes) as a Node, with Go's checkValid rules: one value, white space
    around it allowed, nothing else. Raises GoJSONError."""
    if not isinstance(data, bytes):
        raise TypeError('parse() takes bytes')
    node, pos = _parse_value(data, _skip_ws(data, 0), 0)
    pos = _skip_ws(data, pos)
    if pos != len(data):
        raise _error(data, pos, 'data after the value')
    return node


def parse_stream_value(data):
    """The first value of data as json.NewDecoder(r).Decode reads it: leading white space skipped,
    anything after the value ignored; empty input is an error (io.EOF)."""
    if not isinstance(data, bytes):
        raise TypeError('parse_stream_value() takes bytes')
    pos = _skip_ws(data, 0)
    if pos == len(data):
        raise GoJSONError('EOF')
    return _parse_value(data, pos, 0)[0]


_ESCAPES = {b'"': u'"', b'\\': u'\\', b'/': u'/', b'b': u'\b', b'f': u'\f', b'n': u'\n', b'r': u'\r',
            b't': u'\t'}


def _go_utf8(chunk):
    """bytes -> str the way Go's utf8.DecodeRune walks them: each invalid byte becomes one U+FFFD
    (Python's strict decoder agrees with Go on what is valid: no surrogates, no overlong forms)."""
    out = []
    pos = 0
    length = len(chunk)
    while pos < length:
        decoded = None
        for size in (1, 2, 3, 4):
            if pos + size > length:
                break
            try:
                decoded = chunk[pos:pos + size].decode('utf-8')
            except UnicodeDecodeError:
                continue
            pos += size
            break
        if decoded is None:
            out.append(u'\ufffd')
            pos += 1
        else:
            out.append(decoded)
    return u''.join(out)


def _hex4(raw, pos):
    """The value of \\uXXXX at raw[pos:], or -1 (Go's getu4)."""
    if raw[pos:pos + 2] != b'\\u' or len(raw) < pos + 6:
        return -1
    try:
        return int(raw[pos + 2:pos + 6].decode('ascii'), 16)
    except ValueError:
        return -1


def unquote(raw):
    """A JSON string token (bytes, with its quotes) decoded as Go's unquoteBytes does."""
    body = raw[1:-1]
    if b'\\' not in body:
        return _decode_plain(body)
    out = []
    pos = 0
    length = len(body)
    while pos < length:
        slash = body.find(b'\\', pos)
        if slash < 0:
            out.append(_decode_plain(body[pos:]))
            break
        if slash > pos:
            out.append(_decode_plain(body[pos:slash]))
        code = body[slash + 1:slash + 2]
        if code != b'u':
            out.append(_ESCAPES[code])
            pos = slash + 2
            continue
        rune = _hex4(body, slash)
        pos = slash + 6
        if 0xD800 <= rune <= 0xDFFF:
            low = _hex4(body, pos)
            if 0xD800 <= rune < 0xDC00 and 0xDC00 <= low <= 0xDFFF:
                out.append(chr(0x10000 + ((rune - 0xD800) << 10) + (low - 0xDC00)))
                pos += 6
                continue
            out.append(u'\ufffd')
            continue
        out.append(chr(rune))
    return u''.join(out)


def _decode_plain(chunk):
    try:
        return chunk.decode('utf-8')
    except UnicodeDecodeError:
        return _go_utf8(chunk)


# --------------------------------------------------------------------------------------------------
# Encoding (encode.go, indent.go)

_HEX = '0123456789abcdef'
_STRING_NEEDS_ESCAPE = re.compile(u'[\x00-\x1f"\\\\<>&\u2028\u2029]')
_SPECIAL = {u'"': u'\\"', u'\\': u'\\\\', u'\n': u'\\n', u'\r': u'\\r', u'\t': u'\\t',
            u'\u2028': u'\\u2028', u'\u2029': u'\\u2029'}


def _escape_char(match):
    char = match.group(0)
    special = _SPECIAL.get(char)
    if special:
        return special
    code = ord(char)
    return u'\\u00' + _HEX[code >> 4] + _HEX[code & 0xF]


def encode_string(text):
    """A str as Go's encodeState.string writes it (HTML-safe, as json.Marshal always was in Go 1.5)."""
    return (u'"' + _STRING_NEEDS_ESCAPE.sub(_escape_char, text) + u'"').encode('utf-8', 'surrogatepass')


_STRING_TOKEN = re.compile(br'"(?:[^"\\]|\\.)*"', re.DOTALL)
_RAW_ESCAPES = ((b'<', b'\\u003c'), (b'>', b'\\u003e'), (b'&', b'\\u0026'),
                (b'\xe2\x80\xa8', b'\\u2028'), (b'\xe2\x80\xa9', b'\\u2029'))


def _escape_raw_string(token):
    for plain, escaped in _RAW_ESCAPES:
        if plain in token:
            token = token.replace(plain, escaped)
    return token


def compact(raw):
    """Go's compact(dst, raw, escape=true), which json.Marshal applies to a RawMessage's bytes.
    raw must be valid JSON (a value parse() accepted)."""
    out = []
    pos = 0
    for match in _STRING_TOKEN.finditer(raw):
        between = raw[pos:match.start()]
        if between:
            out.append(between.translate(None, _WHITESPACE))
        out.append(_escape_raw_string(match.group(0)))
        pos = match.end()
    rest = raw[pos:]
    if rest:
        out.append(rest.translate(None, _WHITESPACE))
    return b''.join(out)


class Raw(object):
    """Bytes already in JSON (a json.RawMessage): marshalled through compact()."""

    __slots__ = ('raw',)

    def __init__(self, raw):
        self.raw = raw


class Struct(object):
    """A Go struct value for marshal(): fields in declaration order, as (json name, value, omitempty)."""

    __slots__ = ('fields',)

    def __init__(self, fields):
        self.fields = fields


def _is_empty(value):
    """Go's isEmptyValue for the types used here (a GoTime is a struct: never empty)."""
    if value is None or value is False:
        return True
    if isinstance(value, (int, str, list, tuple, dict)) and not isinstance(value, bool):
        return not value
    return False


def marshal(value):
    """json.Marshal of a Go value modelled in Python: None (nil), bool, int, str, list (slice),
    dict with str keys (map, keys sorted), Struct, Raw, GoTime. Returns bytes; raises GoJSONError
    where Go's Marshal returns an error (a time outside years 0-9999)."""
    parts = []
    _marshal_into(value, parts)
    return b''.join(parts)


def _marshal_into(value, parts):
    if value is None:
        parts.append(b'null')
    elif value is True:
        parts.append(b'true')
    elif value is False:
        parts.append(b'false')
    elif isinstance(value, int):
        parts.append(str(value).encode('ascii'))
    elif isinstance(value, str):
        parts.append(encode_string(value))
    elif isinstance(value, Raw):
        parts.append(compact(value.raw))
    elif isinstance(value, GoTime):
        parts.append(value.marshal_json())
    elif isinstance(value, Struct):
        parts.append(b'{')
        first = True
        for name, field_value, omitempty in value.fields:
            if omitempty and _is_empty(field_value):
                continue
            if not first:
                parts.append(b',')
            first = False
            parts.append(encode_string(name))
            parts.append(b':')
            _marshal_into(field_value, parts)
        parts.append(b'}')
    elif isinstance(value, dict):
        parts.append(b'{')
        for index, key in enumerate(sorted(value, key=lambda k: k.encode('utf-8', 'surrogatepass'))):
            if index:
                parts.append(b',')
            parts.append(encode_string(key))
            parts.append(b':')
            _marshal_into(value[key], parts)
        parts.append(b'}')
    elif isinstance(value, (list, tuple)):
        parts.append(b'[')
        for index, item in enumerate(value):
            if index:
                parts.append(b',')
            _marshal_into(item, parts)
        parts.append(b']')
    else:
        raise TypeError('cannot marshal %r' % (value,))


def object_members(data):
    """json.Unmarshal(data, &map[string]*json.RawMessage): {key: Raw or None (null)}; later duplicate
    keys win, as in Go. Raises GoJSONError when data is not a JSON object."""
    node = parse(data)
    if node.kind != OBJECT:
        raise GoJSONError('expected a JSON object, found %s' % node.kind)
    members = {}
    for key, child in node.value:
        members[key] = None if child.kind == NULL else Raw(child.raw)
    return members


def marshal_raw_object(members):
    """json.Marshal(map[string]*json.RawMessage): keys sorted, each value compacted."""
    return marshal(members)


# --------------------------------------------------------------------------------------------------
# time.Time (time/format.go, time/time.go of Go 1.5)

_RFC3339 = re.compile(r'"([0-9]{4})-(..)-(..)T([0-9][0-9]?):(..):(..)(\.[0-9]+)?(.*)"\Z', re.DOTALL)


def _go_atoi(text):
    """time's atoi: an optional sign and digits, nothing else (ValueError otherwise)."""
    if not re.match(r'[-+]?[0-9]+\Z', text):
        raise ValueError(text)
    value = int(text)
    if abs(value) > (1 << 63) - 1:
        raise ValueError(text)
    return value


def _fixed2(text):
    """getnum(value, fixed=true): exactly two digits."""
    if not re.match(r'[0-9]{2}\Z', text):
        raise ValueError(text)
    return int(text)


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, day may overflow the month)."""
    year -= month <= 2
    era = year // 400  # floor division: right for negative years too
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days):
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    year = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return year + (month <= 2), month, day


class GoTime(object):
    """A time.Time as Docker's JSON carries it: wall clock fields and the offset they are in."""

    __slots__ = ('year', 'month', 'day', 'hour', 'minute', 'second', 'nanosecond', 'offset')

    def __init__(self, year=1, month=1, day=1, hour=0, minute=0, second=0, nanosecond=0, offset=0):
        # time.Date normalises an overflowing day (Go 1.5's Parse accepts day 0-31 in any month).
        self.year, self.month, self.day = _civil_from_days(_days_from_civil(year, month, day))
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
        self.offset = offset

    def __eq__(self, other):
        return isinstance(other, GoTime) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return 'GoTime(%s)' % self.format_rfc3339nano()

    @classmethod
    def parse_json(cls, raw):
        """Time.UnmarshalJSON: time.Parse('"' + RFC3339 + '"', raw token) with Go 1.5's rules: the raw
        bytes (quotes included, escapes not decoded), a four digit year, two digit month (1-12), day
        (0-31, normalised), minute and second (0-59), a one or two digit hour (0-23), any number of
        fraction digits (at most 9 significant: 10 or more digits must stay below 1e9), then Z or
        +hh:mm / -hh:mm. null and every other JSON value are errors."""
        text = raw.decode('latin-1')
        match = _RFC3339.match(text)
        if not match:
            raise GoJSONError('parsing time %s as RFC 3339: bad format' % text)
        year_text, month_text, day_text, hour_text, minute_text, second_text, fraction, zone = match.groups()
        try:
            year = int(year_text)
            month = _fixed2(month_text)
            day = _fixed2(day_text)
            hour = int(hour_text)
            minute = _fixed2(minute_text)
            second = _fixed2(second_text)
        except ValueError:
            raise GoJSONError('parsing time %s as RFC 3339: bad number' % text)
        for name, value, low, high in (('month', month, 1, 12), ('day', day, 0, 31), ('hour', hour, 0, 23),
                                       ('minute', minute, 0, 59), ('second', second, 0, 59)):
            if not low <= value <= high:
                raise GoJSONError('parsing time %s: %s out of range' % (text, name))
        nanosecond = 0
        if fraction:
            digits = fraction[1:]
            if len(digits) > 19 and int(digits) > (1 << 63) - 1:
                raise GoJSONError('parsing time %s: bad fraction' % text)
            nanosecond = int(digits)
            if nanosecond >= 1000000000:
                raise GoJSONError('parsing time %s: fractional second out of range' % text)
            if len(digits) < 9:
                nanosecond *= 10 ** (9 - len(digits))
        offset = cls._parse_zone(zone, text)
        return cls(year, month, day, hour, minute, second, nanosecond, offset)

    @staticmethod
    def _parse_zone(zone, text):
        if zone == 'Z':
            return 0
        if len(zone) != 6 or zone[3] != ':' or zone[0] not in '+-':
            raise GoJSONError('parsing time %s as RFC 3339: bad zone' % text)
        try:
            hours = _go_atoi(zone[1:3])
            minutes = _go_atoi(zone[4:6])
        except ValueError:
            raise GoJSONError('parsing time %s as RFC 3339: bad zone' % text)
        offset = (hours * 60 + minutes) * 60
        return -offset if zone[0] == '-' else offset

    def format_rfc3339nano(self):
        text = '%04d-%02d-%02dT%02d:%02d:%02d' % (self.year, self.month, self.day, self.hour, self.minute, self.second)
        if self.nanosecond:
            text += ('.%09d' % self.nanosecond).rstrip('0')
        if self.offset == 0:
            return text + 'Z'
        zone = abs(self.offset) // 60  # parsed offsets are whole minutes
        return text + '%s%02d:%02d' % ('-' if self.offset < 0 else '+', zone // 60, zone % 60)

    def marshal_json(self):
        """Time.MarshalJSON: RFC 3339 with trimmed nanoseconds; an error outside years 0-9999."""
        if not 0 <= self.year <= 9999:
            raise GoJSONError('Time.MarshalJSON: year outside of range [0,9999]')
        return ('"%s"' % self.format_rfc3339nano()).encode('ascii')


ZERO_TIME = GoTime()
