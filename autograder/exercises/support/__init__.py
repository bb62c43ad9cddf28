"""What several exercises share: input factories, hints, tolerance bands, probe and judge
variants, layer checks and lazy TensorFlow."""
