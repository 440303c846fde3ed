"""registration (see blueprints/schools/routes.py for the school page)."""
from blueprints.schools.routes import bp  # noqa: F401
