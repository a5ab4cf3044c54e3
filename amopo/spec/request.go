package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// Pair holds one preference pair seen under K dimension templates: for each dimension k,
// the per-token log-probs of the chosen and the rejected response (response tokens
// only, prompt and padding already removed). RefChosen/RefRejected are the reference
// model's, for the losses that need one (DPO, Cal-DPO), and nil otherwise.
type Pair struct {
	Chosen, Rejected       [][]float64
	RefChosen, RefRejected [][]float64
	// MarginChosen[k][j], MarginRejected[k][j]: MODPO's margin rewards, the reward of the
	// chosen (rejected) response on the j-th other objective, per dimension k; nil for the
	// other losses.
	MarginChosen, MarginRejected [][]float64
}

// Request is the JSON body that cmd/loss, the web page and the edge endpoint take.
// Omitted numbers take the loss's defaults (see Defaults); omitted dimensions take
// the default K = 4 names when there are 4 arrays, else dim_1..dim_K.
type Request struct {
	Loss             string      `json:"loss"`
	Beta             *float64    `json:"beta,omitempty"`
	Gamma            *float64    `json:"gamma,omitempty"`
	Lambda           *float64    `json:"lambda,omitempty"`
	NLLWeight        *float64    `json:"nll_weight,omitempty"`
	LengthNormalize  *bool       `json:"length_normalize,omitempty"`
	Policy           string      `json:"policy,omitempty"`
	Weights          []float64   `json:"weights,omitempty"`
	Seed             uint64      `json:"seed"`
	Step             uint64      `json:"step,omitempty"`
	Dimensions       []string    `json:"dimensions,omitempty"`
	UnbiasedStd      bool        `json:"unbiased_std,omitempty"`
	Softmax          string      `json:"softmax,omitempty"`
	Reduction        string      `json:"reduction,omitempty"`
	ChosenLogps      [][]float64 `json:"chosen_logps"`
	RejectedLogps    [][]float64 `json:"rejected_logps"`
	RefChosenLogps   [][]float64 `json:"ref_chosen_logps,omitempty"`
	RefRejectedLogps [][]float64 `json:"ref_rejected_logps,omitempty"`
	// ObjectiveWeights, ChosenMarginRewards, RejectedMarginRewards are MODPO's w and
	// margin rewards ([K][M]: per dimension, one reward per other objective).
	ObjectiveWeights      []float64   `json:"objective_weights,omitempty"`
	ChosenMarginRewards   [][]float64 `json:"chosen_margin_rewards,omitempty"`
	RejectedMarginRewards [][]float64 `json:"rejected_margin_rewards,omitempty"`
}

// Response is the JSON answer: the loss and, per dimension, the weights, the Gaussian
// parameters, the reward margins and the rest of what a trainer logs.
type Response struct {
	Loss             float64   `json:"loss"`
	Dimensions       []string  `json:"dimensions"`
	Alpha            []float64 `json:"alpha"`
	Mu               []float64 `json:"mu"`
	Sigma            []float64 `json:"sigma"`
	Margins          []float64 `json:"margins"`
	RawWeights       []float64 `json:"raw_weights"`
	Losses           []float64 `json:"losses"`
	ChosenRewards    []float64 `json:"chosen_rewards"`
	RejectedRewards  []float64 `json:"rejected_rewards"`
	ChosenLogps      []float64 `json:"chosen_logps"`
	RejectedLogps    []float64 `json:"rejected_logps"`
	NLL              float64   `json:"nll_loss"`
	NonFiniteWeights int       `json:"nonfinite_weights"`
	// GradChosenLogps, GradRejectedLogps are dLoss/d(token log-prob), per dimension and
	// token, when asked for (the weights held fixed: they carry no gradient).
	GradChosenLogps   [][]float64 `json:"grad_chosen_logps,omitempty"`
	GradRejectedLogps [][]float64 `json:"grad_rejected_logps,omitempty"`
}

// DecodeRequest reads one JSON request and resolves it into validated parameters and a
// one-pair batch. Errors name the field (and the line:column of a syntax error).
func DecodeRequest(r io.Reader) (Params, Pair, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return Params{}, Pair{}, fmt.Errorf("reading the request: %w", err)
	}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return Params{}, Pair{}, describeJSONError(body, err)
	}
	if dec.More() {
		return Params{}, Pair{}, fmt.Errorf("request: more than one JSON value in the body")
	}
	if err := checkNulls(body); err != nil {
		return Params{}, Pair{}, err
	}
	return req.Resolve()
}

// numberArrays mirrors the Request's number arrays with pointers, to see JSON nulls:
// encoding/json leaves a float64 at 0 for null, which would read as a log-prob of 0
// (probability 1) or a weight of 0.
type numberArrays struct {
	Weights          []*float64   `json:"weights"`
	ChosenLogps      [][]*float64 `json:"chosen_logps"`
	RejectedLogps    [][]*float64 `json:"rejected_logps"`
	RefChosenLogps   [][]*float64 `json:"ref_chosen_logps"`
	RefRejectedLogps [][]*float64 `json:"ref_rejected_logps"`
}

