"""Results files: the recorder (pytest-benchmark JSON plus benchsuite block), atomic files and their places, format
versions and migrations, scenarios as stored, and the tidy pandas frames read from a file. The only place results
JSON is written or read.
"""
