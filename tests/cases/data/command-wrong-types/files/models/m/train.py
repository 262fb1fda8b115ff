import os
from pathlib import Path

import pandas as pd

out = Path(os.environ["MLOPS_OUT"])
test = pd.read_parquet(os.environ["MLOPS_TEST"])

(out / "model").mkdir()
(out / "model" / "w.txt").write_text("1")
pd.DataFrame({"row_id": test["row_id"], "prediction": "Maybe"}).to_parquet(out / "predictions.parquet")
