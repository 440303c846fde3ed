"""The platform operator's area: school applications (support questions come later)."""
