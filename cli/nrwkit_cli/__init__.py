"""The ``nrwkit`` command line: a thin click layer over the :mod:`nrwkit` library."""
