"""Regular expressions of `matches` conditions: which patterns are accepted,
and a linear-time search for the reference evaluator.

Three engines see a `matches` pattern: MongoDB's PCRE and the embedded
store's Python `re` (both backtracking, in the pipelines) and RE2 (linear
time, in the evaluator). A pattern is accepted only when it means the same
on all three and cannot make the backtracking engines explode:

- unsupported (`UNSUPPORTED_REGEX`): backreferences, lookarounds,
  conditionals, atomic groups and possessive quantifiers (RE2 has none),
  `\\d \\w \\s \\b` and their negations (Unicode in Python, ASCII in PCRE and
  RE2), `\\Z` (end of string in Python, before a final newline in PCRE), the
  flags other than `i`, `s` and `x`, and a `$` that something could follow;
- unbounded (`UNBOUNDED_REGEX`): shapes that backtrack exponentially or
  polynomially beyond the search itself: a repeated part that can match
  empty, holds a variable repeat (`(a+)+`) or alternatives that can start
  with the same character (`(a|ab)+`), and variable repeats that can trade
  characters with each other (`a*a*`, `.*x.*`);
- more than MAX_PATTERN_LENGTH characters or a count above RE2's 1000.

The evaluator does not run the pattern text: it runs an RE2 translation of
Python's parse tree with Python's meaning made explicit (`^` as `\\A`, `$` as
"an optional final newline, then the end", `.` without or with `s`), so a
stored pattern that predates these rules cannot stall the evaluator either.
"""

from __future__ import annotations

import re
import re._constants as sre
import re._parser as sre_parse
from functools import lru_cache

import re2

__all__ = ["MAX_PATTERN_LENGTH", "PatternRefused", "pattern_problem", "search"]

MAX_PATTERN_LENGTH = 1000
MAX_COUNT = 1000  # RE2's largest {n,m}
MAX_UNICODE = 0x10FFFF
_ALLOWED_FLAGS = re.IGNORECASE | re.DOTALL | re.VERBOSE
_IMPLICIT_FLAGS = re.UNICODE  # set by Python on every str pattern

_UNSUPPORTED_OPCODES = {
    sre.GROUPREF: "backreferences",
    sre.GROUPREF_EXISTS: "conditional groups",
    sre.ASSERT: "lookarounds",
    sre.ASSERT_NOT: "lookarounds",
    sre.ATOMIC_GROUP: "atomic groups",
    sre.POSSESSIVE_REPEAT: "possessive quantifiers",
    sre.CATEGORY: r"\d, \w and \s (write a class such as [0-9])",
}
_UNSUPPORTED_ANCHORS = {
    sre.AT_END_STRING: r"\Z",
    sre.AT_BOUNDARY: r"\b",
    sre.AT_NON_BOUNDARY: r"\B",
}


class PatternRefused(ValueError):
    """`kind` is "invalid", "unsupported" or "unbounded"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def pattern_problem(pattern: str) -> PatternRefused | None:
    """Why `pattern` is refused, or None when it is accepted."""
    try:
        items, flags = _parse(pattern)
        _check_flags(flags)
        anchored = bool(items) and items[0] in ((sre.AT, sre.AT_BEGINNING), (sre.AT, sre.AT_BEGINNING_STRING))
        _Checker(anchored).check(items, at_tail=True)
        _compiled(pattern)
    except PatternRefused as refused:
        return refused
    except re2.error as error:  # e.g. counts whose product exceeds RE2's memory budget
        return PatternRefused("unbounded", f"regular expression too large for a linear-time engine: {error}")
    return None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` (accepted by `pattern_problem`) finds a match in `text`, in linear time."""
    # RE2 reads UTF-8; a lone surrogate (possible in JSON input) cannot be
    # encoded and is seen as U+FFFD, like any other character by `.` and `[^x]`.
    return _compiled(pattern).search(text.encode("utf-8", "replace").decode("utf-8")) is not None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re2._Regexp:
    items, flags = _parse(pattern)
    options = re2.Options()
    options.log_errors = False
    return re2.compile(_print(items, flags), options)


def _parse(pattern: str) -> tuple[list, int]:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternRefused("unbounded", f"a regular expression has at most {MAX_PATTERN_LENGTH} characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in pattern):
        raise PatternRefused("invalid", "not a valid regular expression: it holds a lone surrogate")
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError) as error:
        raise PatternRefused("invalid", f"not a valid regular expression: {error}") from None
    return list(parsed), parsed.state.flags & ~_IMPLICIT_FLAGS


def _check_flags(flags: int) -> None:
    if flags & ~_ALLOWED_FLAGS:
        raise PatternRefused("unsupported", "only the flags i, s and x are supported in a regular expression")


# ---------------------------------------------------------------- the rules


