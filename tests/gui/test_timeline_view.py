"""The timeline on the demo store and on a LoCoMo conversation: marks where the data says,
linked to the shared selection, time range and 'as of' signals, and a picture worth reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage

from gui_support import wait_idle
from memlens.core.conflicts import supersede
from memlens.core.journal import APPLIED
from memlens.core.query import Filter
from memlens.core.timeline import as_of
from memlens.gui.timeline_view import TimelineView

MAYA = "demo-0041"  # "Bob's daughter Maya is 7 years old."


def ink(image: QImage) -> float:
    """Share of pixels that are not background white."""
    img = image.convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return float((arr[:, : img.width(), :3].min(axis=2) < 235).mean())


def layer_points(item) -> list[tuple[float, float, int]]:
    """(x, y, memory or event index) of every mark one layer draws."""
    x, y = item.getData()
    return list(zip(x.tolist(), y.tolist(), [int(d) for d in item.data["data"]], strict=True))


def positions(item) -> list[tuple[float, float]]:
    x, y = item.getData()
    return list(zip(x.tolist(), y.tolist(), strict=True))


@pytest.fixture
def view(qtbot, demo_window):
    page = demo_window.page
    v = TimelineView(page.service, page.selection)
    qtbot.addWidget(v)
    v.resize(1100, 640)
    v.show()
    qtbot.waitExposed(v)
    return v


def last_group_ts(service) -> float:
    return service.journal.groups(service.store.collection, [APPLIED])[-1].ts


def test_one_creation_mark_per_memory_at_its_created_at(view, demo_window):
    service = demo_window.page.service
    points = layer_points(view.created)
    assert len(points) == len(service) == 324
    for x, _y, i in points:
        assert x == view.data.records[i].created_at.timestamp()
    # The demo data is a fresh import: no change marks yet, and none invented.
    assert all(len(item.getData()[0]) == 0 for item in view.event_items.values())


def test_lanes_switch_and_every_mark_sits_in_its_lane(view, demo_window):
    view.lanes_box.setCurrentText("user")
    assert view._lane_labels == ["alice", "bob", "carol", "dan"]  # biggest lane first
    ticks = [text for _, text in view.plot.getAxis("left")._tickLevels[0]]
    assert ticks == ["alice (84)", "bob (80)", "carol (80)", "dan (80)"]
    for _x, y, i in layer_points(view.created):
        lane = view._lane_labels.index(view.data.records[i].user_id)
        assert abs(y - lane) < 0.4


def test_an_edit_shows_as_an_edit_mark_at_the_journal_time(qtbot, view, demo_window):
    page = demo_window.page
    page.service.edit(MAYA, text="Bob's daughter Maya is 8 years old.")
    wait_idle(qtbot, demo_window)
    ts = last_group_ts(page.service)
    view.refresh()
    (x, y, i), *rest = layer_points(view.event_items["edit"])
    assert not rest and view.data.records[i].id == MAYA
    assert x == ts and y == view._y[view._index[MAYA]]
    # The edit's row shows its story: the creation mark is on the same line.
    assert view.data.created[i] == page.service.get(MAYA).created_at.timestamp()


def test_clicking_a_mark_selects_the_memory_everywhere(qtbot, view, demo_window):
    page = demo_window.page
    i = view._index[MAYA]
    # What a left click on the plot emits, at the mark's place (plus a pixel or two).
    sx, sy = view.box.viewPixelSize()
    view.box.sig_click.emit(QPointF(view.data.created[i] + 2 * sx, view._y[i] - sy))
    assert page.selection.current == MAYA
    assert page.inspector.record.id == MAYA
    assert [ix.row() for ix in page.table.selectionModel().selectedRows()] == [page.model.row_of(MAYA)]
    assert positions(view.ring) == [(view.data.created[i], view._y[i])]

    # Selected elsewhere: the ring follows.
    page.table.selectRow(5)
    other = page.model.id_at(5)
    j = view._index[other]
    assert positions(view.ring) == [(view.data.created[j], view._y[j])]

    # A change mark belongs to its memory too: clicking it selects that memory, and the
    # ring then circles both the creation and the change.
    page.service.edit(MAYA, text="Bob's daughter Maya is 8 years old.")
    wait_idle(qtbot, demo_window)
    view.refresh()
    (x, y), *_ = positions(view.event_items["edit"])
    view.box.sig_click.emit(QPointF(x, y))
    assert page.selection.current == MAYA
    assert sorted(positions(view.ring)) == sorted([(view.data.created[i], view._y[i]), (x, y)])
    # Empty space selects nothing new.
    view.box.sig_click.emit(QPointF(x - 86400 * 3, view._y[i] + 0.5))
    assert page.selection.current == MAYA


def test_hover_shows_the_memory_as_plain_text(qtbot, view, demo_window):
    page = demo_window.page
    page.service.edit(MAYA, text="<b>Maya</b> & <i>violin</i>")
    wait_idle(qtbot, demo_window)
    view.refresh()
    i = view._index[MAYA]
    tip = view.tooltip_at(QPointF(view.data.created[i], view._y[i]))
    assert "&lt;b&gt;Maya&lt;/b&gt; &amp; &lt;i&gt;violin&lt;/i&gt;" in tip and "<b>Maya" not in tip
    assert "created" in tip and "bob" in tip
    edit_x = view.event_items["edit"].getData()[0][0]
    assert view.tooltip_at(QPointF(edit_x, view._y[i])).startswith("<div") and "edit" in view.tooltip_at(
        QPointF(edit_x, view._y[i])
    )


def test_a_dragged_range_emits_its_times_and_filters_to_what_it_covers(qtbot, view, demo_window):
    service = demo_window.page.service
    x = np.sort(view.data.created)
    a, b = float(x[40]) - 1, float(x[120]) + 1
    with qtbot.waitSignal(view.sig_range, timeout=2000) as blocker:
        view.box.sig_drag.emit(a, b)  # what a Shift+drag across the plot emits
    since, until = blocker.args
    assert (since, until) == (datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC))
    assert view.region.isVisible() and view.clear_button.isEnabled()
    # The filter built from the range lists exactly the memories drawn inside it.
    listed = set(service.select(Filter(since=since, until=until)))
    inside = {view.data.records[i].id for x, _, i in layer_points(view.created) if a <= x <= b}
    assert listed == inside and len(listed) == 81

    # Moving an edge of the region emits again; clearing emits None/None.
    with qtbot.waitSignal(view.sig_range, timeout=2000) as blocker:
        view.region.setRegion((a, b + 3600))
    assert blocker.args[1] == datetime.fromtimestamp(b + 3600, UTC)
    with qtbot.waitSignal(view.sig_range, timeout=2000) as blocker:
        view.clear_button.click()
    assert blocker.args == [None, None] and not view.region.isVisible()


def test_as_of_signals_a_time_that_brings_back_the_old_text_and_the_deleted(qtbot, view, demo_window):
    page = demo_window.page
    service = page.service
    with qtbot.waitSignal(view.sig_as_of, timeout=2000) as blocker:
        view.as_of_box.setChecked(True)
    assert blocker.args[0] == datetime.fromtimestamp(int(view._span[1]), UTC)
    assert view.as_of_line.isVisible()

    old_text = service.get(MAYA).text
    other = page.model.id_at(3)
    service.edit(MAYA, text="Bob's daughter Maya is 8 years old.")
    service.delete([other])
    wait_idle(qtbot, demo_window)
    view.refresh()
    edited_at = last_group_ts(service) - 1  # before both changes, after every creation
    with qtbot.waitSignal(view.sig_as_of, timeout=2000) as blocker:
        view.as_of_edit.setDateTime(view.as_of_edit.dateTime().fromSecsSinceEpoch(int(edited_at) - 1))
    when = blocker.args[0]
    assert when < datetime.fromtimestamp(edited_at, UTC)
    past = as_of(service, when)
    assert past[MAYA].text == old_text and past[other].status.value == "active"
    assert service.get(other).status.value == "deleted"

    # The slider travels too: all the way left is the first memory's time, and nothing
    # created later exists then.
    with qtbot.waitSignal(view.sig_as_of, timeout=2000) as blocker:
        view.as_of_slider.setValue(0)
    first = blocker.args[0]
    assert first == datetime.fromtimestamp(int(np.nanmin(view.data.created)), UTC)
    assert len(as_of(service, first)) <= 1

    with qtbot.waitSignal(view.sig_as_of, timeout=2000) as blocker:
        view.as_of_box.setChecked(False)
    assert blocker.args == [None] and not view.as_of_line.isVisible()


def test_stale_and_retrievals_are_drawn_apart(qtbot, view, demo_window):
    service = demo_window.page.service
    a, b, c = service.select()[:3]
    supersede(service, a, b, when=datetime.now(UTC) - timedelta(minutes=1))
    wait_idle(qtbot, demo_window)
    view.refresh()
    view.set_conflicts([(b, c)])
    drawn = {
        name: {view.data.records[i].id for *_, i in layer_points(item)}
        for name, item in (("created", view.created), ("old", view.superseded), ("conflict", view.conflicted))
    }
    assert drawn["old"] == {a} and drawn["conflict"] == {b, c}
    assert not {a, b, c} & drawn["created"] and len(drawn["created"]) == 321

    times = [(view.data.created[0] + 60, 5), (view.data.created[9] + 60, 1)]
    view.set_retrievals(times)
    x, y = view.retrievals.getData()
    assert sorted(x.tolist()) == sorted(t for t, _ in times) and (y < -0.5).all()
    assert view.plot.getAxis("left")._tickLevels[0][0][1] == "retrievals"
    legend = {label.text for _, label in view.legend.items}
    assert {"superseded", "open conflict", "retrieval", "edit", "merge", "delete", "restore"} <= legend


def test_renders_the_demo(qtbot, view, demo_window, tmp_path):
    service = demo_window.page.service
    ids = service.select()
    service.edit(ids[10], text="Alice now runs 10 km on Sundays.")
    service.delete([ids[20]])
    wait_idle(qtbot, demo_window)
    view.refresh()
    view.set_retrievals([(r.created_at.timestamp() + 3600, 3) for r in service.records(ids[::20])])
    demo_window.page.selection.set([ids[10]])
    qtbot.wait(100)
    image = view.grab().toImage()
    assert ink(image) > 0.02
    assert image.save(str(tmp_path / "timeline-demo.png"))


def test_renders_a_locomo_conversation_on_its_real_dates(qtbot, make_service, tmp_path, shared_data):
    from memlens.core.importers.locomo import read_locomo
    from memlens.gui.selection import SelectionModel

    result = read_locomo(shared_data / "locomo" / "locomo10.json", {"conv-26"})
    service = make_service("locomo", tmp_path / "locomo")
    service.add(result.records)
    view = TimelineView(service, SelectionModel())
    qtbot.addWidget(view)
    view.resize(1100, 640)
    view.show()
    qtbot.waitExposed(view)
    assert view.lanes_box.currentText() == "user"  # one agent: the speakers make the lanes
    assert sorted(view._lane_labels) == ["Caroline", "Melanie"]
    points = layer_points(view.created)
    assert len(points) == len(result.records)
    assert {x for x, _, _ in points} == {r.created_at.timestamp() for r in result.records}
    first = min(r.created_at for r in result.records)
    assert datetime.fromtimestamp(view.box.viewRange()[0][0], UTC) < first < datetime(2023, 6, 1, tzinfo=UTC)
    image = view.grab().toImage()
    assert ink(image) > 0.02
    assert image.save(str(tmp_path / "timeline-locomo.png"))
