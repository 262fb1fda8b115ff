"""A repository's files as git and DVC see them, without loading any: git's blob hashes of work-tree and
committed files (``hashing``), DVC-tracked outputs (``dvc``) and partitioned parquet datasets
(``partitions``). ``validate`` checks data paths with them, ``plan`` fingerprints with them, ``train`` finds
its data with them."""
