"""救助通 (jiuzhu): medical-assistance casework for township and county offices."""

import os

__version__ = "0.1.0"

# numpy asks Linux for transparent huge pages for every array of 4 MB or more (madvise). Where the kernel finds them
# only by compacting memory first (THP "madvise" with direct compaction, as on the benchmark machine), the process
# stalls at each such array: 政策测算's last step after its workers (joining two million visits' columns and tallying
# them) took 1.3–1.7 s with huge pages and 0.8–1.1 s without (bench/README). numpy reads this once, when it is first
# imported, and worker processes inherit it; a value set by whoever runs the app is kept. No effect on Windows.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
