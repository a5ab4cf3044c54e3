// Package spec is the backend-free contract of the AMoPO loss family: the names of
// the losses and weight policies, their hyper-parameters with defaults, the JSON
// request/response served by cmd/loss (and later the web page and edge endpoint),
// and the seeded noise source that makes the Gaussian weights reproducible on every
// backend.
//
// It imports nothing but the standard library, so the float64 reference
// (package ref), the GoMLX graph implementation (package amopo) and a wasm build
// can all share it.
package spec

import (
	"fmt"
	"sort"
	"strings"
)

// LossName names a preference loss of the family.
type LossName string

// The preference losses. Each works per dimension k on the sequence log-probs of the
// chosen (w) and rejected (l) responses under the templated prompt x*_k; the
// per-dimension losses l_k are then combined with the weights alpha_k of a WeightPolicy.
const (
	// AMoPO (paper Eq. 9): l_k = -log sigmoid(beta*s_w - beta*s_l - gamma), with
	// s the mean per-token log-prob of the response (length-normalised; the sum when
	// length normalisation is off). Default policy: gaussian.
	AMoPO LossName = "amopo"
	// SimPO (Meng et al. 2024): the same per-dimension term as AMoPO; its default policy
	// is uniform, so with K = 1 it is exactly SimPO.
	SimPO LossName = "simpo"
	// DPO (Rafailov et al. 2023): l = -log sigmoid(beta*((s_w - ref_w) - (s_l - ref_l))),
	// s the sequence log-prob (the sum by default); needs reference log-probs.
	DPO LossName = "dpo"
	// ORPO (Hong et al. 2024, TRL's odds_ratio_loss): l = nll_weight*NLL_w -
	// lambda*log sigmoid(log odds(w) - log odds(l)), odds from mean per-token log-probs.
	ORPO LossName = "orpo"
	// CPO (Xu et al. 2024, TRL's CPOTrainer, sigmoid loss): l = -log sigmoid(beta*(s_w - s_l))
	// + nll_weight*NLL_w, s the sequence log-prob (the sum by default). Reference-free.
	CPO LossName = "cpo"
	// CalDPO (Xiao et al. 2024, as in the authors' trainer): l = -log sigmoid(h_w - h_l) +
	// 0.5*((h_w - 1/(2 beta))^2 + (h_l + 1/(2 beta))^2), h = s - ref_s the log-ratio;
	// needs reference log-probs.
	CalDPO LossName = "cal-dpo"
)

// PolicyName names a weight policy: how alpha_k, the weight of dimension k, is chosen.
type PolicyName string

const (
	// Gaussian is the paper's Eq. 10: mu_k and sigma_k^2 are the mean and variance of the
	// probabilities of all response tokens of dimension k, chosen and rejected pooled;
	// a_k = mu_k + sigma_k*z with z ~ N(0,1); alpha = softmax_k(a).
	Gaussian PolicyName = "gaussian"
	// GaussianSplit is what the authors' code does: one draw from the chosen tokens'
	// Gaussian and one from the rejected tokens', summed: a_k = (mu_w + sigma_w*z0) +
	// (mu_l + sigma_l*z1); alpha = softmax_k(a). The reported mu is mu_w + mu_l and sigma
	// is sqrt(sigma_w^2 + sigma_l^2), the law of a_k.
	GaussianSplit PolicyName = "gaussian-split"
	// Fixed uses the user's ratios, normalised to sum to 1 (the paper's 1:1:1:1 ablation).
	Fixed PolicyName = "fixed"
	// Uniform gives every dimension 1/K.
	Uniform PolicyName = "uniform"
)

// Losses lists every loss name, in a stable order.
func Losses() []LossName { return []LossName{AMoPO, SimPO, DPO, ORPO, CPO, CalDPO} }

// Policies lists every weight policy name, in a stable order.
func Policies() []PolicyName { return []PolicyName{Gaussian, GaussianSplit, Fixed, Uniform} }

// NeedsReference reports whether the loss needs reference-model log-probs.
func (l LossName) NeedsReference() bool { return l == DPO || l == CalDPO }

// Sampled reports whether the policy draws random numbers.
func (p PolicyName) Sampled() bool { return p == Gaussian || p == GaussianSplit }

// ParseLoss returns the loss of that name, or an error that lists the known ones.
func ParseLoss(s string) (LossName, error) {
	for _, l := range Losses() {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown loss %q (known: %s)", s, joinNames(Losses()))
}

// ParsePolicy returns the policy of that name, or an error that lists the known ones.
func ParsePolicy(s string) (PolicyName, error) {
	for _, p := range Policies() {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown weight policy %q (known: %s)", s, joinNames(Policies()))
}

func joinNames[T ~string](names []T) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
