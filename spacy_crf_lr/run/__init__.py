"""Running a trained pipeline over many lines or files: worker processes on this machine, `segment` on a file,
and the same on a Ray cluster (text files on any pyarrow filesystem)."""
