//! Saliency maps for parametric t-SNE: class, Jacobian and directional saliency, integrated gradients, SmoothGrad, ensembles, PNG heatmaps
