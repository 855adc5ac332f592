"""tracker.data datasets and log_input: MLflow's fields and digests, recorded per run."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracker
from tracker import data, store


@pytest.fixture(scope="module")
def frame():
    return pd.DataFrame({"age": [10, 15, 14], "height": [1.2, 1.5, None], "name": ["tom", "nick", "july"],
                         "label": [True, False, True]})


def test_from_pandas_has_mlflows_fields(frame):
    dataset = tracker.data.from_pandas(frame, source="data/train.csv", targets="label")
    assert (dataset.name, dataset.targets) == ("dataset", "label")
    fields = dataset.to_dict()
    assert json.loads(fields["source"]) == {"uri": "data/train.csv"} and fields["source_type"] == "local"
    assert json.loads(fields["profile"]) == {"num_rows": 3, "num_elements": 12}
    assert json.loads(fields["schema"]) == {"mlflow_colspec": [
        {"type": "long", "name": "age", "required": True}, {"type": "double", "name": "height", "required": False},
        {"type": "string", "name": "name", "required": True}, {"type": "boolean", "name": "label", "required": True}]}
    with pytest.raises(ValueError, match="targets"):
        tracker.data.from_pandas(frame, targets="missing")


def test_digests_and_fields_match_mlflows_for_the_same_data(frame):
    mlflow_data = pytest.importorskip("mlflow.data")
    ours = data.from_pandas(frame, source="data/train.csv", name="train").to_dict()
    theirs = mlflow_data.from_pandas(frame, source="data/train.csv", name="train").to_dict()
    assert ours == theirs
    features, targets = np.arange(12.0).reshape(4, 3), np.array([0, 1, 0, 1])
    ours = data.from_numpy(features, source="x.npy", targets=targets).to_dict()
    theirs = mlflow_data.from_numpy(features, source="x.npy", targets=targets).to_dict()
    assert {k: ours[k] for k in ("name", "digest", "profile", "schema")} == \
        {k: theirs[k] for k in ("name", "digest", "profile", "schema")}


def test_a_digest_changes_with_the_data_and_a_given_digest_is_kept():
    a = data.from_numpy(np.array([[1.0, 2.0]]))
    assert a.digest == data.from_numpy(np.array([[1.0, 2.0]])).digest
    assert a.digest != data.from_numpy(np.array([[1.0, 3.0]])).digest
    assert data.from_numpy(np.array([[1.0]]), digest="abc").digest == "abc"
    assert a.source.source_type == "code"  # no source given: the script that made it


def test_log_input_records_each_dataset_and_context_once(frame, tracking_dir):
    dataset = data.from_pandas(frame, source="data/train.csv", name="train")
    with tracker.start_run() as run:
        tracker.log_input(dataset, context="training")
        tracker.log_input(dataset, context="training")
        tracker.log_input(dataset, context="eval", tags={"split": "b"})
    inputs = data.get_inputs(run.info.run_id)
    assert [i.dataset for i in inputs] == [dataset.to_dict()] * 2
    assert [{t.key: t.value for t in i.tags} for i in inputs] == [
        {"mlflow.data.context": "training"}, {"split": "b", "mlflow.data.context": "eval"}]
    stored = json.loads((Path(store.run_dir(tracking_dir, run.info.run_id)) / "artifacts" / data.INPUTS_FILE)
                        .read_text())
    assert len(stored) == 2 and tracker.last_active_run().data.tags[data.INPUTS_TAG] == data.INPUTS_FILE


def test_log_input_refuses_what_is_not_a_dataset():
    with pytest.raises(TypeError):
        tracker.log_input(pd.DataFrame({"a": [1]}))
    assert tracker.active_run() is None
