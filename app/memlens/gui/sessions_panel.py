"""The Sessions panel: live agent sessions, their transcripts, and a line to talk to an agent.

A transcript shows what the session did as it happens: messages (a streamed answer grows
as it is written), each retrieval with its hits (click for its trace), each memory added,
changed or deleted (click to select it in every view). Every text is shown as plain
text: a memory holding HTML shows its tags.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote, unquote

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from memlens.gui.ingest_bar import IngestBar
from memlens.gui.memory_table import plain_tooltip
from memlens.plugin_api.events import (
    ASSISTANT,
    ERROR,
    NOTICE,
    USER,
    Event,
    MemoryAdded,
    MemoryDeleted,
    MemoryUpdated,
    MessageDelta,
    MessageExchanged,
    RetrievalPerformed,
    Session,
    SessionEnded,
    SessionStarted,
    SessionStatus,
)
from memlens.plugin_host.host import SessionBusy, SessionError
from memlens.plugin_host.sessions import ADDED, UPDATED, Partial

MESSAGE_LIMIT = 20_000  # characters of one message drawn; the rest is cut with a note
MEMORY_LIMIT = 240  # characters of a memory or a hit in a transcript line
HITS_SHOWN = 5
RENDER_DELAY_MS = 30  # streamed pieces arriving together are drawn once

# Row tints in the memory table for what the shown session did (also the panel's legend).
TINTS = {ADDED: "#dcfce7", UPDATED: "#fef3c7"}
STATUS_MARKS = {SessionStatus.LIVE: "●", SessionStatus.ENDED: "○", SessionStatus.FAILED: "✕"}


_TINT_BRUSHES: dict[str, QBrush] = {}


def session_tints(marks: dict[str, str]) -> dict[str, QBrush]:
    """Row backgrounds in the memory table for what the shown session did: memories it
    added (green) or changed (amber); drawn by the table's model, not a delegate."""
    if not _TINT_BRUSHES:  # made once a QApplication exists
        _TINT_BRUSHES.update({what: QBrush(QColor(colour)) for what, colour in TINTS.items()})
    return {mid: _TINT_BRUSHES[what] for mid, what in marks.items() if what in _TINT_BRUSHES}


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _cut(text: str, limit: int) -> str:
    return (
        text if len(text) <= limit else text[:limit].rstrip() + f"… ({len(text) - limit:,} more characters)"
    )


