"""One APIRouter per area; the app factory includes them (and ``qa`` when it exists)."""
