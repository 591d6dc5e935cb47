"""The spatial core of Hromada GIS: settings, database, models, CRS helpers, area lookups."""
