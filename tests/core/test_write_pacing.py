"""Store writes sized so each call holds the window for about the target time."""

from memlens.core.write_pacing import WritePacer


def call_time(fixed_s: float, per_item_s: float):
    return lambda n: fixed_s + per_item_s * n


def settle(pacer: WritePacer, cost, calls: int = 40) -> int:
    for _ in range(calls):
        pacer.record(pacer.size, cost(pacer.size))
    return pacer.size


def test_calls_settle_where_they_take_the_target_time():
    # 20 ms a call plus 1 ms a memory, as Chroma at 100,000 memories: 20 fit in 40 ms.
    cost = call_time(0.020, 0.001)
    pacer = WritePacer(target_s=0.04, first=5)
    size = settle(pacer, cost)
    assert 18 <= size <= 20
    assert cost(size) <= 0.04


def test_a_slower_machine_gets_smaller_calls_at_once():
    pacer = WritePacer(target_s=0.04, first=20)
    settle(pacer, call_time(0.020, 0.001))
    busy = call_time(0.030, 0.003)  # the CPU is suddenly shared
    before = pacer.size
    pacer.record(before, busy(before))
    assert pacer.size <= before * 0.04 / busy(before)  # one slow call is enough to shrink
    # Where the fixed part alone nears the target, calls settle at the smallest size.
    assert settle(pacer, busy) == pacer.smallest


def test_calls_never_go_below_or_above_the_bounds():
    slow = WritePacer(target_s=0.04, smallest=4, largest=200)
    assert settle(slow, call_time(0.5, 0.01)) == 4
    fast = WritePacer(target_s=0.04, smallest=4, largest=200)
    assert settle(fast, call_time(0.0, 0.00001)) == 200


def test_spans_cover_every_item_once_in_order():
    pacer = WritePacer(first=7)
    items = list(range(103))
    written = []
    for span in pacer.spans(len(items)):
        written.extend(items[span])
    assert written == items
    assert list(pacer.spans(0)) == []
