"""Districts, satellite service areas and welfare shelters: pure geometry, no Flask, no database."""
