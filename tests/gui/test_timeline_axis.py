"""The timeline's axis, density strip and lanes on memories placed at chosen times: the
dates read at every zoom from years to seconds, and the strip counts what the view shows."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtGui import QFont, QFontMetrics

from memlens.core.record import MemoryRecord
from memlens.gui.palette import OTHER, QUALITATIVE
from memlens.gui.selection import SelectionModel
from memlens.gui.timeline_view import RETRIEVAL_TOP, TimelineView

START = datetime(2023, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


@pytest.fixture
def timeline(qtbot, make_service):
    """Two bursts a year apart (20 and 10 memories), then one memory a few seconds later."""
    times = [at(60 * i) for i in range(20)]
    times += [at(365 * 86400 + 3600 * i) for i in range(10)]
    times += [at(365 * 86400 + 9 * 3600 + 7)]
    records = [
        MemoryRecord(id=f"m{i:02d}", text=f"Memory number {i}", user_id=("ann", "ben")[i % 2], created_at=t)
        for i, t in enumerate(times)
    ]
    service = make_service("axis")
    service.add(records)
    view = TimelineView(service, SelectionModel())
    qtbot.addWidget(view)
    view.resize(1000, 500)
    view.show()
    qtbot.waitExposed(view)
    return view, times


SPANS = {
    "years": (timedelta(days=5 * 365), r"^\d{4}$"),
    "months": (timedelta(days=60), r"^[A-Z][a-z]{2}$"),
    "hours": (timedelta(hours=6), r"^\d{2}:\d{2}$"),
    "seconds": (timedelta(seconds=40), r"^\d{2}:\d{2}:\d{2}$"),
}


def drawn_labels(view: TimelineView, lo: datetime, hi: datetime) -> list[list[tuple[float, str]]]:
    """Per tick level, the (x in pixels, text) of each date label with `lo`–`hi` in view."""
    view.box.setXRange(lo.timestamp(), hi.timestamp(), padding=0)
    view.grab()  # lay out and paint, as on screen
    axis = view.plot.getAxis("bottom")
    a, b = lo.timestamp(), hi.timestamp()
    px = axis.width() / (b - a)
    return [
        [((v - a) * px, s) for v, s in zip(values, axis.tickStrings(values, 1.0, spacing), strict=True)]
        for spacing, values in axis.tickValues(a, b, axis.width())
    ]


@pytest.mark.parametrize("zoom", list(SPANS))
def test_the_date_axis_reads_at_every_zoom_from_years_to_seconds(timeline, zoom):
    view, _times = timeline
    span, pattern = SPANS[zoom]
    levels = drawn_labels(view, START, START + span)
    texts = [s for level in levels for _x, s in level]
    assert len(texts) >= 3, texts
    assert any(re.search(pattern, s) for s in texts), texts


@pytest.mark.parametrize("days", [5 * 365, 700, 60, 3, 0.25, 40 / 86400])
def test_no_two_date_labels_overprint(timeline, days):
    view, _times = timeline
    metrics = QFontMetrics(view.plot.getAxis("bottom").style.get("tickFont") or QFont())
    levels = drawn_labels(view, START, START + timedelta(days=days))
    placed = sorted((x, s) for level in levels for x, s in level)
    for (x0, s0), (x1, s1) in itertools.pairwise(placed):
        half_widths = (metrics.horizontalAdvance(s0) + metrics.horizontalAdvance(s1)) / 2
        assert x1 - x0 >= half_widths, (s0, s1, x1 - x0)


def test_the_density_strip_counts_what_the_view_covers(qtbot, timeline):
    view, times = timeline
    _edges, counts = view.density_created.getData()
    assert counts.sum() == len(times)  # the whole store is in view at first

    # Zoom on the first burst: the strip counts exactly its 20 memories.
    view.box.setXRange(at(-600).timestamp(), at(1800).timestamp(), padding=0)
    view._update_density()
    edges, counts = view.density_created.getData()
    assert counts.sum() == 20
    assert edges[0] == pytest.approx(at(-600).timestamp())


def test_retrievals_take_a_narrow_band_above_the_lanes(qtbot, timeline):
    view, times = timeline
    later = times[-1].timestamp() + 30 * 86400  # a search made a month after the last memory
    view.set_retrievals([(times[0].timestamp() + 30, 4), (later, 2)])
    assert view.box.viewRange()[0][1] > later  # in view, not past the right edge
    top, bottom = view.box.viewRange()[1]
    assert top == pytest.approx(RETRIEVAL_TOP)
    band = -0.5 - top  # from the top of the plot to the top of lane 0
    assert band / (bottom - top) < 0.3  # two lanes here: with more, the band's share shrinks
    assert view.plot.getAxis("left")._tickLevels[0][0][1] == "retrievals"


def test_every_lane_has_its_own_colour_and_the_rest_fold_into_a_grey_other(qtbot, make_service):
    users = [f"user-{n:02d}" for n in range(20)]
    records = [
        MemoryRecord(id=f"u{n:02d}-{i}", text=f"{u} note {i}", user_id=u, created_at=at(3600 * n + i))
        for n, u in enumerate(users)
        for i in range(20 - n)  # lanes of different sizes: the biggest get their own lane
    ]
    service = make_service("lanes")
    service.add(records)
    view = TimelineView(service, SelectionModel())
    qtbot.addWidget(view)
    view.lanes_box.setCurrentText("user")
    assert len(view._lane_labels) == len(QUALITATIVE) + 1
    assert view._lane_labels[-1] == "(other)"
    assert view._lane_labels[:3] == users[:3]
    brushes = view._lane_brushes()[:, 0]
    colours = [b.color().name() for b in brushes]
    assert len(set(colours[:-1])) == len(QUALITATIVE)  # no two lanes look alike
    assert colours[-1] == OTHER
