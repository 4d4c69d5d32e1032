"""Duplicate review: a threshold with live counts, clusters one by one; merge them, keep the
one picked below and archive the others, or keep all (each journaled, one undo step)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from memlens.core.dismissals import DUPLICATE, Dismissals
from memlens.core.duplicates import DEFAULT_THRESHOLD, Cluster, DuplicateFinder, keep_one
from memlens.core.merge import merge, suggested_text
from memlens.gui.curation_panel import CurationPanel, memory_block
from memlens.gui.merge_dialog import MergeDialog


class DuplicatesPanel(CurationPanel):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.finder: DuplicateFinder | None = None
        self.dismissals = Dismissals(self.service)
        self.slider = QSlider(Qt.Orientation.Horizontal, minimum=70, maximum=99)
        self.slider.setValue(round(DEFAULT_THRESHOLD * 100))
        self.slider.valueChanged.connect(self._on_threshold)
        self.threshold_label = QLabel()
        self.threshold_label.setMinimumWidth(260)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.load)
        self.top.addWidget(QLabel("Similarity"))
        self.top.addWidget(self.slider, 1)
        self.top.addWidget(self.threshold_label)
        self.top.addWidget(refresh)
        self._build_members()
        self.merge_button = self.add_button(
            "Merge…", self.merge_current, "M", "Merge this cluster into one memory"
        )
        self.keep_one_button = self.add_button(
            "Keep one",
            self.keep_one_current,
            "O",
            "Keep the memory picked below; archive the others (restorable from the Trash, undoable)",
        )
        self.keep_button = self.add_button(
            "Keep all",
            self.keep_current,
            "K",
            "They are different: do not offer this cluster again (undoable)",
        )
        self.buttons.addStretch(1)
        self.status.setText("Near-duplicate memories, grouped. Move the slider to see how many clusters each "
                            "threshold finds.")  # fmt: skip

    def _build_members(self) -> None:
        """The cluster's memories, one row each, in place of the detail: the current row is the
        one Keep one keeps (Tab moves here; the triage keys act here too)."""
        self.members = QListWidget()
        self.members.setWordWrap(True)
        self.members.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.members.setResizeMode(QListView.ResizeMode.Adjust)
        self.members.setAlternatingRowColors(True)
        self.members.setSpacing(3)
        self.members.currentRowChanged.connect(self._on_member)
        self.members.installEventFilter(self)
        caption = QLabel("Keep one (O) keeps the memory picked here (Tab, then ↑ ↓) and archives the others.")
        caption.setTextFormat(Qt.TextFormat.PlainText)
        self.members_box = QWidget()
        layout = QVBoxLayout(self.members_box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(caption)
        layout.addWidget(self.members, 1)
        self.splitter.insertWidget(1, self.members_box)
        self.detail.hide()  # shown only to say that nothing is listed

    @property
    def threshold(self) -> float:
        return self.slider.value() / 100

    def load(self) -> None:
        self.loaded = True
        self.status.setText("Finding near-duplicates…")
        self.workers.read(
            "Finding duplicates",
            lambda ctx: DuplicateFinder(self.service, progress=ctx.progress),
            self._found,
        )

    def _found(self, finder: DuplicateFinder) -> None:
        self.finder = finder
        self._on_threshold()

    def _on_threshold(self, *_args) -> None:
        listed = self.relisted()
        if listed is None:
            self.threshold_label.setText(f"{self.threshold:.2f}")
            return
        self.set_items(*listed)
        self.status.setText(f"{len(self.items)} clusters to review at similarity ≥ {self.threshold:.2f}.")

    def update_buttons(self) -> None:
        # Called whenever the list changes (listed again, an item handled): the counts follow.
        has = self.current() is not None
        self.merge_button.setEnabled(has)
        self.keep_one_button.setEnabled(has and self.kept() is not None)
        self.keep_button.setEnabled(has)
        memories = sum(len(c.ids) for c in self.items)
        self.threshold_label.setText(
            f"{self.threshold:.2f} · {len(self.items)} clusters · {memories} memories"
        )

    def relisted(self) -> tuple[list[Cluster], list[str]] | None:
        if self.finder is None:
            return None
        clusters = self.finder.clusters(self.threshold, self.dismissals.pairs(DUPLICATE))
        labels = []
        for c in clusters:
            first = self.service.get(c.ids[0])
            preview = " ".join((first.text if first else "").split())[:70]
            labels.append(f"{len(c.ids)} memories · {c.similarity:.2f} · {preview}")
        return clusters, labels

    def item_ids(self, item: Cluster) -> list[str]:
        return list(item.ids)

    def describe(self, item: Cluster) -> str:
        return "\n\n".join(memory_block(self.service, m) for m in item.ids)

    def empty_text(self) -> str:
        return "No near-duplicates at this threshold."

    def show_item(self, item: Cluster | None) -> None:
        super().show_item(item)
        self.detail.setVisible(item is None)
        self.members_box.setVisible(item is not None)
        self.members.blockSignals(True)  # the whole cluster stays selected until one is picked
        self.members.clear()
        if item is not None:
            # The most complete text is picked first, as the Merge dialog prefills it.
            records = self.service.records(item.ids)
            fullest = suggested_text(records) if records else None
            picked = next((r.id for r in records if r.text == fullest), item.ids[0])
            for mid in item.ids:
                row = QListWidgetItem(memory_block(self.service, mid))
                row.setData(Qt.ItemDataRole.UserRole, mid)
                self.members.addItem(row)
            self.members.setCurrentRow(item.ids.index(picked))
        self.members.blockSignals(False)

    def kept(self) -> str | None:
        """The memory Keep one would keep: the one picked in the cluster's list."""
        row = self.members.currentItem()
        return row.data(Qt.ItemDataRole.UserRole) if row is not None else None

    def _on_member(self, _row: int) -> None:
        # Picking one shows it alone in the inspector (and table, graph), to check before keeping.
        kept = self.kept()
        if kept is not None and self.isVisible():
            self.selection.set([kept], source=self)
        self.update_buttons()

    def merge_current(self, text: str | None = None) -> None:
        cluster = self.current()
        if cluster is None:
            return
        if text is None:
            dialog = MergeDialog(self.service.records(cluster.ids), self.workers, parent=self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            text = dialog.merged_text
        ids = list(cluster.ids)
        self.remove_current()
        self.write("Merging", lambda: merge(self.service, ids, text, reason="near-duplicates")[0])

    def keep_one_current(self) -> None:
        cluster, kept = self.current(), self.kept()
        if cluster is None or kept is None:
            return
        others = [m for m in cluster.ids if m != kept]
        self.remove_current()
        self.write("Keeping one", lambda: keep_one(self.service, kept, others))

    def keep_current(self) -> None:
        cluster = self.current()
        if cluster is not None:
            ids = list(cluster.ids)
            self.remove_current()
            self.write("Keeping", lambda: self.dismissals.dismiss(DUPLICATE, ids, reason="kept as distinct"))
