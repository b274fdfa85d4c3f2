"""Sharded inventory, the pure decisions: how many stock shards an event gets, how its tickets are split over
them, and which shards a booking or a hold takes from (docs/data-model.md, "Stock shards").

Pure: no store, no clock. The store keeps the shards and enforces every take by condition; these only
choose, so a wrong guess costs a lost condition and a retry, never a ticket.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Final

# An event edit writes a copy of what it changes to every shard in ONE transaction, which DynamoDB caps at 100
# actions: deleting an event writes its item, every shard's quota and its 8 check-in count shards (N + 9),
# and so does moving its start. 90 keeps both within one transaction (docs/data-model.md, "Stock shards").
MAX_SHARDS: Final = 90
# What an admin may choose (POST/PATCH /events `inventory_shards`): 1-64, the API contract's range (DESIGN.md,
# v3). Only the automatic default of an event above 64 x TICKETS_PER_SHARD tickets (14,336) goes beyond it, up to
# MAX_SHARDS: 64 shards of one item serve ~4,300 bookings a second in the partition model, short of 5,000.
MAX_CHOSEN: Final = 64
# A shard is one item in a partition of its own (a partition key costs nothing): it takes 1,000 write units a
# second, a booking costs it 4 (its stock and type items, each under 1 KB, twice in a transaction: 250 a
# second), and transactions on one item conflict: one holds it about 10 ms, so with buyers arriving at random
# a shard commits about 56 bookings a second (the partition model: 5,000 a second over 90 shards), the binding
# limit. An event is sized to sell out no faster than in 4 s at that rate: one shard per 224 tickets (20,000
# tickets: 90 shards, 5,000 bookings a second), at least 1, at most MAX_SHARDS.
BOOKINGS_PER_SHARD_SECOND: Final = 56
SELL_OUT_SECONDS: Final = 4
TICKETS_PER_SHARD: Final = BOOKINGS_PER_SHARD_SECOND * SELL_OUT_SECONDS

Plan = Mapping[int, int]  # shard -> tickets taken from (or given back to) it


def default_count(total_tickets: int) -> int:
    """The shards an event of `total_tickets` gets unless the admin says otherwise."""
    return max(1, min(MAX_SHARDS, -(-total_tickets // TICKETS_PER_SHARD)))


def split(total: int, count: int) -> list[int]:
    """`total` tickets over `count` shards as evenly as whole tickets go, the first ones taking the rest."""
    base, rest = divmod(total, count)
    return [base + (1 if k < rest else 0) for k in range(count)]


def first_guess(count: int, empty: frozenset[int], rng: random.Random | None = None) -> int:
    """The shard to try first without reading any: at random (spreading the load) among those not known to
    be empty; any at all when every one is."""
    pick = rng or random
    hopeful = [k for k in range(count) if k not in empty]
    return pick.choice(hopeful or list(range(count)))


def plan(stock: Sequence[int], quantity: int, rng: random.Random | None = None) -> dict[int, int] | None:
    """Where to take `quantity` from, given what each shard has (`stock`, as one atomic read saw it): one
    shard with enough, picked at random; else (near sell-out) several, the fullest first, in one
    transaction; None when all of them together have fewer."""
    if sum(stock) < quantity:
        return None
    pick = rng or random
    enough = [k for k, left in enumerate(stock) if left >= quantity]
    if enough:
        return {pick.choice(enough): quantity}
    taken: dict[int, int] = {}
    for k in sorted(range(len(stock)), key=lambda k: (-stock[k], k)):
        if quantity == 0:
            break
        share = min(stock[k], quantity)
        taken[k] = share
        quantity -= share
    return taken


def drop(taken: Plan, quantity: int) -> tuple[dict[int, int], dict[int, int]]:
    """`quantity` tickets out of `taken` (the shards a booking took from): (what goes back to which shard,
    what the booking keeps), from its last shards first."""
    back: dict[int, int] = {}
    kept = dict(taken)
    for k in sorted(kept, reverse=True):
        if quantity == 0:
            break
        share = min(kept[k], quantity)
        back[k] = share
        quantity -= share
        kept[k] -= share
    return back, {k: n for k, n in kept.items() if n}


def combined(stock: Sequence[int], sub_quota: Sequence[int] | None) -> list[int]:
    """What each shard can sell of a type: its event stock, and no more than its share of the type's sub-quota."""
    if sub_quota is None:
        return list(stock)
    return [min(a, b) for a, b in zip(stock, sub_quota, strict=True)]