// checkNulls names the first null inside a number array of a body that decoded as a Request.
func checkNulls(body []byte) error {
	var arrays numberArrays
	if err := json.Unmarshal(body, &arrays); err != nil {
		return fmt.Errorf("request: %w", err) // unreachable: the body decoded as a Request
	}
	for i, w := range arrays.Weights {
		if w == nil {
			return fmt.Errorf("weights[%d]: null is not a number", i)
		}
	}
	for _, f := range []struct {
		name   string
		arrays [][]*float64
	}{
		{"chosen_logps", arrays.ChosenLogps}, {"rejected_logps", arrays.RejectedLogps},
		{"ref_chosen_logps", arrays.RefChosenLogps}, {"ref_rejected_logps", arrays.RefRejectedLogps},
	} {
		for d, a := range f.arrays {
			for t, v := range a {
				if v == nil {
					return fmt.Errorf("%s[%d][%d]: null is not a log-prob (a finite number <= 0 is needed)", f.name, d, t)
				}
			}
		}
	}
	return nil
}

// Resolve applies the defaults and checks every field and array.
func (req *Request) Resolve() (Params, Pair, error) {
	if req.Loss == "" {
		return Params{}, Pair{}, fmt.Errorf("loss: missing (known: %s)", joinNames(Losses()))
	}
	loss, err := ParseLoss(req.Loss)
	if err != nil {
		return Params{}, Pair{}, fmt.Errorf("loss: %w", err)
	}
	p := Defaults(loss)
	setIf := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	setIf(&p.Beta, req.Beta)
	setIf(&p.Gamma, req.Gamma)
	setIf(&p.Lambda, req.Lambda)
	setIf(&p.NLLWeight, req.NLLWeight)
	if req.LengthNormalize != nil {
		p.LengthNormalize = *req.LengthNormalize
	}
	if req.Policy != "" {
		if p.Policy, err = ParsePolicy(req.Policy); err != nil {
			return Params{}, Pair{}, fmt.Errorf("policy: %w", err)
		}
	}
	p.Weights = req.Weights
	p.Seed, p.Step, p.UnbiasedStd = req.Seed, req.Step, req.UnbiasedStd
	if req.Softmax != "" {
		p.Softmax = SoftmaxScope(req.Softmax)
	}
	if req.Reduction != "" {
		p.Reduce = Reduction(req.Reduction)
	}
	k := len(req.ChosenLogps)
	switch {
	case len(req.Dimensions) > 0:
		p.Dimensions = req.Dimensions
	case k == len(DefaultDimensions()):
		p.Dimensions = DefaultDimensions()
	default:
		p.Dimensions = make([]string, k)
		for i := range p.Dimensions {
			p.Dimensions[i] = fmt.Sprintf("dim_%d", i+1)
		}
	}
	pair := Pair{Chosen: req.ChosenLogps, Rejected: req.RejectedLogps}
	if loss.NeedsReference() {
		pair.RefChosen, pair.RefRejected = req.RefChosenLogps, req.RefRejectedLogps
	}
	if err := req.resolveMODPO(&p, &pair); err != nil {
		return Params{}, Pair{}, err
	}
	if err := p.Validate(); err != nil {
		return Params{}, Pair{}, err
	}
	if loss.ControlReference() && (pair.RefChosen == nil || pair.RefRejected == nil) {
		return Params{}, Pair{}, fmt.Errorf("ref_chosen_logps, ref_rejected_logps: missing (loss %q needs the "+
			"reference model's log-probs of each response given the control-token prompt (c, x))", loss)
	}
	if err := CheckPair(&p, &pair, ""); err != nil {
		return Params{}, Pair{}, err
	}
	return p, pair, nil
}

// resolveMODPO applies MODPO's objective weights and margin rewards, and refuses them for
// the other losses (no field is silently ignored).
func (req *Request) resolveMODPO(p *Params, pair *Pair) error {
	if !p.Loss.NeedsMarginRewards() {
		for name, given := range map[string]bool{
			"objective_weights":       req.ObjectiveWeights != nil,
			"chosen_margin_rewards":   req.ChosenMarginRewards != nil,
			"rejected_margin_rewards": req.RejectedMarginRewards != nil,
		} {
			if given {
				return fmt.Errorf("%s: only modpo takes it (loss is %q)", name, p.Loss)
			}
		}
		return nil
	}
	if req.ObjectiveWeights != nil {
		p.ObjectiveWeights = req.ObjectiveWeights
	}
	pair.MarginChosen, pair.MarginRejected = req.ChosenMarginRewards, req.RejectedMarginRewards
	return nil
}

