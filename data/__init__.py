"""The demo data (see README.md here), installed as the package ``synthcat_demo_data``."""
