"""rules/topics.py: the one place that spells what changed about a person."""

from rules import topics
from rules.conditions.dependencies import Dependencies, affected_by


def test_topics_are_spelled_kind_colon_name():
    assert topics.attribute("plan") == "attribute:plan"
    assert topics.activity("event", "purchase") == "event:purchase"
    assert topics.activity("screen", "Cart") == "screen:Cart"
    assert topics.activity("page", "https://example.com/") == topics.PAGE == "page"


def test_every_kind_is_decided_by_affected_by():
    """A kind missing from the table would count as unknown (affecting all): that
    is safe, but a new kind must be decided on purpose."""
    from rules.conditions.dependencies import _AFFECTS

    assert set(_AFFECTS) == set(topics.TopicKind)


def test_only_deletion_and_merging_remove_a_person():
    assert topics.removes_person({topics.MERGED})
    assert topics.removes_person({topics.attribute("x"), topics.DELETED})
    assert not topics.removes_person({topics.CREATED, topics.attribute("deleted")})


def test_an_unknown_topic_affects_every_condition():
    nothing = Dependencies()
    assert affected_by(nothing, {"no-such-kind"})
    assert not affected_by(nothing, {topics.PAGE, topics.DEVICE, topics.MESSAGE, topics.activity("event", "x")})
