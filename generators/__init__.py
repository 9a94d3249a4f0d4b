"""synthcat's generators: everything that makes new data."""
