"""Model files, pickle and joblib: the same bytes as the CLI, round trips, and refused bad bytes."""

import pickle
import subprocess

import joblib
import numpy as np
import pytest

import salient_sne
from salient_sne import SalientSNE

from conftest import FAST, cli


def test_save_and_load_keep_the_model(tmp_path, sample, fitted):
    Xt, yt = sample[2], sample[3]
    path = tmp_path / "m.ssne"
    fitted.save(path)
    assert path.read_bytes() == fitted.model_.to_bytes()
    loaded = SalientSNE.load(path)
    np.testing.assert_array_equal(loaded.transform(Xt), fitted.transform(Xt))
    np.testing.assert_array_equal(loaded.embedding_, fitted.embedding_)
    np.testing.assert_array_equal(loaded.predict(Xt), fitted.predict(Xt))
    assert loaded.score(Xt, yt) == fitted.score(Xt, yt)
    assert loaded.n_features_in_ == 784


@pytest.mark.parametrize("dump,load", [(pickle.dumps, pickle.loads), (None, None)], ids=["pickle", "joblib"])
def test_pickle_and_joblib_round_trips(tmp_path, sample, fitted, dump, load):
    Xt = sample[2]
    if dump is None:
        joblib.dump(fitted, tmp_path / "m.joblib")
        copy = joblib.load(tmp_path / "m.joblib")
    else:
        copy = load(dump(fitted))
    assert copy.get_params() == fitted.get_params()
    assert copy.model_.to_bytes() == fitted.model_.to_bytes()
    np.testing.assert_array_equal(copy.transform(Xt), fitted.transform(Xt))
    np.testing.assert_array_equal(copy.classes_, fitted.classes_)


def test_string_classes_survive_save_and_load(tmp_path, small):
    X, y = small
    names = np.array(["cat", "dog", "emu"])[y]
    est = SalientSNE(random_state=0, perplexity=5, **FAST).fit(X, names)
    est.save(tmp_path / "s.ssne")
    loaded = SalientSNE.load(tmp_path / "s.ssne")
    np.testing.assert_array_equal(loaded.classes_, est.classes_)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_corrupt_and_foreign_bytes_are_value_errors(tmp_path, fitted):
    good = fitted.model_.to_bytes()
    cases = {
        "not a model": (b"hello world" * 10, "wrong magic bytes"),
        "truncated": (good[:-10], "truncated"),
        "flipped byte": (good[:100] + bytes([good[100] ^ 0xFF]) + good[101:], "checksum mismatch"),
        "empty": (b"", "wrong magic bytes"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / f"{name}.ssne"
        path.write_bytes(data)
        with pytest.raises(ValueError, match=message) as info:
            SalientSNE.load(path)
        assert str(path) in str(info.value), name


def test_a_model_of_another_format_version_is_refused_in_load_and_unpickle(tmp_path, fitted):
    good = fitted.model_.to_bytes()
    version = int.from_bytes(good[8:12], "little")
    other = good[:8] + (version + 1).to_bytes(4, "little") + good[12:]
    (tmp_path / "v.ssne").write_bytes(other)
    with pytest.raises(ValueError, match=f"format version {version + 1}, but this salient-sne reads version {version}"):
        SalientSNE.load(tmp_path / "v.ssne")
    state = pickle.dumps(fitted).replace(good, other)
    with pytest.raises(ValueError, match="pickled SalientSNE.*format version"):
        pickle.loads(state)


def test_missing_model_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        SalientSNE.load(tmp_path / "absent.ssne")


def test_python_writes_the_cli_model_byte_for_byte_and_reads_it(tmp_path, sample):
    X, y, Xt, _ = sample
    path = tmp_path / "cli.ssne"
    subprocess.run(
        [str(cli()), "--quiet", "--threads", "2", "train", "--rows", "0..300", "--seed", "9",
         "--finetune-steps", "150", "--edges-per-step", "100", "--perplexity", "12",
         "--model", str(path)],
        check=True,
    )
    est = SalientSNE(random_state=9, image_shape=(28, 28), perplexity=12, n_jobs=1, **FAST).fit(X, y)
    assert est.model_.to_bytes() == path.read_bytes()
    loaded = SalientSNE.load(path)
    assert loaded.image_shape == (28, 28)
    np.testing.assert_array_equal(loaded.transform(Xt), est.transform(Xt))
    # ... and the CLI embeds with the model Python wrote exactly as Python does.
    est.save(tmp_path / "py.ssne")
    out = tmp_path / "map.npy"
    subprocess.run(
        [str(cli()), "--quiet", "embed", "--model", str(tmp_path / "py.ssne"), "--rows", "300..500",
         "--out", str(out)],
        check=True,
    )
    np.testing.assert_array_equal(np.load(out), est.transform(Xt))


def test_held_out_quality_through_numpy_matches_eval(tmp_path, sample, fitted):
    """10-NN (scikit-learn's KNeighborsClassifier) and trustworthiness (sklearn.manifold) of the
    held-out map, from numpy arrays only, agree with what `salient-sne eval` reports."""
    import json

    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import KNeighborsClassifier

    X, y, Xt, yt = sample
    path = tmp_path / "m.ssne"
    fitted.save(path)
    out = subprocess.run(
        [str(cli()), "--quiet", "eval", "--model", str(path), "--rows", "300..500", "--json"],
        check=True, capture_output=True, text=True,
    )
    report = json.loads(out.stdout)
    Z = fitted.transform(Xt)
    knn = KNeighborsClassifier(n_neighbors=10).fit(fitted.embedding_, y).score(Z, yt)
    trust = trustworthiness(Xt, Z, n_neighbors=12)
    assert abs(knn - report["knn10_accuracy"]) <= 0.005, (knn, report)
    assert abs(trust - report["trustworthiness"]) <= 0.005, (trust, report)
    assert fitted.score(Xt, yt) == pytest.approx(report["knn10_accuracy"], abs=1e-12)
