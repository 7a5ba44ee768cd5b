"""Oracle for tests/nested_rhat.rs: nested R-hat written from Margossian et al. (2023),
eq. (3.3)-(3.5), in numpy, on fixed pseudo-random chains (superchain offsets of several
sizes, including one superchain of single chains and chains of one draw).

    python3 scripts/make_nested_rhat_oracle.py > tests/data/nested_rhat_oracle.json
"""

import json

import numpy as np


def nested_rhat(x, k):
    """x: (chains, draws); chains grouped consecutively into k superchains."""
    c, n = x.shape
    m = c // k
    x = x.reshape(k, m, n)
    chain_mean = x.mean(axis=2)  # (k, m)
    super_mean = chain_mean.mean(axis=1)  # (k,)
    b_hat = super_mean.var(ddof=1)
    b_tilde = chain_mean.var(axis=1, ddof=1) if m > 1 else np.zeros(k)
    w_tilde = x.var(axis=2, ddof=1).mean(axis=1) if n > 1 else np.zeros(k)
    w_hat = (b_tilde + w_tilde).mean()
    return float(np.sqrt(1 + b_hat / w_hat))


rng = np.random.RandomState(2023)
cases = []
for k, m, n, offset in [(2, 2, 50, 0.0), (4, 8, 10, 0.3), (8, 16, 1, 1.0), (3, 1, 40, 2.0), (16, 4, 5, 0.05)]:
    shift = np.repeat(rng.normal(0, offset, size=k), m)[:, None]
    x = rng.normal(0, 1, size=(k * m, n)) + shift
    x = np.round(x, 6)  # exact decimal values in JSON
    cases.append({"superchains": k, "chains": x.tolist(), "nested_rhat": nested_rhat(x, k)})
print(json.dumps(cases))
