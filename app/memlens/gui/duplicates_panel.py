"""Duplicate review: a threshold with live counts, clusters one by one, merge/keep (both
journaled, one undo step each)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QSlider

from memlens.core.dismissals import DUPLICATE, Dismissals
from memlens.core.duplicates import DEFAULT_THRESHOLD, Cluster, DuplicateFinder
from memlens.core.merge import merge
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
        self.merge_button = self.add_button(
            "Merge…", self.merge_current, "M", "Merge this cluster into one memory"
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

    def keep_current(self) -> None:
        cluster = self.current()
        if cluster is not None:
            ids = list(cluster.ids)
            self.remove_current()
            self.write("Keeping", lambda: self.dismissals.dismiss(DUPLICATE, ids, reason="kept as distinct"))
