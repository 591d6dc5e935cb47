"""The `hromada` console command."""
