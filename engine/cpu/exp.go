package cpu

import "math"

// exp2Table[j] = 2^(j/32).
var exp2Table = func() (t [32]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 32)
	}
	return t
}()

// exp32 is e^x for a float32 x: float32(math.Exp(float64(x))) to within one float32 ulp
// (nearly always equal), faster. In float64: x = (32m + j)·ln2/32 + r with |r| <= ln2/64,
// e^x = 2^m · 2^(j/32) · e^r, e^r by its Taylor polynomial of degree 5 (relative error
// < 3e-15, far below float32's 6e-8), 2^m through the exponent bits. Outside the range
// where e^x is a normal float32 (and for NaN) it defers to math.Exp.
func exp32(x float32) float32 {
	if !(x > -87.3 && x < 88.7) {
		return float32(math.Exp(float64(x)))
	}
	const (
		ln2    = 0.6931471805599453
		round  = 0x1.8p52 // adding and subtracting it rounds a float64 to an integer
		scale  = 32 / ln2
		ln2_32 = ln2 / 32
	)
	xd := float64(x)
	n := (xd*scale + round) - round
	r := xd - n*ln2_32
	ni := int64(n)
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120)))))
	return float32(p * exp2Table[ni&31] * math.Float64frombits(uint64((ni>>5)+1023)<<52))
}

// expSlice sets dst[i] = e^src[i] (dst may be src): with expAVX2 where the CPU has it,
// four at a time, the rest with exp32. Both are within one ulp of float32(math.Exp).
func expSlice(dst, src []float32) {
	dst = dst[:len(src)]
	for i := expVector(dst, src); i < len(src); i++ {
		dst[i] = exp32(src[i])
	}
}
