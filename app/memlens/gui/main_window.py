"""The main window: store and collection picker, the collection page, undo, status."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from memlens.core.chroma_store import ChromaBackend
from memlens.core.demo_store import DEMO_COLLECTION, ensure_demo_store
from memlens.core.embedder_process import ProcessEmbedder
from memlens.core.profiles import profile_label
from memlens.core.record import Status
from memlens.core.server_spec import ServerSpec, is_server_location
from memlens.core.service import Change, DimensionMismatch, MemoryService
from memlens.core.store import CollectionInfo
from memlens.core.workspace import default_store_dir, open_readable, pick_collection
from memlens.gui.collection_page import CollectionPage
from memlens.gui.export_dialog import ExportDialog
from memlens.gui.gui_gc import GuiThreadCollector
from memlens.gui.import_dialog import ImportDialog
from memlens.gui.live_sync import LiveSync
from memlens.gui.llm_settings_dialog import LLMSettingsDialog, apply_settings
from memlens.gui.plugin_bridge import WindowPlugins
from memlens.gui.server_dialog import ServerDialog
from memlens.gui.store_check import check_shared_store
from memlens.gui.undo import JournalUndoStack
from memlens.gui.workers import TaskContext, Workers

MAX_RECENT = 8
FIRST_PAGE_WAIT_S = 2.0  # longest the loading thread waits for the first page's paint


class ErrorBanner(QFrame):
    """Errors stay in the window until dismissed, never only in a terminal."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setStyleSheet(
            "#errorBanner { background: #fee2e2; border: 1px solid #fca5a5; border-radius: 4px; }"
        )
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(text="✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()


class MainWindow(QMainWindow):
    def __init__(self, model: str | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("MemLens")
        self.resize(1400, 860)
        self.settings = settings or QSettings("MemLens", "MemLens")
        apply_settings(self.settings)  # the language model's base URL and model
        # The model runs in a child process: importing torch here would freeze the window.
        self._model_process = ProcessEmbedder(model)
        self.embedder = self._model_process
        self.workers = Workers(self)
        self._first_page_shown: threading.Event | None = None  # see _hand_first_page
        self.service: MemoryService | None = None
        self.page: CollectionPage | None = None
        self.undo_stack = JournalUndoStack(self._undo_redo, self)
        self._store_path: Path | None = None
        self._server: ServerSpec | None = None  # set while a server store is open
        self._mem0_history: Path | None = None  # the Mem0 history.db given for that server
        self.live: LiveSync | None = None  # follows other writers (on by default for servers)

        self.banner = ErrorBanner()
        self.pages = QStackedWidget()
        self.placeholder = QLabel(
            "Open a memory store: File ▸ Open Store… (Ctrl+O), or File ▸ Open Demo Store."
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages.addWidget(self.placeholder)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self._build_actions()
        self.workers.sig_busy.connect(self._on_busy)
        self.workers.sig_idle.connect(self._on_idle)
        self.workers.sig_error.connect(self.show_error)
        self._update_actions()
        # Garbage cycles die on this thread from before the plugins' threads start.
        self.collector = GuiThreadCollector(self)
        self.collector.start()
        try:
            self.plugins = WindowPlugins(self)  # Plugins menu, Sessions dock; plugins load off-thread
            self.plugins.start()
        except BaseException:
            self.collector.stop()  # never leave the process without automatic collection
            raise

    # -- chrome ----------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.counts = QLabel()
        self.activity = QLabel()
        self.progress = QProgressBar(maximumWidth=180, textVisible=False)
        self.progress.hide()
        bar.addWidget(self.counts, 1)
        bar.addPermanentWidget(self.activity)
        bar.addPermanentWidget(self.progress)
        self.live_label = QLabel()
        bar.addPermanentWidget(self.live_label)

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file = menu.addMenu("&File")
        file.addAction(self._action("&Open Store…", self.choose_store, QKeySequence.StandardKey.Open))
        file.addAction(
            self._action(
                "&Connect to Server…", lambda: self.choose_server(), "Ctrl+Shift+O", "A Chroma server"
            )
        )
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addAction(self._action("Open &Demo Store", lambda: self.open_demo()))
        file.addAction(self._action("Re&load", self.reload, QKeySequence.StandardKey.Refresh))
        file.addSeparator()
        self.import_action = self._action("&Import…", lambda: self.import_file(), "Ctrl+I", "Import memories")
        self.export_action = self._action("&Export…", lambda: self.export_file(), "Ctrl+E", "Export memories")
        file.addAction(self.import_action)
        file.addAction(self.export_action)
        file.addSeparator()
        self.llm_action = self._action(
            "Language &Model…",
            lambda: LLMSettingsDialog(self.settings, self.workers, self).exec(),
            tip="Base URL, model and key of the language model (optional)",
        )
        file.addAction(self.llm_action)
        file.addSeparator()
        file.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))

        edit = menu.addMenu("&Edit")
        # Not QUndoStack's own actions: those stay enabled while a write is queued, and an
        # undo pressed behind a save would move the stack before the save is in it.
        self.undo_action = self._action(
            "&Undo", lambda: self.undo_stack.undo(), QKeySequence.StandardKey.Undo
        )
        self.redo_action = self._action(
            "&Redo", lambda: self.undo_stack.redo(), [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
        )
        for signal in (
            self.undo_stack.indexChanged,
            self.undo_stack.undoTextChanged,
            self.undo_stack.redoTextChanged,
            self.workers.sig_writing,
        ):
            signal.connect(self._update_undo_actions)
        self._update_undo_actions()
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        edit.addSeparator()
        self.find_action = self._action("&Find", self.focus_search, QKeySequence.StandardKey.Find)
        self.delete_action = self._status_action(
            "&Delete",
            Status.DELETED,
            QKeySequence.StandardKey.Delete,
            "Move the selected memories to the trash",
        )
        self.restore_action = self._status_action(
            "Rest&ore", Status.ACTIVE, "Ctrl+R", "Restore from the trash"
        )
        self.flag_action = self._status_action(
            "&Flag as Suspect", Status.FLAGGED, "Ctrl+Shift+F", "Mark the selection as a suspect memory"
        )
        self.verify_action = self._status_action(
            "Mark &Verified", Status.VERIFIED, "Ctrl+Shift+V", "Mark the selection as checked and true"
        )
        self.merge_action = self._action(
            "&Merge Selected…",
            lambda: self.page and self.page.merge_selected(),
            "Ctrl+M",
            "Merge memories into one",
        )
        self.bulk_action = self._action(
            "&Bulk Change…",
            lambda: self.page and self.page.bulk_change(),
            "Ctrl+B",
            "Retag, reassign, archive…",
        )
        self.page_actions = [
            self.find_action,
            self.delete_action,
            self.restore_action,
            self.flag_action,
            self.verify_action,
            self.merge_action,
            self.bulk_action,
        ]
        for n, a in enumerate(self.page_actions):
            if n == 5:
                edit.addSeparator()
            edit.addAction(a)
        view = menu.addMenu("&View")
        for n, name in enumerate(
            (
                "Table",
                "Graph",
                "Semantic map",
                "Timeline",
                "Duplicates",
                "Conflicts",
                "Review",
                "Trash",
                "Traces",
            )
        ):
            action = self._action(
                name, lambda _=False, v=name: self.page and self.page.show_view(v), f"Alt+{n + 1}"
            )
            view.addAction(action)
            self.page_actions.append(action)
        view.addSeparator()
        self.follow_action = self._action(
            "&Follow Other Writers", self._on_follow_toggled, tip="Show what agents change in this store"
        )
        self.follow_action.setCheckable(True)
        view.addAction(self.follow_action)
        self.page_actions += [self.import_action, self.export_action, self.follow_action]

        toolbar = self.addToolBar("Store")
        toolbar.setObjectName("storeToolbar")
        toolbar.setMovable(False)
        self.store_label = QLabel("No store")
        self.store_label.setTextFormat(Qt.TextFormat.PlainText)
        self.collection_box = QComboBox(minimumContentsLength=16)
        self.collection_box.setToolTip("Collection in this store (count, and who wrote it)")
        self.collection_box.activated.connect(self._on_collection_picked)
        toolbar.addWidget(QLabel(" Store: "))
        toolbar.addWidget(self.store_label)
        toolbar.addWidget(QLabel("   Collection: "))
        toolbar.addWidget(self.collection_box)

    def _update_undo_actions(self, *_args) -> None:
        idle = not self.workers.writing
        stack = self.undo_stack
        for action, word, text, can in (
            (self.undo_action, "&Undo", stack.undoText(), stack.canUndo()),
            (self.redo_action, "&Redo", stack.redoText(), stack.canRedo()),
        ):
            action.setText(f"{word} {text}" if text else word)
            action.setEnabled(can and idle)

    def _status_action(self, text: str, status: Status, shortcut, tip: str) -> QAction:
        return self._action(
            text, lambda: self.page and self.page.set_status(self.page.selection.ids, status), shortcut, tip
        )

    def _update_actions(self) -> None:
        for a in self.page_actions:
            a.setEnabled(self.page is not None)

    def focus_search(self) -> None:
        if self.page:
            self.page.filter_bar.search.setFocus()
            self.page.filter_bar.search.selectAll()

    def show_error(self, message: str) -> None:
        self.banner.show_message(message)
        self.statusBar().showMessage(message.splitlines()[0], 10000)

    def _on_busy(self, label: str, done: int, total: int) -> None:
        self.activity.setText(f"{label}…" + (f" {done:,}/{total:,}" if total else ""))
        self.progress.setRange(0, total or 0)
        self.progress.setValue(done)
        self.progress.show()

    def _on_idle(self) -> None:
        self.activity.setText("")
        self.progress.hide()

    # -- opening ---------------------------------------------------------------
    def choose_store(self) -> None:
        start = str(self._store_path or default_store_dir())
        path = QFileDialog.getExistingDirectory(self, "Open a memory store (a Chroma folder)", start)
        if path:
            self.open_store(path)

    def open_demo(self, path: str | Path | None = None) -> None:
        self.open_store(path or default_store_dir(), DEMO_COLLECTION, demo=True)

    def reload(self) -> None:
        if self.service is not None:
            self._reopen(self.service.store.collection)

    def _reopen(self, collection: str) -> None:
        if self._server is not None:
            self.open_server(self._server, collection, self._mem0_history)
        elif self._store_path is not None:
            self.open_store(self._store_path, collection, mem0_history=self._mem0_history)

    def choose_server(self, initial: str | None = None) -> None:
        """Ask for a server's address (and token), then connect in the background."""
        start = initial or (self._server.location if self._server else "http://localhost:8000")
        dialog = ServerDialog(start, parent=self)
        if dialog.exec() and dialog.spec is not None:
            self.open_server(dialog.spec, dialog.collection_name)

    def open_server(
        self, spec: ServerSpec, collection: str | None = None, mem0_history: Path | None = None
    ) -> None:
        """Connect to a Chroma server and open a collection, in the background; a Mem0
        collection's history.db can be given (Mem0 keeps it where its config says)."""
        embedder = self.embedder

        notices: list[str] = []

        def work(ctx: TaskContext):
            backend = ChromaBackend.connect(spec)
            opened = _open_or_refuse(backend, embedder, collection, mem0_history, notices)
            if isinstance(opened, RefusedCollection):
                return opened
            opened.load(ctx.progress)
            return backend, opened, backend.collections()

        def done(result) -> None:
            if isinstance(result, RefusedCollection):
                self._show_refused(result)
            else:
                self._on_opened(result)
            self._server, self._store_path, self._mem0_history = spec, None, mem0_history
            for notice in notices:
                self.show_error(notice)

        self.workers.read(f"Connecting to {spec.location}", work, done, self._on_open_failed)

    # -- import, export, other writers -------------------------------------------
    def import_file(self, path: str | Path | None = None) -> ImportDialog | None:
        if self.page is None:
            return None
        dialog = ImportDialog(self.service, self.workers, self)
        dialog.sig_applied.connect(self._on_applied)
        if path is not None:
            dialog.set_file(path)
        dialog.open()
        return dialog

    def export_file(self) -> ExportDialog | None:
        if self.page is None:
            return None
        folder = self._store_path.parent if self._store_path else None
        dialog = ExportDialog(
            self.service, self.workers, self.page.model.ids, self.page.selection.ids, folder, self
        )
        dialog.open()
        return dialog

    def _on_follow_toggled(self, on: bool) -> None:
        if self.live is not None:
            if on:
                self.live.start()
            else:
                self.live.stop()

    def _start_following(self, service: MemoryService, on: bool) -> None:
        """A watcher for the new page; it looks every few seconds while the View toggle is on."""
        if self.live is not None:
            self.live.stop()
        self.live = LiveSync(service, parent=self.page)
        self.live.sig_status.connect(self.live_label.setText)
        self.live.sig_error.connect(self.show_error)
        self.follow_action.setChecked(on)
        if on:
            self.live.start()

    def open_store(
        self,
        path: str | Path,
        collection: str | None = None,
        demo: bool = False,
        create: bool | None = None,
        mem0_history: Path | None = None,
    ) -> None:
        """Open a store folder and one of its collections, in the background. A folder that
        does not exist is made a new store unless `create` is False (Open Recent). A Mem0
        collection's history.db can be given (Mem0 keeps it where its config says)."""
        path = Path(path).expanduser()
        embedder = self.embedder
        if create is None:
            create = demo or not path.exists() or path == default_store_dir()
        notices: list[str] = []

        def work(ctx: TaskContext):
            backend = ChromaBackend.open_path(path, create=create)
            if demo:
                return backend, ensure_demo_store(backend, embedder, ctx.progress)
            opened = _open_or_refuse(backend, embedder, collection, mem0_history, notices)
            if not isinstance(opened, RefusedCollection):
                # A large store shows its newest page at once; the rest follows as a change.
                opened.load(ctx.progress, first_page=lambda: self._hand_first_page(ctx, backend, opened))
                return backend, opened
            return opened

        def done(result) -> None:
            if isinstance(result, RefusedCollection):
                self._show_refused(result)
            else:
                self._on_opened(result)
            self._mem0_history = mem0_history
            for notice in notices:
                self.show_error(notice)

        self.workers.read(
            f"Opening {path.name}", work, done, self._on_open_failed, on_partial=self._on_opened
        )

    def _hand_first_page(self, ctx: TaskContext, backend: ChromaBackend, service: MemoryService) -> None:
        """On the loading thread: show the newest page, then wait until it is painted.

        Reading the rest competes with the GUI thread for the GIL: at 100,000 memories it
        made building and painting the first page take a second. The wait is bounded: a
        busy GUI must not hold the load up for long.
        """
        shown = threading.Event()
        self._first_page_shown = shown
        ctx.partial((backend, service))
        shown.wait(FIRST_PAGE_WAIT_S)

    def _on_first_rows(self) -> None:
        # Set once the paint the rows asked for has run (a zero timer queues behind it).
        shown = self._first_page_shown
        if shown is not None:
            self._first_page_shown = None
            QTimer.singleShot(0, shown.set)

    def _on_open_failed(self, message: str) -> None:
        self.show_error(message)

    def _show_refused(self, refused: RefusedCollection) -> None:
        """The store opened but the collection cannot be read with this model: show the
        store and its collections, so that another one can be picked, and say why."""
        self._close_page()
        backend = refused.backend
        self._store_path = Path(backend.location) if backend.is_local else None
        self.store_label.setText(backend.location)
        self._fill_collections(backend, refused.collection)
        self.setWindowTitle(f"MemLens — {Path(backend.location).name}")
        self.show_error(refused.message)

    def _close_page(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        if self.page is not None:
            self.pages.removeWidget(self.page)
            self.page.deleteLater()
        self.page, self.service = None, None
        self.undo_stack.rebuild([], [])
        self._update_actions()

    def _on_opened(self, result) -> None:
        backend, service, *listed = result  # a server's collections come listed off-thread
        if service is self.service:
            self._warm_model()  # the rest is read now: the model no longer delays the first page
            return  # already shown from its first page (open_store)
        old = self.page
        if self.live is not None:
            self.live.stop()  # the old page's watcher; it may be telling the old views
            self.live = None
        self.service = service
        self.page = CollectionPage(service, self.workers)
        self.page.model.modelReset.connect(self._on_first_rows)
        self.page.sig_applied.connect(self._on_applied)
        self.page.sig_counts.connect(self.counts.setText)
        self.page.sig_error.connect(self.show_error)
        self.page.sig_counts.connect(lambda _t: self._refresh_collection_label())
        self.pages.addWidget(self.page)
        self.pages.setCurrentWidget(self.page)
        self.plugins.attach(self.page)
        if old is not None:
            self.pages.removeWidget(old)
            old.deleteLater()
        self._store_path = Path(backend.location) if backend.is_local else None
        self._server = None  # open_server sets it back after this
        self.store_label.setText(backend.location)
        self._start_following(service, on=not backend.is_local)
        self._fill_collections(backend, service.store.collection, listed[0] if listed else None)
        self.undo_stack.rebuild(*service.undo_stack())
        self.setWindowTitle(f"MemLens — {service.store.collection} ({Path(backend.location).name})")
        self.banner.hide()
        self._remember(backend.location)
        check_shared_store(self, backend)  # warns when another process has this embedded store open
        self._update_actions()
        if service.loaded:
            self._warm_model()

    def _warm_model(self) -> None:
        # Loaded ahead so the first search does not wait for it; not beside a store's first
        # page: the model's process takes a whole core for seconds while it loads.
        if not getattr(self.embedder, "loaded", True):
            self.workers.read("Loading embedding model", lambda ctx: self.embedder.load())

    def _fill_collections(
        self, backend: ChromaBackend, current: str, infos: list[CollectionInfo] | None = None
    ) -> None:
        self.collection_box.clear()
        for info in backend.collections() if infos is None else infos:
            self.collection_box.addItem(
                f"{info.name}  ({info.count:,}, {profile_label(info.profile)})", info.name
            )
        self.collection_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        index = self.collection_box.findData(current)
        self.collection_box.setCurrentIndex(max(index, 0))

    def _refresh_collection_label(self) -> None:
        """Keep the picker's count in step with edits, imports and deletes."""
        if self.service is None:
            return
        store = self.service.store
        index = self.collection_box.findData(store.collection)
        if index >= 0:
            # Counted from the index, not asked of the store: no round trip to a server
            # on the GUI thread. A foreign store's trash is not in the store.
            counts = self.service.status_counts()
            stored = len(self.service)
            if not store.soft_delete_in_place:
                stored -= counts[Status.DELETED] + counts[Status.ARCHIVED]
            label = profile_label(store.profile)
            self.collection_box.setItemText(index, f"{store.collection}  ({stored:,}, {label})")

    def _on_collection_picked(self, index: int) -> None:
        name = self.collection_box.itemData(index)
        if name and (self.service is None or name != self.service.store.collection):
            self._reopen(name)

    def recent_stores(self) -> list[str]:
        """Stores opened before, the latest first (folders and server addresses)."""
        value = self.settings.value("recent_stores") or []
        return [value] if isinstance(value, str) else list(value)  # QSettings keeps one as a str

    def _set_recent(self, locations: list[str]) -> None:
        self.settings.setValue("recent_stores", list(dict.fromkeys(locations))[:MAX_RECENT])

    def _remember(self, location: str) -> None:
        self._set_recent([location, *self.recent_stores()])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for location in self.recent_stores():
            if is_server_location(location):  # the token is never remembered: ask again
                self.recent_menu.addAction(location, lambda loc=location: self.choose_server(loc))
            else:
                self.recent_menu.addAction(location, lambda loc=location: self.open_recent(loc))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def open_recent(self, location: str) -> None:
        """Open a folder from Open Recent; one that is gone is never made anew (that would
        show an empty store as if it were the old one): offer to drop it from the list."""
        if not Path(location).exists():
            answer = QMessageBox.question(
                self,
                "Store not found",
                f"The store folder {location} no longer exists (moved or deleted).\n\n"
                "Remove it from Open Recent?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes,
            )
            if answer == QMessageBox.StandardButton.Yes:
                self._set_recent([p for p in self.recent_stores() if p != location])
            self.statusBar().showMessage(f"{location} no longer exists", 10000)
            return
        self.open_store(location, create=False)

    # -- undo ------------------------------------------------------------------
    def _on_applied(self, change: Change) -> None:
        if change.ids:
            self.undo_stack.record(change.label, change.group_id)

    def _undo_redo(self, what: str, group_id: str | None) -> None:
        """The stack moved (Ctrl+Z, Ctrl+Shift+Z): have the service undo or redo that group."""
        service = self.service
        if service is None:
            return

        def failed(message: str) -> None:
            self.undo_stack.rebuild(*service.undo_stack())  # back in step with the journal
            self.show_error(f"{message}\nThe Undo list was rebuilt from the journal.")

        fn = service.undo if what == "undo" else service.redo
        self.workers.write(what.capitalize(), lambda ctx: fn(group_id), None, failed)

    # -- closing ---------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        drafts = self.page.inspector.draft_count if self.page else 0
        if drafts:
            answer = QMessageBox.question(
                self,
                "Unsaved edits",
                f"{drafts} memory edit(s) are not saved. Close anyway and lose them?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Discard:
                event.ignore()
                return
        try:
            if self.live is not None:
                self.live.stop()
            self.plugins.shutdown()
            self.workers.wait()  # let queued writes land; nothing a user did is dropped
        finally:
            self.collector.stop()
            self._model_process.close()
        event.accept()


@dataclass(frozen=True)
class RefusedCollection:
    """A store that opened, with a collection the model cannot read."""

    backend: ChromaBackend
    collection: str
    message: str


def _open_or_refuse(
    backend: ChromaBackend,
    embedder,
    collection: str | None,
    mem0_history: Path | None,
    notices: list[str],
) -> MemoryService | RefusedCollection:
    """On a worker thread: the collection opened (or another the model can read, with a
    notice), or why it cannot be."""
    try:
        service, notice = open_readable(backend, embedder, collection, mem0_history)
    except DimensionMismatch as exc:
        return RefusedCollection(backend, collection or pick_collection(backend, None), str(exc))
    if notice:
        notices.append(notice)
    return service


def start_window(
    window: MainWindow,
    store: str | None,
    collection: str | None,
    demo: bool,
    server: ServerSpec | None = None,
    mem0_history: Path | None = None,
) -> None:
    """Open what the command line asked for once the event loop runs."""
    if server is not None:
        QTimer.singleShot(0, lambda: window.open_server(server, collection, mem0_history))
    elif demo:
        QTimer.singleShot(0, lambda: window.open_demo(store))
    else:
        path = store or default_store_dir()
        QTimer.singleShot(0, lambda: window.open_store(path, collection, mem0_history=mem0_history))
