"""gunicorn entry point: `gunicorn registry.wsgi:app`."""

from registry import localservices
from registry.app import create_app

localservices.load_env_file()
app = create_app()
