"""Plain decimal numbers of a CSV block parsed by whole-array NumPy operations, exactly.

A block of numeric CSV is read without a per-field Python or C call, and every accepted field gets
the float64 `float()`, `np.loadtxt` and strtod give (correctly rounded), bit for bit:

- The short path (most numeric files: at most 8 characters besides the sign, no exponent) takes the
  8 bytes that end each field as one uint64, removes its dot by a byte shift and sums the digits
  in three multiply-shift steps (SWAR, 8 digits at once). The integer M < 10^8 is exact in float64
  and so is 10^k for k <= 7: one division is the correctly rounded M / 10^k.
- The general path (longer fields, exponents) finds each field's dot and 'e': for a few fields by
  walking their bytes through the grammar's states (one vector step per character position), for
  many by the positions of all dots and e's in the text (one per field, or a binary search). The
  digit runs before and after the dot and the exponent's digits are then checked and summed like
  the short path, 8 at a time. M·10^e is rounded once:
  - M < 2^53 and |e| <= 22: M and 10^|e| are exact float64s, so one float64 multiply or divide is
    correctly rounded (Clinger's fast path, the first step of every strtod);
  - M < 2^64 and |e| <= 27, where long double is x87's (a 64-bit mantissa): M and 10^|e| are exact
    there, the product or quotient is rounded once to 64 bits and then to 53. The second rounding
    can differ from a single one only when the first landed exactly on a float64 midpoint; those
    fields are parsed by `float()`;
  - anything else (more than 19 digits, a far exponent) is parsed by `float()` per field.

The grammar accepted is [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?, a subset of
what `float()` accepts. `numbers()` returns None when any field is not such a number (an empty
field, a word such as nan, a space, a quote) or a row has another width: the caller's general
parser takes the block and says where a bad value is.
"""

from __future__ import annotations

import numpy as np

#: Fields longer than this go to the general parser (a plain number is rarely longer).
MAX_FIELD = 64
#: More per-field float() calls than this share of the fields: NumPy's parser is faster.
SLOW_SHARE = 0.05
#: Up to this share of a block's fields left by the short path, their bytes are walked one
#: position at a time (_scan); more, and the dots and exponents are found in the whole block.
SCAN_SHARE = 0.125
#: Bytes of text handled at a time (whole lines): the temporaries stay in the CPU's cache.
PIECE = 1 << 17
_PAD = 72  # zero bytes before and after a block: 8-byte reads around any field stay inside

_U = np.uint64
_BYTES = 0x0101010101010101


def _rep(byte: int) -> np.uint64:
    return _U(byte * _BYTES)


