"""The runner's script. Agentry starts it isolated and without site, as
``python -I -S …/app/runner/__main__.py --lib DIR --runner RUN_DIR``
(:func:`app.runner.protocol.runner_command`), so the app's root is put on ``sys.path``
here; ``--lib`` names psutil's folder, for the rare paths that need it. ``python -m
app.runner RUN_DIR`` runs the same runner.
"""

import os
import sys

if not __package__:  # a script: -I leaves the app's root (and its own folder) off sys.path
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from app.runner.main import main  # once the root is on sys.path

sys.exit(main())