class _Checker:
    """Refuses unsupported constructs and unbounded shapes.

    A backtracking search tries every start position (a factor n, the
    string's length, unless the pattern starts with `^`) and every way two
    variable repeats that can trade characters share them (another factor
    n). At most one such factor is allowed, so an accepted pattern costs
    O(n^2) steps at worst: `^[a-z.]+\\.[a-z]+$` is accepted, `[a-z.]+\\.[a-z]+`
    (unanchored) and `^a*a*a*` are not."""

    def __init__(self, anchored: bool) -> None:
        self.trades_left = 1 if anchored else 0

    def check(self, items: list, *, at_tail: bool) -> None:
        for index, (op, arg) in enumerate(items):
            tail = at_tail and index == len(items) - 1
            if op in _UNSUPPORTED_OPCODES:
                raise PatternRefused("unsupported", f"{_UNSUPPORTED_OPCODES[op]} are not supported in a regular expression")
            if op is sre.IN and any(item_op is sre.CATEGORY for item_op, _ in arg):
                raise PatternRefused(
                    "unsupported", f"{_UNSUPPORTED_OPCODES[sre.CATEGORY]} are not supported in a regular expression"
                )
            if op is sre.AT:
                if arg in _UNSUPPORTED_ANCHORS:
                    raise PatternRefused("unsupported", f"{_UNSUPPORTED_ANCHORS[arg]} is not supported in a regular expression")
                if arg is sre.AT_END and not tail:
                    raise PatternRefused("unsupported", "$ is supported only at the end of a regular expression")
            elif op is sre.BRANCH:
                for branch in arg[1]:
                    self.check(list(branch), at_tail=tail)
            elif op is sre.SUBPATTERN:
                _group, add_flags, del_flags, body = arg
                _check_flags((add_flags | del_flags) & ~_IMPLICIT_FLAGS)
                self.check(list(body), at_tail=tail)
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
                low, high, body = arg
                if high != sre.MAXREPEAT and high > MAX_COUNT or low > MAX_COUNT:
                    raise PatternRefused("unbounded", f"a repeat count is at most {MAX_COUNT}")
                body = list(body)
                self.check(body, at_tail=tail and high <= 1)
                if high > 1:
                    _check_repeated(body)
        self.check_adjacent(items)

    def check_adjacent(self, items: list) -> None:
        """Variable repeats that can trade characters (`a*a*`, `.*x.*y`)."""
        flat = _flatten(items)
        for i, first in enumerate(flat):
            if not _is_variable(first):
                continue
            first_chars = _chars([first])
            for later in flat[i + 1 :]:
                if _is_variable(later) and _intersects(first_chars, _chars([later])):
                    self.trades_left -= 1
                    if self.trades_left < 0:
                        raise PatternRefused(
                            "unbounded",
                            "variable repeats that can match the same characters one after the other, such as a*a* "
                            "or .*x.*, can take polynomial time (one such pair is allowed after a leading ^)",
                        )
                    break
                if not (_nullable([later]) or _subset(_chars([later]), first_chars)):
                    break


def _check_repeated(body: list) -> None:
    """A part repeated more than once must be matched one way only per round."""
    if _nullable(body):
        raise PatternRefused("unbounded", "a repeated part of a regular expression must not match the empty string")
    if _has_variable_repeat(body):
        raise PatternRefused(
            "unbounded", "a repeated part holding a quantifier, such as (a+)+ or (aa?)+, can take exponential time"
        )
    for branches in _alternatives(body):
        starts = [_first_chars(list(branch)) for branch in branches]
        if any(_nullable(list(branch)) for branch in branches) or any(
            _intersects(a, b) for i, a in enumerate(starts) for b in starts[i + 1 :]
        ):
            raise PatternRefused(
                "unbounded",
                "repeated alternatives that can start with the same character, such as (a|ab)+, can take exponential time",
            )


def _flatten(items: list) -> list:
    """The sequence with plain groups opened up."""
    flat = []
    for op, arg in items:
        if op is sre.SUBPATTERN:
            flat.extend(_flatten(list(arg[3])))
        else:
            flat.append((op, arg))
    return flat


def _is_variable(item: tuple) -> bool:
    op, arg = item
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return arg[0] != arg[1]
    if op is sre.BRANCH:
        return any(_has_variable_repeat(list(branch)) for branch in arg[1])
    return False


def _has_variable_repeat(items: list) -> bool:
    for op, arg in items:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            if arg[0] != arg[1] or _has_variable_repeat(list(arg[2])):
                return True
        elif op is sre.SUBPATTERN and _has_variable_repeat(list(arg[3])):
            return True
        elif op is sre.BRANCH and any(_has_variable_repeat(list(branch)) for branch in arg[1]):
            return True
    return False


def _alternatives(items: list):
    """Every alternation inside `items`, as its list of branches."""
    for op, arg in items:
        if op is sre.BRANCH:
            yield arg[1]
            for branch in arg[1]:
                yield from _alternatives(list(branch))
        elif op is sre.SUBPATTERN:
            yield from _alternatives(list(arg[3]))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            yield from _alternatives(list(arg[2]))
        elif op is sre.IN:
            # [ab] is one character: never ambiguous.
            continue


