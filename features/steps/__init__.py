"""Step definitions of the certification suite, one module per subject (see ``conftest.py``)."""
