//! Perplexity-calibrated t-SNE input affinities (dense and sparse kNN), standalone
