"""Parta's areas, one blueprint each (auth, home, schools, …), and the shared extensions."""
