//! Parametric t-SNE network: pretraining, t-SNE fine-tuning, embedding, checkpoints and metrics