_ZEROS, _DOT, _7F, _76, _80 = _rep(0x30), _rep(0x1E), _rep(0x7F), _rep(0x76), _rep(0x80)
_POW10_U64 = np.array([10 ** k for k in range(20)], dtype=np.uint64)
_POW10_F64 = np.array([10.0 ** k for k in range(23)], dtype=np.float64)
# x87 extended (x86 Linux): a 64-bit mantissa in 16 bytes, the layout the halfway test reads.
_LONG = np.finfo(np.longdouble).nmant == 63 and np.dtype(np.longdouble).itemsize == 16
_POW10_LD = np.array([10 ** k for k in range(28)], dtype=np.longdouble) if _LONG else None
_TWO53 = _U(1 << 53)
# Indexed by a byte count k (0..8): the bits of a uint64 before its last k bytes.
_BEFORE = np.array([8 * (8 - k) for k in range(9)], dtype=np.uint64)
# Indexed by the dot's byte q (8: no dot): bytes below it, bytes above it, and 10^(digits after it).
_BELOW = np.array([(1 << (8 * q)) - 1 for q in range(8)] + [0], dtype=np.uint64)
_ABOVE = np.array([((1 << 64) - 1) ^ ((1 << (8 * (q + 1))) - 1) for q in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_SCALE = np.array([10.0 ** (7 - q) for q in range(8)] + [1.0])
_SCALE = np.concatenate([_SCALE, -_SCALE])  # + 9: a negative field


def _not_digits(v: np.ndarray) -> np.ndarray:
    """Per uint64 of byte values (the ASCII digit '0' is 0): nonzero where some byte is over 9."""
    return ((v & _7F) + _76 | v) & _80


def _swar8(v: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint64 of 8 digit values 0..9, byte 0 the most significant, as the integer they spell
    (into ``out``, which may be ``v``)."""
    v = np.multiply(v, _U(2561), out=out)
    v >>= _U(8)  # 10·a + b in the low byte of each 16-bit lane
    v &= _U(0x00FF00FF00FF00FF)
    v *= _U(6553601)
    v >>= _U(16)  # 100·ab + cd in each 32-bit lane's low half
    v &= _U(0x0000FFFF0000FFFF)
    v *= _U(42949672960001)
    v >>= _U(32)
    return v


def _words(buf: np.ndarray) -> np.ndarray:
    """Every 8-byte window of ``buf`` as a uint64 (window i starts at byte i), without a copy."""
    return np.ndarray((len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))


def numbers(block: bytes, n: int, width: int, delimiter: str) -> np.ndarray | None:
    """The block's n rows × width fields as float64 (n, width), or None when some field is not a
    plain decimal number or some row has another width. ``block``: ASCII lines each ending in
    \\n (the last may lack it), no \\r, no blank line."""
    if len(delimiter) != 1 or delimiter in "0123456789.eE+-\n\r" or not delimiter.isascii() or n < 1:
        return None
    size = len(block)
    if not block.endswith(b"\n"):
        size += 1  # the last line's break, added in buf
    buf = np.empty(_PAD + size + _PAD, np.uint8)
    buf[:_PAD] = 0
    buf[_PAD + size:] = 0
    buf[_PAD:_PAD + len(block)] = np.frombuffer(block, np.uint8)
    buf[_PAD + size - 1] = 10
    words = _words(buf)
    sep = ord(delimiter)
    values = np.empty(n * width, np.float64)
    pos, field, rows = 0, 0, 0
    while pos < size:
        # A piece of whole lines small enough for its temporaries to stay in the CPU's cache.
        cut = block.rfind(b"\n", pos, pos + PIECE) + 1
        if cut == 0:  # a line longer than a piece, or the last line without its break
            cut = block.find(b"\n", pos) + 1 or size
        text = buf[_PAD + pos:_PAD + cut]
        ends = np.flatnonzero((text == sep) | (text == 10))
        ends += _PAD + pos
        breaks = np.count_nonzero(buf[ends] == 10)
        if len(ends) != breaks * width or not (buf[ends[width - 1::width]] == 10).all() or field + len(ends) > len(values):
            return None  # every width-th field ends a line, and only those: every row has width fields
        part = values[field:field + len(ends)]
        left = _short(buf, words, ends, _PAD + pos, part)
        if left is None:
            return None
        at, starts, stops = left
        if len(at):  # long fields, exponents, or not numbers: the general path decides
            if len(at) <= SCAN_SHARE * len(ends):
                found = _scan(buf, starts, stops)
            else:
                found = _stream(text, _PAD + pos, ends, at, b"e" in block or b"E" in block)
            got = None if found is None else _general(buf, words, starts, stops, *found, block)
            if got is None:
                return None
            part[at] = got
        pos, field, rows = cut, field + len(ends), rows + breaks
    if rows != n:
        return None
    return values.reshape(n, width)


def _short(buf, words, end, first_start: int, values):
    """Fields ending before the bytes ``end`` of ``buf`` (the first starting at ``first_start``)
    into ``values`` when they have at most 8 characters besides the sign and no exponent. Returns
    (indices, starts, ends) of the fields left for _general, or None when a field is not a
    number. (In-place operations: each temporary is one of a dozen, for speed.)"""
    start = np.empty_like(end)
    start[0] = first_start
    np.add(end[:-1], 1, out=start[1:])
    first = buf[start]
    negative = first == 45
    span = end - start
    span -= negative | (first == 43)  # the field's length without its sign
    if span.min() < 1 or span.max() > MAX_FIELD:
        return None  # an empty (missing) field, a lone sign, or one too long to be a number
    long = span > 8
    if np.count_nonzero(long) * 2 > len(span):
        return np.arange(len(end)), start, end  # mostly long fields: all to the general path
    shift = _BEFORE[np.minimum(span, 8)]
    v = words[end - 8]  # the field's last 8 bytes
    v ^= _ZEROS  # '0'..'9' → 0..9
    v >>= shift
    v <<= shift  # the bytes before the field (and its sign) → 0
    t = v ^ _DOT
    dot = t & _7F
    dot += _7F
    dot |= t
    np.bitwise_not(dot, out=dot)
    dot &= _80  # 0x80 in the byte of each '.'
    dot -= _U(1)
    q = np.bitwise_count(dot).astype(np.intp)
    q >>= 3  # the first dot's byte, 8 when none
    low = _BELOW[q]
    low &= v
    low <<= _U(8)
    v &= _ABOVE[q]
    v |= low  # the dot removed: digits only, if a number
    t = v & _7F
    t += _76
    t |= v
    t &= _80
    bad = t != 0  # a byte that is not a digit: an exponent, a second dot, a word, ...
    bad |= long
    if np.count_nonzero(span + (q >> 3) < 2):
        return None  # a lone '.': no digit
    q += negative * 9
    # M < 10^8 and 10^(<=7) are exact float64s: one division, one rounding; the sign is the divisor's
    np.divide(_swar8(v, out=v), _SCALE[q], out=values)
    at = np.flatnonzero(bad)
    return at, start[at], end[at]


# ---------------------------------------------------------------- the general path
# Byte classes and the grammar's states for _general's state machine.
_DIGIT, _POINT, _EXP, _SIGN, _END, _OTHER = range(6)
_CLASS = np.full(256, _OTHER, np.uint8)
_CLASS[48:58] = _DIGIT
_CLASS[46] = _POINT
_CLASS[[69, 101]] = _EXP
_CLASS[[43, 45]] = _SIGN
# States: 0 start, 1 sign, 2 integer digits, 3 dot after digits, 4 dot first, 5 fraction digits,
# 6 'e', 7 exponent sign, 8 exponent digits, 9 not a number. End-of-field keeps the state.
_BAD = 9
_NEXT = np.full((10, 6), _BAD, np.uint8)
_NEXT[:, _END] = np.arange(10)
_NEXT[0, [_DIGIT, _POINT, _SIGN]] = 2, 4, 1
_NEXT[1, [_DIGIT, _POINT]] = 2, 4
_NEXT[2, [_DIGIT, _POINT, _EXP]] = 2, 3, 6
_NEXT[3, [_DIGIT, _EXP]] = 5, 6
_NEXT[4, _DIGIT] = 5
_NEXT[5, [_DIGIT, _EXP]] = 5, 6
_NEXT[6, [_DIGIT, _SIGN]] = 8, 7
_NEXT[7, _DIGIT] = 8
_NEXT[8, _DIGIT] = 8
_NEXT = _NEXT.ravel()
_ACCEPT = np.zeros(10, bool)
_ACCEPT[[2, 3, 5, 8]] = True


def _run(words, end: np.ndarray, count: np.ndarray):
    """The integer spelled by the ``count`` bytes that end before byte ``end`` of each field
    (uint64: exact where the third return is true), and whether all those bytes are digits.
    The third: the digits before the last 19 are none or zeros (up to 24 are summed)."""
    total = np.zeros(len(end), np.uint64)
    ok, fits = True, count <= 19
    for j in range((int(count.max(initial=0)) + 7) // 8):
        shift = (np.clip(8 - (count - 8 * j), 0, 8) << 3).astype(np.uint64)  # bytes before the run
        v = ((words[end - 8 * (j + 1)] ^ _ZEROS) >> shift) << shift
        ok = ok and not _not_digits(v).any()
        if j < 3:  # digits 1-24 from the right; further ones are only checked
            digits = _swar8(v, out=v)
            total += digits * _POW10_U64[8 * j]
            if j == 2:
                fits |= (count <= 24) & (digits < _U(1000))
    return total, ok, fits


def _scan(buf, starts: np.ndarray, ends: np.ndarray):
    """(dot, e) byte of each field (its end when none) found by walking the fields' bytes one
    position at a time through the grammar's states, or None when a field is not a number."""
    lengths = ends - starts
    state = np.zeros(len(starts), np.uint8)
    dot = ends.copy()
    exp = ends.copy()
    for r in range(int(lengths.max())):
        c = _CLASS[buf[starts + r]]
        c[lengths <= r] = _END
        state = _NEXT[state.astype(np.intp) * 6 + c]
        np.copyto(dot, starts + r, where=c == _POINT)
        np.copyto(exp, starts + r, where=c == _EXP)
    if not _ACCEPT[state].all():
        return None
    return dot, exp


def _one_each(found: np.ndarray, ends: np.ndarray, first_start: int) -> np.ndarray | None:
    """Per field, the byte of the one ``found`` position inside it, or its end when none; None
    when a field holds two. ``found`` and ``ends`` ascend; no found byte is a field's end."""
    starts = np.empty_like(ends)
    starts[0] = first_start
    starts[1:] = ends[:-1] + 1
    if len(found) == len(ends) and (found >= starts).all() and (found < ends).all():
        return found  # one in every field (a column format such as %.4f or %.18e)
    field = np.searchsorted(ends, found)
    if len(field) > 1 and not (np.diff(field) > 0).all():
        return None
    out = ends.copy()
    out[field] = found
    return out


def _stream(text, offset: int, ends: np.ndarray, at: np.ndarray, exponents: bool):
    """(dot, e) byte of the fields ``at`` of a piece of text (its first byte at ``offset`` in the
    padded block; ``ends``: the byte after each of its fields), found in its bytes at once; None
    when a field holds two. The digits between them are checked by _general."""
    dot = _one_each(np.flatnonzero(text == 46) + offset, ends, offset)
    if dot is None:
        return None
    if not exponents:
        return dot[at], ends[at]
    exp = _one_each(np.flatnonzero((text | 32) == 101) + offset, ends, offset)
    if exp is None:
        return None
    return dot[at], exp[at]


def _general(buf, words, starts, ends, dot, exp, block: bytes) -> np.ndarray | None:
    """Values of fields (absolute byte offsets into ``buf``) whose dot and 'e' are at ``dot`` and
    ``exp`` (the field's end when none), or None when one is not a number of the grammar (the
    bytes between them not digits), or too many need float()."""
    m = len(starts)
    has_e = exp < ends
    if (has_e & (dot > exp) & (dot < ends)).any():
        return None  # a dot in the exponent
    first = buf[starts]
    signed = (first == 43) | (first == 45)
    mant_end = np.minimum(dot, exp)  # the integer digits end at the dot, or the 'e', or the end
    n_int = mant_end - starts - signed
    n_frac = exp - np.minimum(dot + 1, exp)
    exp_sign = buf[exp + 1]
    exp_start = exp + 1 + (has_e & ((exp_sign == 43) | (exp_sign == 45)))
    n_exp = np.where(has_e, ends - exp_start, 0)
    if (n_int < 0).any() or (n_int + n_frac < 1).any() or (has_e & (n_exp < 1)).any():
        return None  # no digit before the 'e' or after it
    # The runs are summed and checked to be digits. Up to 19 digits fit a uint64, and so do up
    # to 24 after a zero integer part when the first ones are zeros (0.000123...).
    mantissa, ok_int, int_fits = _run(words, mant_end, n_int)
    fraction, ok_frac, frac_fits = _run(words, exp, n_frac)
    exponent, ok_exp, _ = _run(words, ends, n_exp)
    if not (ok_int and ok_frac and ok_exp):
        return None
    exact = ((n_int + n_frac <= 19) | ((mantissa == 0) & int_fits & frac_fits)) & (n_exp <= 8)
    mantissa = mantissa * _POW10_U64[np.where(exact, np.minimum(n_frac, 19), 0)] + fraction  # I is 0 past 19
    exponent = exponent.astype(np.int64)
    exponent[has_e & (exp_sign == 45)] *= -1
    e10 = np.where(mantissa == 0, 0, exponent - n_frac)  # 0e999 is 0

    values = np.empty(m, np.float64)
    done = exact & (mantissa <= _TWO53) & (np.abs(e10) <= 22)
    at = np.flatnonzero(done)
    man = mantissa[at].astype(np.float64)
    e = e10[at]
    up = e >= 0
    values[at] = np.where(up, man * _POW10_F64[np.where(up, e, 0)], man / _POW10_F64[np.where(up, 0, -e)])
    rest = np.flatnonzero(~done)
    if len(rest) and _LONG:
        near = rest[exact[rest] & (np.abs(e10[rest]) <= 27)]
        if len(near):
            m80 = mantissa[near].astype(np.longdouble)
            e = e10[near]
            x80 = np.empty(len(near), np.longdouble)
            up = e >= 0
            np.multiply(m80, _POW10_LD[np.where(up, e, 0)], out=x80, where=up)
            np.divide(m80, _POW10_LD[np.where(up, 0, -e)], out=x80, where=~up)
            # Two roundings differ from one only when the first lands exactly halfway between two
            # float64s: the 64-bit mantissa's last 11 bits are then 10000000000.
            halfway = (x80.view(np.uint64)[::2] & _U(0x7FF)) == _U(0x400)
            clear = near[~halfway]
            values[clear] = x80[~halfway].astype(np.float64)
            done[clear] = True
            rest = np.flatnonzero(~done)
    if len(rest) > SLOW_SHARE * m + 16:
        return None
    np.negative(values, out=values, where=first == 45)
    for i in rest:  # float() of the field's text: correctly rounded, as strtod
        values[i] = float(block[starts[i] - _PAD:ends[i] - _PAD])
    return values
