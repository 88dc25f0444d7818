"""The notification targets' secrets (issue #16), in ``notify-secrets.json`` beside the
settings, not in the database.

Why a file of their own: the database is private too (0600), but it is copied into
backups and will go into diagnostics; a secret should live in one place only. The file is
written atomically and 0600 (:func:`app.store.fsops.atomic_write`), maps a target's
``secret_key`` to its secret, and is never logged. One that cannot be read is moved aside
(never deleted) with a warning that says what to do; targets then send unsigned until
their secret is set again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core.log import get_logger
from app.store import fsops

log = get_logger(__name__)


def load(path: Path) -> dict[str, str]:
    try:
        data = fsops.read_json(path)
    except FileNotFoundError:
        return {}
    except fsops.CorruptFileError as exc:
        _keep_aside(path, str(exc))
        return {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        _keep_aside(path, f"{path} does not map secret keys to secrets")
        return {}
    return data


def get(path: Path, key: str | None) -> str | None:
    return None if key is None else load(path).get(key)


def put(path: Path, key: str, secret: str) -> None:
    with _changing(path):
        secrets = load(path)
        secrets[key] = secret
        fsops.write_json(path, secrets)


def drop(path: Path, key: str | None) -> None:
    if key is None:
        return
    with _changing(path):
        secrets = load(path)
        if secrets.pop(key, None) is not None:
            fsops.write_json(path, secrets)


@contextmanager
def _changing(path: Path) -> Iterator[None]:
    """One read-change-write at a time across processes (the app, `agentry notify add`):
    two at once would each write back the file without the other's secret."""
    from filelock import FileLock

    fsops.make_private_dir(path.parent)
    with FileLock(str(path.with_name(path.name + ".lock")), mode=0o600, timeout=30):
        yield


def _keep_aside(path: Path, why: str) -> None:
    kept = fsops.aside_name(path, "corrupt")
    try:
        path.rename(kept)
    except OSError as exc:
        log.warning("%s; notifications are sent unsigned (could not move it aside: %s)",
                    why, exc)  # fmt: skip
        return
    log.warning(
        "%s; it was kept as %s and notifications are sent unsigned until each target's "
        "secret is set again (agentry notify remove, then add with --secret)",
        why,
        kept,
    )
