"""Articles of a school (SPEC §9)."""