def _nullable(items: list) -> bool:
    for op, arg in items:
        if op is sre.AT:
            continue
        if op is sre.SUBPATTERN:
            if not _nullable(list(arg[3])):
                return False
        elif op is sre.BRANCH:
            if not any(_nullable(list(branch)) for branch in arg[1]):
                return False
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            if arg[0] > 0 and not _nullable(list(arg[2])):
                return False
        else:
            return False
    return True


# Character sets as sorted lists of inclusive (low, high) code point ranges.


def _first_chars(items: list) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for op, arg in items:
        if op is sre.AT:
            continue
        if op is sre.SUBPATTERN:
            ranges += _first_chars(list(arg[3]))
            if not _nullable(list(arg[3])):
                break
        elif op is sre.BRANCH:
            for branch in arg[1]:
                ranges += _first_chars(list(branch))
            if not any(_nullable(list(branch)) for branch in arg[1]):
                break
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            ranges += _first_chars(list(arg[2]))
            if arg[0] > 0 and not _nullable(list(arg[2])):
                break
        else:
            ranges += _chars([(op, arg)])
            break
    return _normalized(ranges)


def _chars(items: list) -> list[tuple[int, int]]:
    """Every character `items` can consume (case variants included: the flags are not tracked here)."""
    ranges: list[tuple[int, int]] = []
    for op, arg in items:
        if op is sre.LITERAL:
            ranges += _case_variants(arg)
        elif op is sre.NOT_LITERAL:
            ranges += _complement(_normalized(_case_variants(arg)))
        elif op is sre.ANY:
            ranges.append((0, MAX_UNICODE))
        elif op is sre.IN:
            ranges += _class_chars(arg)
        elif op is sre.SUBPATTERN:
            ranges += _chars(list(arg[3]))
        elif op is sre.BRANCH:
            for branch in arg[1]:
                ranges += _chars(list(branch))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            ranges += _chars(list(arg[2]))
    return _normalized(ranges)


def _class_chars(items: list) -> list[tuple[int, int]]:
    ranges = []
    for op, arg in items:
        if op is sre.LITERAL:
            ranges += _case_variants(arg)
        elif op is sre.RANGE:
            ranges.append(arg)
            if arg[1] - arg[0] < 256:
                for code in range(arg[0], arg[1] + 1):
                    ranges += _case_variants(code)
    if any(op is sre.NEGATE for op, _ in items):
        return _complement(_normalized(ranges))
    return ranges


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    gaps, start = [], 0
    for low, high in ranges:
        if low > start:
            gaps.append((start, low - 1))
        start = high + 1
    return gaps + ([(start, MAX_UNICODE)] if start <= MAX_UNICODE else [])


def _case_variants(code: int) -> list[tuple[int, int]]:
    char = chr(code)
    return [(ord(c), ord(c)) for c in {char, char.lower(), char.upper(), char.casefold()} if len(c) == 1]


def _normalized(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _intersects(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(low_a <= high_b and low_b <= high_a for low_a, high_a in a for low_b, high_b in b)


def _subset(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return all(any(low_b <= low_a and high_a <= high_b for low_b, high_b in b) for low_a, high_a in a)


# ---------------------------------------------------------------- RE2 translation


def _char(code: int) -> str:
    return f"\\x{{{code:x}}}"


def _print(items: list, flags: int) -> str:
    return "".join(_print_item(op, arg, flags) for op, arg in items)


def _with_case(text: str, flags: int) -> str:
    return f"(?i:{text})" if flags & re.IGNORECASE else text


def _print_item(op, arg, flags: int) -> str:
    if op is sre.LITERAL:
        return _with_case(_char(arg), flags)
    if op is sre.NOT_LITERAL:
        return _with_case(f"[^{_char(arg)}]", flags)
    if op is sre.ANY:
        return "(?s:.)" if flags & re.DOTALL else "[^\\n]"
    if op is sre.IN:
        parts: list[str] = []
        for item_op, item_arg in arg:
            if item_op is sre.NEGATE:
                parts.insert(0, "^")
            elif item_op is sre.LITERAL:
                parts.append(_char(item_arg))
            else:  # RANGE
                parts.append(f"{_char(item_arg[0])}-{_char(item_arg[1])}")
        return _with_case(f"[{''.join(parts)}]", flags)
    if op is sre.BRANCH:
        return "(?:" + "|".join(_print(list(branch), flags) for branch in arg[1]) + ")"
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, body = arg
        return f"(?:{_print(list(body), (flags | add_flags) & ~del_flags)})"
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        low, high, body = arg
        bounds = f"{{{low},}}" if high == sre.MAXREPEAT else f"{{{low},{high}}}"
        return f"(?:{_print(list(body), flags)}){bounds}" + ("?" if op is sre.MIN_REPEAT else "")
    if op is sre.AT:
        # Python's `$` (no `m` flag): at the end or before a final newline; it is always last here.
        return {sre.AT_BEGINNING: "\\A", sre.AT_BEGINNING_STRING: "\\A", sre.AT_END: "(?:\\n?\\z)"}[arg]
    raise PatternRefused("unsupported", f"{op} is not supported in a regular expression")
