"""Small data sets for the data-dependent defaults (docs/QUALITY.md, "Small and non-MNIST data").

    python docs/quality/small_data.py make OUT       # writes OUT/<set>.npy, OUT/<set>.labels.npy, OUT/sets.txt
    python docs/quality/small_data.py opentsne OUT   # openTSNE fit + transform on each set's split

Each set is one NPY file of n x h x w float32 images and an int64 labels file; the first
`n_train` rows are the training rows, the rest are held out (listed in OUT/sets.txt as
`name n_train n_total`). MNIST rows come from the bundled 10k sample (data/mnist-sample),
Fashion-MNIST rows from its training split only (/usr/share/datasets/fashion-mnist, the Debian
package dataset-fashion-mnist). Needs numpy, scikit-learn and openTSNE (1.0.x).
"""

import gzip
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FASHION = Path("/usr/share/datasets/fashion-mnist")


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def down(images, side):
    """Area-average 28 x 28 images down to side x side (14: 2 x 2 blocks; 8: the central 24 x 24 in 3 x 3 blocks)."""
    x = images.astype(np.float32) / 255.0
    if side == 14:
        return x.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4))
    if side == 8:
        return x[:, 2:26, 2:26].reshape(-1, 8, 3, 8, 3).mean(axis=(2, 4))
    return x


def pick(labels, n, classes, seed):
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(np.isin(labels, classes)) if classes is not None else np.arange(len(labels))
    return rng.permutation(rows)[:n]


def make(out):
    out.mkdir(parents=True, exist_ok=True)
    mnist_x = idx(ROOT / "data/mnist-sample/images-idx3-ubyte.gz")
    mnist_y = idx(ROOT / "data/mnist-sample/labels-idx1-ubyte.gz")
    fashion_x = idx(FASHION / "train-images-idx3-ubyte.gz")
    fashion_y = idx(FASHION / "train-labels-idx1-ubyte.gz")
    sets = []

    def write(name, x, y, n_train):
        np.save(out / f"{name}.npy", np.ascontiguousarray(x, dtype=np.float32))
        np.save(out / f"{name}.labels.npy", y.astype(np.int64))
        sets.append(f"{name} {n_train} {len(y)}")

    for source, x, y in (("mnist", mnist_x, mnist_y), ("fashion", fashion_x, fashion_y)):
        rows = pick(y, 2000, None, 1)
        for side in (14, 8):
            write(f"{source}{side}", down(x[rows], side), y[rows], 1500)
    # Two classes that are hard to tell apart (#19.3).
    rows = pick(mnist_y, 1600, [4, 9], 2)
    write("mnist14-4v9", down(mnist_x[rows], 14), (mnist_y[rows] == 9).astype(np.int64), 1200)
    rows = pick(fashion_y, 1600, [0, 6], 3)  # T-shirt/top vs shirt
    write("fashion8-0v6", down(fashion_x[rows], 8), (fashion_y[rows] == 6).astype(np.int64), 1200)
    # scikit-learn's 8 x 8 digits in 0..16, the data of #19 (rows 0..1500 / 1500..1797).
    from sklearn.datasets import load_digits

    digits = load_digits()
    write("digits", digits.images.astype(np.float32), digits.target, 1500)
    (out / "sets.txt").write_text("\n".join(sets) + "\n")


def knn(ref, ref_y, emb, y, k):
    d = ((emb[:, None, :] - ref[None, :, :]) ** 2).sum(-1)
    nn = np.argsort(d, axis=1, kind="stable")[:, :k]
    votes = ref_y[nn]
    pred = np.array([np.bincount(v, minlength=ref_y.max() + 1).argmax() for v in votes])
    return float((pred == y).mean())


def opentsne(out):
    from openTSNE import TSNE
    from sklearn.manifold import trustworthiness

    for line in (out / "sets.txt").read_text().split("\n"):
        if not line:
            continue
        name, n_train, _ = line.split()
        n_train = int(n_train)
        x = np.load(out / f"{name}.npy").reshape(len(np.load(out / f"{name}.labels.npy")), -1)
        y = np.load(out / f"{name}.labels.npy")
        train = TSNE(random_state=42, n_jobs=1).fit(x[:n_train])
        test = np.asarray(train.transform(x[n_train:]))
        ref = np.asarray(train)
        print(
            f"{name} openTSNE 10-NN {knn(ref, y[:n_train], test, y[n_train:], 10):.3f} "
            f"1-NN {knn(ref, y[:n_train], test, y[n_train:], 1):.3f} "
            f"trust {trustworthiness(x[n_train:], test, n_neighbors=12):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    {"make": make, "opentsne": opentsne}[sys.argv[1]](Path(sys.argv[2]))
