"""Flask-free helpers shared by every domain: clock, codes, errors, geo."""
