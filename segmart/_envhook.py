"""Imported at interpreter start in the project's virtualenv (see ``run.py``).

It loads ``.env`` and the embedded server's settings into the environment so
that ``dbt`` typed by hand reaches the same database as ``python3 run.py``.
"""

from segmart.config import load_environment

try:
    load_environment()
except OSError:  # an unreadable .env must not break every Python in the venv
    pass
