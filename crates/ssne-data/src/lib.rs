//! Dataset loaders for salient-sne: IDX (MNIST), NPY, CSV, splits, scaling, atomic writes