def _plain(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Text as HTML that shows exactly the text (tags included), line breaks kept."""
    return html.escape(_cut(text, limit)).replace("\n", "<br>")


def _line(text: str, limit: int = MEMORY_LIMIT) -> str:
    return html.escape(_cut(" ".join(text.split()), limit))


def _link(kind: str, target: str, text: str) -> str:
    return f'<a href="{kind}:{quote(target, safe="")}">{text}</a>'


@dataclass(frozen=True)
class Block:
    """One transcript entry: a paragraph, indented for what the agent did (not said)."""

    html: str  # inline HTML, every text escaped
    colour: str = "#111827"
    indent: int = 0


INDENT = 12


def transcript_blocks(entries: list[Event | Partial], agent: str) -> list[Block]:
    """The transcript as paragraphs for a QTextBrowser."""
    out = []
    for e in entries:
        if isinstance(e, SessionStarted):
            title = f" — {_line(e.session.title)}" if e.session.title else ""
            when = f"{e.time.astimezone():%Y-%m-%d %H:%M}"
            out.append(Block(f"Session with {html.escape(agent)} started {when}{title}", "#6b7280"))
        elif isinstance(e, Partial | MessageExchanged):
            out.append(_message(e, agent))
        elif isinstance(e, RetrievalPerformed):
            out.append(_retrieval(e))
        elif isinstance(e, MemoryAdded):
            out.append(_memory("#15803d", "+ Remembered", e.memory_id, _line(e.text)))
        elif isinstance(e, MemoryUpdated):
            before = f"<s style='color:#6b7280'>{_line(e.before_text)}</s> → " if e.before_text else ""
            out.append(_memory("#b45309", "✎ Changed", e.memory_id, before + _line(e.text)))
        elif isinstance(e, MemoryDeleted):
            out.append(_memory("#b91c1c", "✕ Forgot", e.memory_id, _line(e.text or e.memory_id)))
        elif isinstance(e, SessionEnded):
            why = f": {_line(e.error)}" if e.error else ""
            out.append(Block(f"Session {e.status.value}{why}", "#6b7280"))
    return out


def _retrieval(e: RetrievalPerformed) -> Block:
    trace = f" · {_link('trace', e.trace_id, 'trace ' + e.trace_id[:8])}" if e.trace_id else ""
    hits = "".join(
        f"<br>&nbsp;&nbsp;{h.rank}. {_link('memory', h.memory_id, _line(h.text or h.memory_id, 120))}"
        + (f" <span style='color:#6b7280'>({h.score:.2f})</span>" if h.score is not None else "")
        for h in e.hits[:HITS_SHOWN]
    )
    more = f"<br>&nbsp;&nbsp;… {len(e.hits) - HITS_SHOWN} more" if len(e.hits) > HITS_SHOWN else ""
    what = _count(len(e.hits), "memory", "memories")
    return Block(f"↳ Retrieved {what} for “{_line(e.query, 120)}”{trace}{hits}{more}", "#374151", INDENT)


def _memory(colour: str, verb: str, memory_id: str, text: str) -> Block:
    return Block(f"{verb}: {_link('memory', memory_id, text)}", colour, INDENT)


def _message(e: Partial | MessageExchanged, agent: str) -> Block:
    text = _plain(e.text) + (" ▍" if isinstance(e, Partial) else "")
    if e.role == USER:
        return Block(f"<b style='color:#1d4ed8'>You</b><br>{text}")
    if e.role == ASSISTANT:
        return Block(f"<b style='color:#7c3aed'>{html.escape(agent)}</b><br>{text}")
    if e.role == ERROR:
        return Block(f"⚠ {text}", "#b91c1c")
    if e.role == NOTICE:
        return Block(f"<i>{text}</i>", "#6b7280")
    return Block(f"<b>{html.escape(e.role)}</b><br>{text}")


@dataclass(frozen=True)
class _Drawn:
    """What the transcript widget holds: `stable` entries of a session, then (from
    character `tail_at`) the part that may still change."""

    session_id: str
    stable: int
    tail_at: int


def _append(cursor: QTextCursor, blocks: list[Block]) -> None:
    """Add paragraphs at the end, each a block of its own with its indent and colour."""
    for b in blocks:
        fmt = QTextBlockFormat()
        fmt.setLeftMargin(b.indent)
        fmt.setTopMargin(2 if b.indent else 8)  # what the agent did sits close to what was said
        fmt.setBottomMargin(2)
        chars = QTextCharFormat()
        chars.setForeground(QColor(b.colour))
        if cursor.position() == 0:  # the document's first, empty block
            cursor.setBlockFormat(fmt)
            cursor.setCharFormat(chars)
        else:
            cursor.insertBlock(fmt, chars)
        cursor.insertHtml(f"<span style='color:{b.colour}'>{b.html}</span>")


class SessionsPanel(QWidget):
    sig_select_memory = Signal(str)
    sig_open_trace = Signal(str)
    sig_marks = Signal(object)  # {memory id: "added"/"updated"/"deleted"} of the shown session, or None

    def __init__(self, bridge, parent=None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.host = bridge.host
        self._shown: str | None = None
        self._dirty_list = self._dirty_text = False
        self._note = ""  # why the last action was refused, until the next one
        self._drawn: _Drawn | None = None

        self.agent_box = QComboBox(minimumContentsLength=8)
        self.agent_box.setToolTip("Agents offered by enabled plugins (Plugins ▸ Plugins…)")
        self.new_button = QPushButton("New session")
        self.new_button.clicked.connect(self.new_session)
        self.list = QListWidget()
        self.list.setWordWrap(True)  # a narrow dock wraps a session's line, not hides its end
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentItemChanged.connect(self._on_current)
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        self.transcript.anchorClicked.connect(self._on_link)
        self.transcript.document().setDefaultStyleSheet("a { color: inherit; text-decoration: none; }")
        self.transcript.setPlaceholderText("Start a session with an agent, or wait for one to report.")
        self.input = QLineEdit(placeholderText="Message the agent…")
        self.input.returnPressed.connect(self.send)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.send)
        self.end_button = QPushButton("End")
        self.end_button.setToolTip("End this session")
        self.end_button.clicked.connect(self.end_session)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.light = QCheckBox("Light its memories")
        self.light.setChecked(True)
        self.light.setToolTip(
            "Tint the rows this session added or changed and light them in graph and timeline"
        )
        self.light.toggled.connect(lambda _on: self._emit_marks())
        legend = QLabel(
            f"<span style='background:{TINTS[ADDED]}'>&nbsp;added&nbsp;</span> "
            f"<span style='background:{TINTS[UPDATED]}'>&nbsp;changed&nbsp;</span>"
        )

        top = QHBoxLayout()
        top.addWidget(self.agent_box, 1)
        top.addWidget(self.new_button)
        talk = QHBoxLayout()
        talk.addWidget(self.input, 1)
        talk.addWidget(self.send_button)
        talk.addWidget(self.end_button)
        marks = QHBoxLayout()
        marks.addWidget(self.light)
        marks.addStretch(1)
        marks.addWidget(legend)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.transcript, 1)
        lower_layout.addLayout(talk)
        lower_layout.addWidget(self.status)
        lower_layout.addLayout(marks)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(lower)
        splitter.setSizes([80, 640])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.ingest_bar = IngestBar(bridge)  # agents in other processes report here
        layout.addWidget(self.ingest_bar)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        self._render_timer = QTimer(self, singleShot=True, interval=RENDER_DELAY_MS)
        self._render_timer.timeout.connect(self._render)
        bridge.sig_event.connect(self._on_event)
        bridge.sig_plugins.connect(self.refill_agents)
        bridge.sig_turn_done.connect(lambda _sid: self._update_controls())
        self.refill_agents()
        self._fill_list()
        self._update_controls()

    # -- agents and sessions ------------------------------------------------------------
    def refill_agents(self) -> None:
        current = self.agent_box.currentText()
        agents = self.host.agents()
        self.agent_box.clear()
        for a in agents:
            self.agent_box.addItem(a.name, a.name)
            # A plugin's words, shown as written (a tooltip would render HTML in them).
            tip = plain_tooltip(a.description) if a.description else ""
            self.agent_box.setItemData(self.agent_box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        if not agents:
            self.agent_box.addItem("No agent: enable one in Plugins…")
        index = self.agent_box.findText(current)
        self.agent_box.setCurrentIndex(max(index, 0))
        self._update_controls()

    def new_session(self) -> None:
        agent = self.agent_box.currentData()
        if not agent:
            return
        try:
            handle = self.host.start_session(agent)
        except KeyError as exc:
            self._note = str(exc.args[0])
            self._update_controls()
            return
        self._note = ""
        self._fill_list()
        self.show_session(handle.id)
        self._update_controls()
        self.input.setFocus()

    def show_session(self, session_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == session_id:
                self.list.setCurrentRow(row)
                return

    @property
    def shown(self) -> str | None:
        return self._shown

    def send(self) -> None:
        text = self.input.text().strip()
        if not text or self._shown is None:
            return
        try:
            self.bridge.send(self._shown, text)
        except (KeyError, SessionBusy, SessionError) as exc:
            self._note = str(exc.args[0]) if exc.args else str(exc)
            self._update_controls()
            return
        self._note = ""
        self.input.clear()
        self._update_controls()

    def end_session(self) -> None:
        if self._shown is not None:
            self.host.end_session(self._shown)

    def marks(self) -> dict[str, str] | None:
        """What the shown session did to which memory (None when nothing is to be lit)."""
        if self._shown is None or not self.light.isChecked():
            return None
        return self.host.sessions.memories(self._shown) or None

    # -- events -------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if not isinstance(event, MessageDelta):
            self._dirty_list = True  # a new session, or new counts
        if event.session_id == self._shown:
            self._dirty_text = True
            if isinstance(event, MemoryAdded | MemoryUpdated | MemoryDeleted):
                self._emit_marks()
        if not self._render_timer.isActive():  # a steady stream still repaints every few ms
            self._render_timer.start()

    def _render(self) -> None:
        if self._dirty_list:
            self._dirty_list = False
            self._fill_list()
        if self._dirty_text:
            self._dirty_text = False
            self._fill_transcript()
        self._update_controls()

    def refresh_list(self) -> None:
        """Sessions were added to the registry from outside (a store's past sessions)."""
        self._fill_list()

    def _fill_list(self) -> None:
        sessions = self.host.sessions.sessions()
        self.list.blockSignals(True)
        self.list.clear()
        for s in sessions:
            item = QListWidgetItem(self._describe(s))
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            # Ids and names come from agents in other processes: plain text, whatever they hold.
            item.setToolTip(
                plain_tooltip(f"{s.id}\nagent: {s.agent}\nplugin: {s.plugin or '(another process)'}")
            )
            self.list.addItem(item)
        self.list.blockSignals(False)
        if self._shown is None and sessions:
            self._shown = sessions[0].id  # the newest session is shown until the user picks one
            self._fill_transcript()
            self._emit_marks()
        if self._shown is not None:
            self.show_session(self._shown)

    def _describe(self, s: Session) -> str:
        messages, retrievals, memories = self.host.sessions.counts(s.id)
        mark = STATUS_MARKS.get(s.status, "")
        return (
            f"{mark} {s.agent} · {s.started_at.astimezone():%H:%M} · {s.status.value}\n"
            f"    {_count(messages, 'message', 'messages')} · {_count(retrievals, 'retrieval', 'retrievals')}"
            f" · {_count(memories, 'memory', 'memories')} written"
        )

    def _on_current(self, item: QListWidgetItem | None, _previous=None) -> None:
        session_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if session_id == self._shown:
            return
        self._shown = session_id
        self._fill_transcript()
        self._emit_marks()
        self._update_controls()

    def _fill_transcript(self) -> None:
        """Bring the transcript up to date by appending: entries before the first message
        still streaming never change, so only what follows them is drawn again (a long
        session would otherwise be re-laid out for every streamed piece)."""
        session_id = self._shown
        if session_id is None:
            self.transcript.clear()
            self._drawn = None
            return
        entries = self.host.sessions.transcript(session_id)
        stable = next((n for n, e in enumerate(entries) if isinstance(e, Partial)), len(entries))
        drawn = self._drawn
        if drawn is None or drawn.session_id != session_id or stable < drawn.stable:
            self.transcript.clear()
            drawn = _Drawn(session_id, 0, 0)
        agent = self.host.sessions.get(session_id).agent
        bar = self.transcript.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.transcript.document())
        cursor.setPosition(drawn.tail_at)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        _append(cursor, transcript_blocks(entries[drawn.stable : stable], agent))
        tail_at = cursor.position()
        _append(cursor, transcript_blocks(entries[stable:], agent))
        self._drawn = _Drawn(session_id, stable, tail_at)
        if at_end:  # follow the conversation unless the user scrolled up to read
            bar.setValue(bar.maximum())

    def _emit_marks(self) -> None:
        self.sig_marks.emit(self.marks())

    def _update_controls(self) -> None:
        session = self.host.sessions.get(self._shown) if self._shown else None
        live = session is not None and session.status == SessionStatus.LIVE
        chat = live and session.plugin is not None
        busy = chat and self.host.busy(session.id)
        talkable = chat and any(a.name == session.agent for a in self.host.agents())
        self.new_button.setEnabled(self.agent_box.currentData() is not None)
        self.input.setEnabled(talkable)
        self.send_button.setEnabled(talkable and not busy)
        self.end_button.setEnabled(chat)
        if busy:
            self.status.setText(f"{session.agent} is answering…")
        elif live and not chat:
            self.status.setText(
                "An agent in another process reports this session; it cannot be messaged here."
            )
        elif self._note:
            self.status.setText(self._note)
        else:
            self.status.setText("")

    def _on_link(self, url: QUrl) -> None:
        kind, _, target = url.toString().partition(":")
        target = unquote(target)
        if kind == "memory":
            self.sig_select_memory.emit(target)
        elif kind == "trace":
            self.sig_open_trace.emit(target)