// checkMarginRewards checks MODPO's margin rewards: per side, K arrays of M finite
// rewards (M = len(objective_weights) - 1).
func checkMarginRewards(p *Params, pair *Pair, prefix string) error {
	m := p.MarginRewardCount()
	for _, side := range []struct {
		name   string
		arrays [][]float64
	}{{"chosen_margin_rewards", pair.MarginChosen}, {"rejected_margin_rewards", pair.MarginRejected}} {
		if side.arrays == nil {
			return fmt.Errorf("%s%s: missing (loss %q needs each response's rewards on the %d other objective(s))",
				prefix, side.name, p.Loss, m)
		}
		if len(side.arrays) != p.K() {
			return fmt.Errorf("%s%s: %d arrays for K = %d dimensions %v: one array of margin rewards per dimension",
				prefix, side.name, len(side.arrays), p.K(), p.Dimensions)
		}
		for d, a := range side.arrays {
			if len(a) != m {
				return fmt.Errorf("%s%s[%d]: %d rewards, but objective_weights %v name %d other objective(s)",
					prefix, side.name, d, len(a), p.ObjectiveWeights, m)
			}
			for j, v := range a {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("%s%s[%d][%d]: reward must be finite, got %v", prefix, side.name, d, j, v)
				}
			}
		}
	}
	return nil
}

// CheckPair checks that a pair fits the parameters: K arrays per side, no empty response,
// finite log-probs <= 0, reference log-probs where the loss needs them. prefix names the
// pair in errors (e.g. "pairs[3]."); field names follow the JSON contract.
func CheckPair(p *Params, pair *Pair, prefix string) error {
	k := p.K()
	sides := []struct {
		name   string
		arrays [][]float64
		need   bool
	}{
		{"chosen_logps", pair.Chosen, true},
		{"rejected_logps", pair.Rejected, true},
		{"ref_chosen_logps", pair.RefChosen, p.Loss.NeedsReference()},
		{"ref_rejected_logps", pair.RefRejected, p.Loss.NeedsReference()},
	}
	for _, s := range sides {
		if !s.need {
			continue
		}
		if s.arrays == nil {
			return fmt.Errorf("%s%s: missing (loss %q needs it)", prefix, s.name, p.Loss)
		}
		if len(s.arrays) != k {
			return fmt.Errorf("%s%s: %d arrays for K = %d dimensions %v: one array of per-token log-probs per dimension",
				prefix, s.name, len(s.arrays), k, p.Dimensions)
		}
		for d, a := range s.arrays {
			if policyLen := policyLength(pair, s.name, d); policyLen >= 0 && len(a) != policyLen {
				return fmt.Errorf("%s%s[%d]: %d reference log-probs for a response of %d tokens (dimension %q)",
					prefix, s.name, d, len(a), policyLen, p.Dimensions[d])
			}
			if len(a) == 0 {
				return fmt.Errorf("%s%s[%d]: empty response for dimension %q: a response needs at least one token",
					prefix, s.name, d, p.Dimensions[d])
			}
			for t, v := range a {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("%s%s[%d][%d]: log-prob must be finite, got %v", prefix, s.name, d, t, v)
				}
				if v > 0 {
					return fmt.Errorf("%s%s[%d][%d]: log-prob must be <= 0, got %v", prefix, s.name, d, t, v)
				}
			}
			// The sequence log-prob is the sum (the mean divides the sum): finite tokens can
			// still sum past -math.MaxFloat64.
			if total := sumOf(a); math.IsInf(total, 0) {
				return fmt.Errorf("%s%s[%d]: the sum of its %d log-probs overflows float64 (%v) for dimension %q: every log-prob is finite, but the sequence log-prob is not",
					prefix, s.name, d, len(a), total, p.Dimensions[d])
			}
		}
	}
	if p.Loss.NeedsMarginRewards() {
		return checkMarginRewards(p, pair, prefix)
	}
	return nil
}

func sumOf(xs []float64) float64 {
	total := 0.0
	for _, x := range xs {
		total += x
	}
	return total
}

// policyLength is the token count of the policy response a reference array belongs to,
// or -1 for the policy arrays themselves.
func policyLength(pair *Pair, field string, d int) int {
	switch field {
	case "ref_chosen_logps":
		return len(pair.Chosen[d])
	case "ref_rejected_logps":
		return len(pair.Rejected[d])
	}
	return -1
}

// describeJSONError turns a decoding error into one line with line:column where known.
func describeJSONError(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("request: empty body, expected one JSON object")
	case errors.As(err, &syn):
		line, col := lineCol(body, syn.Offset)
		return fmt.Errorf("request:%d:%d: malformed JSON: %v", line, col, syn)
	case errors.As(err, &typ):
		line, col := lineCol(body, typ.Offset)
		return fmt.Errorf("request:%d:%d: field %q: expected %v, got JSON %s", line, col, typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("request: truncated JSON")
	}
	return fmt.Errorf("request: %v", err)
}

func lineCol(body []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset && i < int64(len(body)); i++ {
		if body[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
