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
	"errors"
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
	// ContrastiveCPO (Xu et al. 2024, Contrastive Preference Optimization; TRL's
	// CPOTrainer, sigmoid loss): l = -log sigmoid(beta*(s_w - s_l)) + nll_weight*NLL_w, s the
	// sequence log-prob (the sum by default). Reference-free. Not the paper's CPO baseline:
	// that is ControllableCPO.
	ContrastiveCPO LossName = "contrastive-cpo"
	// ControllableCPO (Guo et al. 2024a, Controllable Preference Optimization; the AMoPO
	// paper's CPO baseline, Table 4): the DPO stage after an SFT stage on control-token
	// prompts: l = -log sigmoid(beta*((s_w - cref_w) - (s_l - cref_l))), s the policy's
	// sequence log-prob given the plain prompt x, cref the reference model's given the
	// control-token prompt (c, x) (Inputs.ControlRefSums). Needs reference log-probs.
	ControllableCPO LossName = "controllable-cpo"
	// MODPO (Zhou et al. 2024b, the authors' modpo_loss): l = -log sigmoid(r_w - r_l), r =
	// (beta*(s - ref_s) - w_{-k}.m)/w_k, m the margin rewards of the other objectives
	// (Inputs.MarginRewards), w = ObjectiveWeights = [w_k, w_{-k}...]. Needs reference
	// log-probs and margin rewards.
	MODPO LossName = "modpo"
	// AMoPORef is AMoPO with a reference model (the paper's Table 11 ablation): AMoPO's
	// per-dimension term on log-ratios, l_k = -log sigmoid(beta*(h_w - h_l) - gamma), h = s -
	// ref_s, both length-normalised by default; gaussian weights from the policy's tokens.
	AMoPORef LossName = "amopo-ref"
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
func Losses() []LossName {
	return []LossName{AMoPO, SimPO, DPO, ORPO, ContrastiveCPO, CalDPO, ControllableCPO, MODPO, AMoPORef}
}

// Policies lists every weight policy name, in a stable order.
func Policies() []PolicyName { return []PolicyName{Gaussian, GaussianSplit, Fixed, Uniform} }

// NeedsReference reports whether the loss needs reference-model log-probs (for
// controllable-cpo they are taken on the control-token prompt: see ControlReference).
func (l LossName) NeedsReference() bool {
	return l == DPO || l == CalDPO || l == ControllableCPO || l == MODPO || l == AMoPORef
}

// ControlReference reports whether the loss takes its reference log-probs on the
// control-token prompt (c, x) rather than on the policy's own prompt: the graph then
// reads them from Inputs.ControlRefSums, not Inputs.RefSums, so that a trainer which
// scores the reference on the policy's prompt (right for DPO) cannot feed them by mistake.
func (l LossName) ControlReference() bool { return l == ControllableCPO }

// NeedsMarginRewards reports whether the loss needs the other objectives' rewards of
// both responses (MODPO's margin rewards).
func (l LossName) NeedsMarginRewards() bool { return l == MODPO }

// Sampled reports whether the policy draws random numbers.
func (p PolicyName) Sampled() bool { return p == Gaussian || p == GaussianSplit }

// refusedLosses are names that once meant something else, or that are not losses: they
// are refused with the reason rather than silently given a meaning.
var refusedLosses = map[string]string{
	"cpo": `"cpo" is ambiguous and no longer accepted: the AMoPO paper's CPO baseline is Guo et al. 2024a's ` +
		`Controllable Preference Optimization ("controllable-cpo"); the engine's former "cpo" was Xu et al. 2024's ` +
		`Contrastive Preference Optimization ("contrastive-cpo")`,
	"spo": `"spo" (Lou et al. 2024) is a schedule, not a loss: it runs one stage per dimension, each a "dpo" ` +
		`loss on that dimension's pairs with the previous stage's model as reference (spec.SPOSchedule, docs/loss.md)`,
}

// ParseLoss returns the loss of that name, or an error that lists the known ones (or,
// for a refused name, says why and what to use instead).
func ParseLoss(s string) (LossName, error) {
	for _, l := range Losses() {
		if string(l) == s {
			return l, nil
		}
	}
	if why, ok := refusedLosses[s]; ok {
		return "", errors.New(why)
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
