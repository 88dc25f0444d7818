"""One Agentry window per data folder: a second launch hands over and exits (DESIGN §9).

The data-folder filelock, taken by the supervisor, is what guarantees a single owner; the
local socket only lets a second launch ask the first to show itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.core.locations import Locations
from app.core.log import get_logger
from app.core.platform import current_user

log = get_logger(__name__)
CONNECT_TIMEOUT_MS = 500


def server_name(locations: Locations) -> str:
    """Stable per user and data folder, short enough for every platform's socket paths."""
    key = f"{current_user()}:{str(locations.data).lower()}".encode()
    return f"agentry-{hashlib.sha256(key).hexdigest()[:16]}"


def hand_over(name: str, argv: list[str]) -> bool:
    """Ask a running instance to come forward; True if one answered."""
    return send_command(name, "activate", argv)


def send_command(name: str, command: str, argv: list[str] | None = None) -> bool:
    """Deliver ``command`` (activate, quit) to the running app; True if one was listening."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write(json.dumps({"command": command, "argv": argv or []}).encode() + b"\n")
    socket.flush()
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    activated = Signal(list)  # argv of the launch that handed over
    quitRequested = Signal()  # `agentry quit`, e.g. from an installer upgrading the app

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        # Only this user may ask the app to show itself or to quit (POSIX: a 0700 socket).
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Call only while holding the data-folder lock: a leftover socket is then stale."""
        QLocalServer.removeServer(self.name)
        if not self._server.listen(self.name):
            log.warning("single-instance socket %s: %s", self.name, self._server.errorString())
            return False
        return True

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            raw = bytes(socket.readLine().data()).strip()
            try:
                message = json.loads(raw)
            except ValueError:
                log.warning("ignoring a malformed single-instance message: %r", raw[:200])
                continue
            command = message.get("command") if isinstance(message, dict) else None
            if command == "activate":
                self.activated.emit(list(message.get("argv") or []))
            elif command == "quit":
                self.quitRequested.emit()


def ask_running_to_quit(locations: Locations) -> bool:
    """Ask the Agentry holding ``locations`` to quit (its agents keep running): the window
    through its local socket, else a headless supervisor with SIGTERM. False when neither
    could be asked."""
    if send_command(server_name(locations), "quit"):
        return True
    from app.supervisor.lock import running_holder

    holder = running_holder(locations)
    if holder and os.name != "nt" and hasattr(signal, "SIGTERM"):
        try:
            os.kill(int(holder["pid"]), signal.SIGTERM)  # a headless supervisor stops on it
        except (OSError, ValueError, TypeError):
            return False
        return True
    return False
