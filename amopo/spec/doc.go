package spec

// The definitions below are the one source of truth for the float64 reference (package
// ref) and the GoMLX graphs (package amopo); both must compute exactly this.
//
// Inputs, per example b and dimension k: the per-token log-probs of the chosen (w) and
// rejected (l) responses' tokens under the templated prompt x*_k, and for the losses
// that need one (NeedsReference) the reference model's; for MODPO the margin rewards
// mr_w[j], mr_l[j] of the M other objectives. n_w, n_l are the token counts (>= 1).
//
// Sequence log-prob s (per side): the sum of the token log-probs, or their mean when
// LengthNormalize is set. The reference sequence log-prob ref_s is reduced the same way.
// The mean per-token log-prob m (always the mean) drives ORPO's odds and the NLL term:
// nll = -m_w.
//
// Per-pair loss l[b][k] and rewards (r_w, r_l), with logsig(x) = min(x,0) - log1p(exp(-|x|)):
//
//	amopo, simpo: l = -logsig(beta*(s_w - s_l) - gamma);     r = beta*s
//	dpo:          l = -logsig(beta*(h_w - h_l)), h = s - ref_s;  r = beta*h
//	cal-dpo:      l = -logsig(h_w - h_l) + 0.5*((h_w - 1/(2 beta))^2 + (h_l + 1/(2 beta))^2);  r = h
//	contrastive-cpo: l = -logsig(beta*(s_w - s_l));          r = beta*s
//	controllable-cpo: as dpo, ref_s the reference's given the control-token prompt (c, x)
//	modpo:        l = -logsig(r_w - r_l), r = (beta*h - sum_j w[j+1]*mr[j]) / w[0],
//	              h = s - ref_s, w = ObjectiveWeights;       r as written
//	amopo-ref:    l = -logsig(beta*(h_w - h_l) - gamma), h = s - ref_s;  r = beta*h
//	orpo:         l = -lambda*logsig(lo_w - lo_l),
//	              lo = m' - log(-expm1(m')), m' = min(m, -1e-6) (log-odds of the mean prob);  r = lambda*m
//
// then every loss adds NLLWeight*nll. The reward margin is r_w - r_l (before gamma); the
// accuracy is 1 when r_w > r_l, else 0.
//
// Weights: token probabilities p = exp(logp), with no gradient through them.
//
//	gaussian:        P = chosen and rejected tokens pooled (n = n_w + n_l); mu = mean(P),
//	                 var = sum((p-mu)^2)/n (or /(n-1) with UnbiasedStd); raw = mu + sqrt(var)*z[b][k][0]
//	gaussian-split:  mu_w, var_w over the chosen tokens, mu_l, var_l over the rejected;
//	                 raw = (mu_w + sqrt(var_w)*z[b][k][0]) + (mu_l + sqrt(var_l)*z[b][k][1]);
//	                 reported mu = mu_w + mu_l, sigma = sqrt(var_w + var_l)
//	fixed, uniform:  mu, sigma as for gaussian (reported only); raw = the normalised weight.
//
// With UnbiasedStd and a side of fewer than 2 tokens the variance is NaN (0/0, as
// torch.std); a raw weight that is not finite becomes 0 and is counted (NonFiniteWeights).
// z = Noise(Seed, Step, B, K). Sampled policies: alpha = softmax of raw over the K
// dimensions of each example (Softmax = example) or over all B*K entries (batch).
// fixed: alpha = Weights/sum(Weights); uniform: alpha = 1/K (softmax scope ignored).
//
// Total: S = sum over b,k of alpha[b][k]*l[b][k]; Loss = S/B (Reduce = sum) or S/(B*K)
// (Reduce = mean). The gradient flows through l only: alpha is a constant.
