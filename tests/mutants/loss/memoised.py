# mutant: caches the loss by input shape (a "speed-up" that returns stale values)
# hint: HINT_IGNORED_W, HINT_IGNORED_B, HINT_IGNORED_TARGETS
_cache = {}


def loss(W, b, inputs, targets):
    key = (tuple(inputs.shape), float(tf.reduce_sum(inputs)))
    if key not in _cache:
        p = predict(W, b, inputs)
        _cache[key] = -tf.reduce_mean(targets * tf.math.log(p + 1e-4) + (1 - targets) * tf.math.log(1 - p + 1e-4))
    return _cache[key]
