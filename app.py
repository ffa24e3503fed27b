"""What gunicorn serves (``gunicorn app:app``; see the Procfile).

Configuration is loaded here, at import. With ``--preload`` that happens once in
gunicorn's master, before it binds workers to traffic: bad configuration ends
the process with one log line and a non-zero status, as Cloud Foundry expects.
"""

import logging
import sys

from sfdc.errors import ConfigError
from sfdc.telemetry import logs
from sfdc.web import create_app

logs.configure()

try:
    app = create_app()
except ConfigError as exc:
    logging.getLogger("sfdc").critical("configuration error: %s", exc.one_line())
    sys.exit(2)
except Exception as exc:  # a bug, not bad input; still one line, no values
    logging.getLogger("sfdc").critical(
        "start-up failed unexpectedly (%s); please report it with the service's version",
        type(exc).__name__,
    )
    sys.exit(2)
