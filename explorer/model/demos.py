"""Built-in demos: a map configuration and a short script of operations, each chosen so
the interesting events really happen (checked by the tests)."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.model.map_config import MapConfig
from explorer.model.operations import Operation, parse_command
from explorer.model.session import Session

__all__ = ["DEMOS", "Demo", "demo_names", "load_demo", "showcase_steps"]


@dataclass(frozen=True)
class Demo:
    name: str
    title: str
    description: str
    config: MapConfig
    script: tuple[str, ...]
    twin: MapConfig | None = None
    shows: tuple[str, ...] = ()
    showcase: str = ""  # the event a still picture of the demo should stop at

    def operations(self) -> list[Operation]:
        return [parse_command(line) for line in self.script]


DEMOS: dict[str, Demo] = {}


def _add(demo: Demo) -> None:
    DEMOS[demo.name] = demo


_add(
    Demo(
        name="robinhood-basics",
        title="Robin Hood basics",
        description=(
            "Open addressing with linear probing. Every slot remembers how far its key sits "
            "from home (its DIB). An arriving key that is further from home than a resident "
            "takes the slot and the resident moves on; lookups stop early at a richer key."
        ),
        config=MapConfig(backend="robinhood", capacity=8, max_load_factor=0.9),
        script=(
            "put apple 1",
            "put banana 2",
            "put cherry 3",
            "put elder 4",
            "put guava 5",
            "put date 6",
            "put kiwi 7",
            "get banana",
            "get grape",
            "put apple 10",
            "del cherry",
            "put fig 8",
            "put lemon 9",
            "get kiwi",
        ),
        shows=("displace", "resize", "backshift", "compare"),
        showcase="displace",
    )
)

_add(
    Demo(
        name="chaining-basics",
        title="Two-level chaining basics",
        description=(
            "Each bucket is split into groups by the top bits of the hash; colliding keys "
            "form a short chain in their group. When the table holds more than max load x "
            "buckets entries, it doubles and every entry is re-linked."
        ),
        config=MapConfig(backend="chaining", capacity=2, groups=2, max_load_factor=2.0),
        script=(
            "put apple 1",
            "put banana 2",
            "put cherry 3",
            "put date 4",
            "get banana",
            "get kiwi",
            "put elder 5",
            "del apple",
            "get banana",
            "put banana 20",
        ),
        shows=("resize", "remove", "compare"),
        showcase="compare:match",
    )
)

_add(
    Demo(
        name="adaptive-migration",
        title="Adaptive map: migrating from chains to Robin Hood",
        description=(
            "The adaptive map starts on chaining and watches guardrails. When the load "
            "crosses 0.8 it starts a migration to Robin Hood and moves up to two entries per "
            "operation; reads look in both tables until the cursor reaches the end."
        ),
        config=MapConfig(
            backend="adaptive",
            capacity=8,
            extra={
                "migration_batch": 2,
                "guardrails": {"min_entries": 6, "cooldown_ops": 4, "cooldown_per_entry": 0.0},
            },
        ),
        script=(
            "put apple 1",
            "put banana 2",
            "put cherry 3",
            "put date 4",
            "put elder 5",
            "put fig 6",
            "put grape 7",
            "get apple",
            "put kiwi 8",
            "get cherry",
            "del date",
            "get fig",
            "put lemon 9",
            "get grape",
        ),
        shows=("guardrail", "migrate"),
        showcase="migrate:batch:2",
    )
)

_add(
    Demo(
        name="tombstones-vs-backshift",
        title="Deleting: tombstones against backward shift",
        description=(
            "The same operations on two Robin Hood tables. Above, deletes leave tombstones "
            "that later probes must walk past until a compaction; below, backward shift "
            "pulls the following keys one slot back, so no tombstones remain."
        ),
        config=MapConfig(backend="robinhood", capacity=8, deletion="tombstone"),
        twin=MapConfig(backend="robinhood", capacity=8, deletion="backshift"),
        script=(
            "put apple 1",
            "put banana 2",
            "put cherry 3",
            "put elder 4",
            "put satsuma 5",
            "del cherry",
            "get satsuma",
            "del elder",
            "get satsuma",
            "put guava 6",
            "compact",
            "get satsuma",
        ),
        shows=("tombstone", "compact"),
        showcase="probe:tombstone",
    )
)


def _matches(event: object, pattern: str) -> bool:
    kind, _, detail = pattern.partition(":")
    if getattr(event, "kind", None) != kind:
        return False
    detail, _, _ = detail.partition(":")
    if not detail:
        return True
    if kind == "compare":
        return bool(getattr(event, "equal", False)) == (detail == "match")
    if kind == "probe":
        return getattr(event, "state", None) == detail
    return getattr(event, "phase", None) == detail


def showcase_steps(session: Session, demo: Demo) -> int:
    """Micro-steps from the start of ``demo`` to its showcase event (the n-th match when
    the pattern ends in ``:n``), or 0 when it has none. Leaves the session at the start."""
    if not demo.showcase:
        return 0
    wanted = int(demo.showcase.rsplit(":", 1)[1]) if demo.showcase[-1].isdigit() else 1
    pattern = demo.showcase.rsplit(":", 1)[0] if demo.showcase[-1].isdigit() else demo.showcase
    steps = seen = 0
    session.to_start()
    while session.step_forward():
        steps += 1
        if _matches(session.frame().event, pattern):
            seen += 1
            if seen == wanted:
                break
    session.to_start()
    return steps


def demo_names() -> list[str]:
    return list(DEMOS)


def load_demo(session: Session, name: str) -> Demo:
    """Reset ``session`` to demo ``name`` with its operations queued from the start."""
    try:
        demo = DEMOS[name]
    except KeyError:
        known = ", ".join(DEMOS)
        raise KeyError(f"unknown demo {name!r} (known: {known})") from None
    session.reset(demo.config.with_fixed_seed(), twin=demo.twin)
    session.replay(demo.operations())
    session.title = demo.title
    session.description = demo.description
    return demo
