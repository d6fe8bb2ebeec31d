"""Looking into a network: explain, gradcheck, weights, summary, plot, evaluation."""
