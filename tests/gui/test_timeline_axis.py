"""The timeline's axis, density strip and lanes on memories placed at chosen times: the
dates read at every zoom from years to seconds, and the strip counts what the view shows."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter

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


def drawn_labels(view: TimelineView, lo: datetime, hi: datetime) -> list[tuple[QRectF, str]]:
    """The date labels the axis draws with `lo`–`hi` in view, left to right: (where, text)."""
    view.box.setXRange(lo.timestamp(), hi.timestamp(), padding=0)
    view.grab()  # lay out and paint, as on screen
    axis = view.plot.getAxis("bottom")
    image = QImage(axis.size().toSize(), QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _line, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return sorted(((rect, text) for rect, _flags, text in texts), key=lambda label: label[0].left())


@pytest.mark.parametrize("zoom", list(SPANS))
def test_the_date_axis_reads_at_every_zoom_from_years_to_seconds(timeline, zoom):
    view, _times = timeline
    span, pattern = SPANS[zoom]
    texts = [text for _rect, text in drawn_labels(view, START, START + span)]
    assert len(texts) >= 3, texts
    assert any(re.search(pattern, s) for s in texts), texts


@pytest.mark.parametrize("days", [5 * 365, 700, 60, 3, 0.25, 40 / 86400, 7 / 86400, 1 / 86400])
def test_no_two_date_labels_overprint(timeline, days):
    view, _times = timeline
    labels = drawn_labels(view, START, START + timedelta(days=days))
    for (a, s0), (b, s1) in itertools.pairwise(labels):
        assert not a.intersects(b), (s0, s1)


def time_read(text: str, minute: datetime) -> datetime:
    """The time a label says: "09:00:51", or "…50.5" within `minute`."""
    if text.startswith("…"):
        return minute + timedelta(seconds=float(text[1:]))
    hour, mins, secs = (int(part) for part in text.split(":"))
    return minute.replace(hour=hour, minute=mins, second=secs)


@pytest.mark.parametrize("seconds", [1, 2, 7, 30])
def test_a_few_seconds_read_as_times_of_a_named_day(timeline, seconds):
    view, _times = timeline
    lo = at(50.2)  # 09:00:50.2
    hi = lo + timedelta(seconds=seconds)
    labels = drawn_labels(view, lo, hi)
    axis = view.plot.getAxis("bottom")
    assert any(re.fullmatch(r"09:0[01]:\d{2}", text) for _rect, text in labels), labels
    assert all(re.fullmatch(r"09:0[01]:\d{2}|…\d{2}\.\d{1,3}", text) for _rect, text in labels), labels
    # Each label says the time at its tick, to the pixel.
    px_per_s = axis.width() / seconds
    for rect, text in labels:
        said = (time_read(text, START) - lo).total_seconds() * px_per_s
        assert abs(said - rect.center().x()) <= 1.0, (text, said, rect.center().x())
    # The title names the day, and the minute too while labels read "…50.5".
    assert axis.labelText.startswith("Wed 1 Mar 2023") and axis.labelText.endswith("UTC")
    if any(text.startswith("…") for _rect, text in labels):
        assert "09:00" in axis.labelText


def test_marks_are_drawn_at_the_one_second_zoom(timeline):
    view, times = timeline
    memory = times[1]  # 09:01:00, the year-long span of the store around it
    view.box.setXRange(memory.timestamp() - 0.5, memory.timestamp() + 0.5, padding=0)
    image = view.grab().toImage()
    x, y = view.created.getData()
    row = int(np.argmin(np.abs(x - memory.timestamp())))
    at_mark = view.canvas.mapFromScene(view.box.mapViewToScene(QPointF(x[row], y[row])))
    centre = view.canvas.mapTo(view, at_mark)
    # The median of the mark's middle 3x3 pixels: a faint grid line may cross the mark
    # when it sits on a tick's time, as this one does.
    around = [(centre.x() + dx, centre.y() + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    drawn = np.median([image.pixelColor(px, py).getRgb()[:3] for px, py in around], axis=0)
    brush = view.created.data["brush"][row].color()  # a little see-through: close, not equal
    assert np.abs(drawn - brush.getRgb()[:3]).max() < 24


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
