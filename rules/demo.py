"""A realistic demo data set, deterministic for a seed.

People with plans, lifetime values (mostly numbers, a few strings and some
missing, to show that comparisons never cross types), signup dates, countries
and tags; purchase / add_to_cart / signed_in events; page views of offer
pages (some people keep coming back to the same offer); iOS and Android
devices; and deliveries of a few campaigns with sent / delivered / opened /
clicked metrics. The documents of a chunk of people are built in memory and
written with `insert_many` in batches, so memory stays flat for 100,000 people and more.
`events_per_person` scales every kind of activity alike, keeping the shape.

The loader writes documents directly and does not notify the membership
engine: segments are (re)built from the store.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Callable

from rules.store.collections import DELIVERIES, DEVICES, EVENTS, IDENTITIES, PEOPLE
from rules.people.identifiers import person_identity_documents
from rules.store.documents import (
    delivery_document,
    device_document,
    event_document,
    event_id,
    person_document,
)
from rules.store.types import Database

DAY = 86_400.0
# Each batch is one write: a server sharing the store waits behind it (measured on the
# embedded store, docs/decisions.md #15: a Track API request waited up to 6.6 s behind 1,000
# documents, 4.0 s behind 250), and smaller batches cost more round trips.
BATCH_SIZE = 250
# People built in memory at once before their documents are written.
PEOPLE_PER_CHUNK = 2000
# The average number of events (all types) per person at the default scale.
DEFAULT_EVENTS_PER_PERSON = 8.55

PLANS = (("free", 0.6), ("pro", 0.3), ("enterprise", 0.1))
COUNTRIES = (("US", 0.35), ("GB", 0.12), ("DE", 0.12), ("FR", 0.1), ("BR", 0.1), ("IN", 0.11), ("JP", 0.1))
TAGS = ("vip", "newsletter", "beta", "churn_risk", "mobile", "webinar")
FIRST_NAMES = ("ada", "alan", "grace", "linus", "margaret", "ken", "barbara", "dennis", "frances", "edsger")
LAST_NAMES = ("lovelace", "turing", "hopper", "torvalds", "hamilton", "thompson", "liskov", "ritchie", "allen")
PRODUCTS = (("t-shirt", 25.0), ("hoodie", 60.0), ("mug", 12.0), ("sticker pack", 5.0), ("backpack", 90.0))
OFFER_PAGES = 20
OTHER_PAGES = ("/", "/pricing", "/docs", "/blog")
SCREENS = ("Home", "Cart", "Settings")
# (campaign id, message id, channel, share of people sent to)
CAMPAIGNS = (
    ("cmp_welcome", "msg_welcome_email", "email", 0.9),
    ("cmp_spring_sale", "msg_spring_sale_email", "email", 0.6),
    ("cmp_app_nudge", "msg_app_nudge_push", "push", 0.3),
)

Progress = Callable[[int, int], None]


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    values, weights = zip(*weighted)
    return rng.choices(values, weights=weights)[0]


def _demo_cio_id(workspace_id: str, seed: int, index: int) -> str:
    # Deterministic, yet distinct per workspace (people `_id`s are global).
    return hashlib.sha1(f"{workspace_id}|{seed}|{index}".encode()).hexdigest()[:20]


def _lifetime_value(rng: random.Random, plan: str) -> Any:
    roll = rng.random()
    if roll < 0.05:
        return None  # missing
    value = round(rng.lognormvariate({"free": 4, "pro": 7, "enterprise": 10}[plan], 1.0), 2)
    if roll < 0.08:
        return str(int(value))  # a string where numbers are expected: a type trap
    return value


class _DemoBuilder:
    """Accumulates the documents of one demo data set, collection by collection."""

    def __init__(self, workspace_id: str, *, now: float, seed: int, activity_scale: float = 1.0) -> None:
        self.ws = workspace_id
        self.now = now
        self.seed = seed
        self.rng = random.Random(seed)
        self.activity_scale = activity_scale
        self.events_made = 0
        self.docs: dict[str, list[dict[str, Any]]] = {}
        self.take_docs()

    def take_docs(self) -> dict[str, list[dict[str, Any]]]:
        """The documents built since the last call, by collection."""
        taken, self.docs = self.docs, {PEOPLE: [], IDENTITIES: [], EVENTS: [], DEVICES: [], DELIVERIES: []}
        return taken

    def _times(self, count: int) -> range:
        """`count` scaled by `activity_scale` (rounded at random, so the mean is exact)."""
        if self.activity_scale == 1.0:
            return range(count)
        return range(int(count * self.activity_scale + self.rng.random()))

    def _event(self, person_id: str, type: str, name: str, data: dict[str, Any], ts: float) -> None:
        client_id = f"demo-{self.seed}-{self.events_made}"
        self.events_made += 1
        self.docs[EVENTS].append(
            event_document(
                self.ws,
                doc_id=event_id(self.ws, client_id),
                person_id=person_id,
                anonymous_id=None,
                type=type,
                name=name,
                data=data,
                ts=ts,
                received_at=ts,
            )
        )

    def _moment_since(self, start: float) -> float:
        return round(self.rng.uniform(max(start, self.now - 180 * DAY), self.now), 3)

    def add_person(self, index: int) -> None:
        rng = self.rng
        cio_id = _demo_cio_id(self.ws, self.seed, index)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        plan = _pick(rng, PLANS)
        signed_up = round(self.now - rng.uniform(1, 730) * DAY, 3)
        attributes: dict[str, Any] = {
            "first_name": first.capitalize(),
            "last_name": last.capitalize(),
            "plan": plan,
            "country": _pick(rng, COUNTRIES),
            "tags": rng.sample(TAGS, rng.randint(0, 3)),
            "newsletter": rng.random() < 0.4,
        }
        lifetime_value = _lifetime_value(rng, plan)
        if lifetime_value is not None:
            attributes["lifetime_value"] = lifetime_value
        person = person_document(
            self.ws,
            cio_id,
            profile_id=f"user-{index:06d}",
            email=f"{first}.{last}.{index}@example.com",
            attributes=attributes,
            created_at=signed_up,
            now=self.now,
        )
        self.docs[PEOPLE].append(person)
        self.docs[IDENTITIES].extend(person_identity_documents(self.ws, person))
        self._add_activity(cio_id, signed_up)

    def _add_activity(self, person_id: str, signed_up: float) -> None:
        rng = self.rng
        for _ in self._times(rng.randint(0, 4)):
            self._event(person_id, "event", "signed_in", {"method": rng.choice(("password", "google", "sso"))}, self._moment_since(signed_up))
        for _ in self._times(rng.randint(0, 5)):
            product, price = rng.choice(PRODUCTS)
            self._event(person_id, "event", "add_to_cart", {"product": product, "price": price}, self._moment_since(signed_up))
        for _ in self._times(rng.choices((0, 1, 2, 3), weights=(5, 3, 1, 1))[0]):
            product, price = rng.choice(PRODUCTS)
            quantity = rng.randint(1, 3)
            data = {"product": product, "quantity": quantity, "amount": round(price * quantity, 2), "currency": "USD"}
            self._event(person_id, "event", "purchase", data, self._moment_since(signed_up))
        favourite_offer = f"/offers/{rng.randint(1, OFFER_PAGES)}"
        for _ in self._times(rng.choices((0, 1, 3, 6), weights=(4, 3, 2, 1))[0]):
            self._event(person_id, "page", favourite_offer, {"referrer": rng.choice(("google", "newsletter", ""))}, self._moment_since(signed_up))
        for _ in self._times(rng.randint(0, 2)):
            page = rng.choice(OTHER_PAGES + (f"/offers/{rng.randint(1, OFFER_PAGES)}",))
            self._event(person_id, "page", page, {}, self._moment_since(signed_up))
        if rng.random() < 0.5:
            self._add_device(person_id, signed_up)
        self._add_deliveries(person_id, signed_up)

    def _add_device(self, person_id: str, signed_up: float) -> None:
        rng = self.rng
        platform = rng.choice(("ios", "android"))
        token = hashlib.sha1(f"{person_id}|device".encode()).hexdigest()
        last_used = self._moment_since(signed_up)
        attributes = {"app_version": rng.choice(("3.1.0", "3.2.0", "4.0.0")), "push_enabled": rng.random() < 0.7}
        self.docs[DEVICES].append(
            device_document(self.ws, person_id=person_id, token=token, platform=platform, last_used=last_used, attributes=attributes)
        )
        for _ in self._times(rng.randint(0, 3)):
            self._event(person_id, "screen", rng.choice(SCREENS), {"platform": platform}, self._moment_since(signed_up))

    def _add_deliveries(self, person_id: str, signed_up: float) -> None:
        rng = self.rng
        for campaign_id, message_id, channel, share in CAMPAIGNS:
            if rng.random() >= share:
                continue
            sent = self._moment_since(signed_up)
            metrics = {"sent": sent}
            # Each later metric happens to a share of those who had the previous one.
            for metric, rate in (("delivered", 0.95), ("opened", 0.5), ("clicked", 0.3)):
                if rng.random() >= rate:
                    break
                sent = round(min(self.now, sent + rng.uniform(1, 2 * DAY)), 3)
                metrics[metric] = sent
            self.docs[DELIVERIES].append(
                delivery_document(
                    self.ws,
                    delivery_id=f"dlv_{hashlib.sha1(f'{person_id}|{campaign_id}'.encode()).hexdigest()[:16]}",
                    person_id=person_id,
                    message_id=message_id,
                    campaign_id=campaign_id,
                    broadcast_id=None,
                    channel=channel,
                    metrics=metrics,
                    created_at=metrics["sent"],
                )
            )


async def load_demo(
    db: Database,
    workspace_id: str,
    *,
    now: float,
    people: int = 2000,
    seed: int = 7,
    events_per_person: float | None = None,
    progress: Progress | None = None,
) -> dict:
    """Fill an empty workspace with demo data; returns how many of each were
    written. `progress(people written, people)` is called after each chunk."""
    if people < 1:
        raise ValueError("people must be at least 1")
    if events_per_person is not None and events_per_person <= 0:
        raise ValueError("events per person must be more than 0")
    if await db[PEOPLE].find_one({"ws": workspace_id}, {"_id": 1}) is not None:
        raise ValueError(f"workspace {workspace_id} already has people; demo data goes into an empty workspace")
    scale = 1.0 if events_per_person is None else events_per_person / DEFAULT_EVENTS_PER_PERSON
    builder = _DemoBuilder(workspace_id, now=now, seed=seed, activity_scale=scale)
    counts = {"people": 0, "events": 0, "pageViews": 0, "screens": 0, "devices": 0, "deliveries": 0}
    event_counts = {"event": "events", "page": "pageViews", "screen": "screens"}
    for chunk_start in range(0, people, PEOPLE_PER_CHUNK):
        for index in range(chunk_start, min(people, chunk_start + PEOPLE_PER_CHUNK)):
            builder.add_person(index)
        docs = builder.take_docs()
        for collection, documents in docs.items():
            for start in range(0, len(documents), BATCH_SIZE):
                await db[collection].insert_many(documents[start : start + BATCH_SIZE], ordered=False)
        counts["people"] += len(docs[PEOPLE])
        counts["devices"] += len(docs[DEVICES])
        counts["deliveries"] += len(docs[DELIVERIES])
        for event in docs[EVENTS]:
            counts[event_counts[event["type"]]] += 1
        if progress is not None:
            progress(counts["people"], people)
    return {"workspaceId": workspace_id, **counts}
