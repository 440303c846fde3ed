"""Schools, classes and memberships."""
