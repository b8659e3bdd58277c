"""Running a notebook in a child process: limits and isolation."""
