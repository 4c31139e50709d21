"""Demo data: a realistic Dorset partnership's records, of any size, for `casework demo` and the benchmarks.

`write_dataset(directory, incidents=N, seed=S)` writes the partners' extracts
as data-exchange CSV; `records(...)` streams the same rows without writing
them; `casework.demo.loader.load_demo` imports them into the database and opens the
cases the partners' caseworkers would have (`casework.demo.cases`).
"""

from .generator import Record, records
from .partners import DATASETS, PARTNERS, DataSetSpec, Partner
from .writer import DataSet, write_dataset

__all__ = ["DATASETS", "PARTNERS", "DataSet", "DataSetSpec", "Partner", "Record", "records", "write_dataset"]
