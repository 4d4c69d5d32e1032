"""File ▸ Connect to Server…: the address is checked in the dialog, an unreachable server
is named in the window, and the token is never written to the settings file."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gui_support import wait_idle
from memlens.gui.server_dialog import ServerDialog


def test_dialog_reads_address_tenant_database_and_token(qtbot):
    dialog = ServerDialog("http://localhost:8000")
    qtbot.addWidget(dialog)
    dialog.url.setText("ftp://nowhere")
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert dialog.spec is None and dialog.result() == 0  # not accepted: the dialog says why
    assert "starts with http:// or https://" in dialog.error.text()

    dialog.url.setText("https://chroma.example.com")
    dialog.tenant.setText("acme")
    dialog.database.setText("prod")
    dialog.token.setText("s3cret")
    dialog.header.setCurrentIndex(1)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    spec = dialog.spec
    assert (spec.host, spec.port, spec.ssl, spec.tenant, spec.database) == (
        "chroma.example.com",
        443,
        True,
        "acme",
        "prod",
    )
    assert spec.headers() == {"X-Chroma-Token": "s3cret"}
    assert spec.location == "https://chroma.example.com:443/acme/prod"


def test_unreachable_server_is_named_in_the_window(qtbot, open_window, free_tcp_port):
    from memlens.core.server_spec import ServerSpec

    window = open_window()
    window.open_server(ServerSpec.parse(f"http://127.0.0.1:{free_tcp_port}", token="s3cret"))
    qtbot.waitUntil(window.banner.isVisible, timeout=60000)
    wait_idle(qtbot, window)
    message = window.banner.label.text()
    assert message.startswith(
        f"Connecting to http://127.0.0.1:{free_tcp_port}: Cannot reach the Chroma server"
    )
    assert "s3cret" not in message
    assert window.page is None
