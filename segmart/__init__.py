"""segmart: the application around the loaders — command line, local database, build pipeline and operations."""
