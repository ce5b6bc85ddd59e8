//! The salient-sne command line: train, embed, explain and plot parametric t-SNE maps
