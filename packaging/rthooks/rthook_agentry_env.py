"""PyInstaller runtime hook: give the user's own environment back before any app code runs.

Agents run under the frozen runner and inherit its environment, so nothing the bundle
needs for itself may reach them:

* The Linux bootloader prepends the bundle to ``LD_LIBRARY_PATH`` (saving the user's value
  in ``LD_LIBRARY_PATH_ORIG``). The dynamic loader read it when this process started, so
  restoring it now changes nothing here; without this, ``sh``, ``git`` or ``node`` started
  by an agent would load the bundle's copies of libz, libssl or readline and fail.
* ``_PYI_*`` variables describe *this* frozen process. A PyInstaller-built program an agent
  runs would take them for its own (a different bundle) and fail to start; a frozen
  runner started from here must also start as a fresh, top-level instance.
* On Windows, PySide6 puts its folder first on ``PATH`` for its plugins. The GUI process
  needs that; a runner started from it does not, and must not hand it to agents. So every
  frozen process starts by dropping bundle folders from path lists it inherited.

This hook runs before PyInstaller's own hooks. The PySide6 one is left out by the spec
(it imports QtCore in every process, runners and hooks included, and points
``QT_PLUGIN_PATH`` at the bundle, which Qt programs an agent starts would then load);
PySide6 finds its plugins through the qt.conf its wheel embeds, as it does in a venv.
"""


def _agentry_rthook() -> None:
    import os
    import sys

    folders = [os.path.dirname(sys.executable), getattr(sys, "_MEIPASS", "")]
    roots = {os.path.normcase(os.path.abspath(p)) for p in folders if p}

    def ours(entry: str) -> bool:
        path = os.path.normcase(os.path.abspath(entry)) if entry else ""
        return any(path == root or path.startswith(root + os.sep) for root in roots)

    for name in ("LD_LIBRARY_PATH", "LIBPATH"):
        original = os.environ.pop(name + "_ORIG", None)
        if original is not None:
            os.environ[name] = original
    for name in list(os.environ):
        if name.startswith("_PYI_") or name == "_MEIPASS2":
            del os.environ[name]
    for name in (
        "PATH",
        "LD_LIBRARY_PATH",
        "LIBPATH",
        "DYLD_LIBRARY_PATH",
        "DYLD_FRAMEWORK_PATH",
        "QT_PLUGIN_PATH",
        "QML2_IMPORT_PATH",
        "QML_IMPORT_PATH",
    ):
        value = os.environ.get(name)
        if value is None:
            continue
        kept = [entry for entry in value.split(os.pathsep) if entry and not ours(entry)]
        if kept:
            os.environ[name] = os.pathsep.join(kept)
        else:
            del os.environ[name]


_agentry_rthook()
del _agentry_rthook
