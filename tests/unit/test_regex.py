"""`matches` patterns: what is refused and why, and that the evaluator's
linear-time RE2 search means what Python's `re` (the embedded store's
`$regex`) means on every accepted pattern."""

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.conditions.regex import pattern_problem, search

UNBOUNDED = [
    "^(a+)+$",  # the reproduction of issue 12
    "(a*)*",
    "(a|ab)+c",
    "(a|a)*$",
    "(aa?)+$",
    "(|a)+",
    "a*a*b",
    ".*x.*y",
    "^.*x.*y.*z",  # two trading pairs even when anchored
    "[a-z.]+\\.[a-z]+",  # unanchored: search start times the trade
    "a{1001}",
    "(a{100}){100}",
    "x" * 1001,
]
UNSUPPORTED = ["(a)\\1", "(?=a)b", "(?<!a)b", "(?>a)", "a++", "(a)?(?(1)b|c)", "\\d+", "[\\w.]", "\\bword", "a\\Z", "(?m)^a", "(?a)x", "a$b", "(a$|b)c"]
INVALID = ["(", "*", "[z-a]", "\ud800"]
ACCEPTED = [
    "^a", "b$", "a.b", "[ab]+", "^$", "^/p/", "(?i)^Ada", "colou?r", "https?://[a-z.]+/", "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$",
    "(ab|c)+d", "[^@]+@[^@]+", "^.*x.*y", "(?s)a.b", "(?:x|y)*z$", "(a|b$)", "a{2,5}b", "^[0-9]{5}$", "(?i)straße",
]


@pytest.mark.parametrize("pattern", UNBOUNDED)
def test_shapes_that_can_stall_a_backtracking_engine_are_refused(pattern):
    refused = pattern_problem(pattern)
    assert refused is not None and refused.kind == "unbounded", refused


@pytest.mark.parametrize("pattern", UNSUPPORTED)
def test_constructs_the_engines_read_differently_are_refused(pattern):
    refused = pattern_problem(pattern)
    assert refused is not None and refused.kind == "unsupported", refused


@pytest.mark.parametrize("pattern", INVALID)
def test_invalid_patterns_are_refused(pattern):
    refused = pattern_problem(pattern)
    assert refused is not None and refused.kind == "invalid", refused


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_common_patterns_are_accepted(pattern):
    assert pattern_problem(pattern) is None


def test_the_evaluator_search_is_linear_even_on_a_catastrophic_pattern():
    # Refused on save; a stored condition is re-validated on load, but the
    # evaluator's engine itself has no exponential case either.
    started = time.perf_counter()
    assert not search("^(a+)+$", "a" * 40 + "!")
    assert search("(a|a)*$", "a" * 5_000 + "!")  # zero rounds, then the end
    assert time.perf_counter() - started < 1


TEXTS = st.text(alphabet=st.sampled_from("aAbB.x/\n é1ß"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(ACCEPTED), texts=st.lists(TEXTS, min_size=1, max_size=20))
def test_re2_translation_means_what_python_re_means(pattern, texts):
    for text in texts + ["b\n", "a\n", "", "\n"]:
        assert search(pattern, text) == (re.search(pattern, text) is not None), (pattern, text)


def test_a_dollar_matches_before_a_final_newline_as_in_python_and_pcre():
    assert search("b$", "ab\n") and search("b$", "ab") and not search("b$", "ab\nc")
    assert not search("b$", "ab\n\n")
