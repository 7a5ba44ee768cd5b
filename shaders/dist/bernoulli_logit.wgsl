// BernoulliLogit(logit_p = p0), mirrors src/model/dist/bernoulli.rs. x ∈ {0, 1}.
// ln p(x) = -softplus(-l) (x = 1), -softplus(l) (x = 0); ∂/∂l = x - σ(l).

fn bernoulli_logit_lpdf_grad(x: real, p0: real) -> Lg {
    if (!(x == real(0.0) || x == real(1.0))) {
        return Lg(neg_inf(), vec4<real>());
    }
    let v = select(-softplus(p0), -softplus(-p0), x == real(1.0));
    return Lg(v, vec4<real>(real(0.0), x - logistic(p0), real(0.0), real(0.0)));
}

fn bernoulli_logit_kernel_grad(x: real, p0: real) -> Lg {
    return bernoulli_logit_lpdf_grad(x, p0);
}

fn bernoulli_logit_log_normalizer_grad(p0: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
