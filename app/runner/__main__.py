import sys

from app.runner.main import main

sys.exit(main())
