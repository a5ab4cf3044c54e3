// Helpers shared by every kernel. Float classification works on the bits: WGSL
// compilers may assume that floats are finite, so x != x is not a reliable NaN test.

const WG: u32 = 64u;

fn is_nan_f32(x: f32) -> bool {
  let b = bitcast<u32>(x);
  return (b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu) != 0u;
}

fn is_finite_f32(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// linear_id is the element index of a 1-D launch spread over a 2-D grid of workgroups
// (a dimension holds at most 65535 workgroups).
fn linear_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn max_f32(x: f32, y: f32) -> f32 {
  if (is_nan_f32(x)) { return x; }
  if (is_nan_f32(y)) { return y; }
  return max(x, y);
}

fn min_f32(x: f32, y: f32) -> f32 {
  if (is_nan_f32(x)) { return x; }
  if (is_nan_f32(y)) { return y; }
  return min(x, y);
}

// pow_f32 follows Go's math.Pow for negative bases with integer exponents. Integer
// exponents below 2^24 use exponentiation by squaring: WGSL's pow (exp2(y*log2(x)))
// is not precise enough for Adam's 1 - beta^t.
fn pow_f32(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (y == floor(y) && abs(y) < 16777216.0) {
    var e = u32(abs(y));
    var base = x;
    var r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    if (y < 0.0) { return 1.0 / r; }
    return r;
  }
  if (x < 0.0 && y == floor(y)) {
    let r = pow(-x, y);
    if (abs(y % 2.0) == 1.0) { return -r; }
    return r;
  }
  if (x == 0.0) {
    if (y > 0.0) { return 0.0; }
    // +inf, built from the runtime x (+0 here): Tint rejects a constant bitcast to inf.
    return bitcast<f32>(0x7f800000u | (bitcast<u32>(x) & 0x7fffffffu));
  }
  return pow(x, y);
}

// expm1_f32 and log1p_f32 use Kahan's tricks to keep the precision near 0.
fn expm1_f32(x: f32) -> f32 {
  let u = exp(x);
  if (u == 1.0) { return x; }
  let um1 = u - 1.0;
  if (um1 == -1.0) { return -1.0; }
  if (!is_finite_f32(u)) { return u; }
  return um1 * (x / log(u));
}

fn log1p_f32(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * (x / (u - 1.0));
}

fn logistic_f32(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

// erf_f32: Abramowitz & Stegun 7.1.26 refined (max abs error ~1.2e-7).
fn erf_f32(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * abs(x));
  let y = 1.0 - t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  if (x >= 0.0) { return y; }
  return -y;
}

fn sign_f32(x: f32) -> f32 {
  if (is_nan_f32(x)) { return x; }
  if (x > 0.0) { return 1.0; }
  if (x < 0.0) { return -1.0; }
  return x;
}

// float64 values are stored as pairs of 32-bit words (lo, hi): WGSL has no f64.

// f64 bits (lo, hi) of an f32, exact.
fn f32_to_f64(x: f32) -> vec2<u32> {
  let bits = bitcast<u32>(x);
  let s = bits & 0x80000000u;
  let e = (bits >> 23u) & 0xffu;
  let m = bits & 0x7fffffu;
  if (e == 0xffu) {
    return vec2<u32>(m << 29u, s | 0x7ff00000u | (m >> 3u));
  }
  if (e == 0u) {
    if (m == 0u) { return vec2<u32>(0u, s); }
    var mm = m;
    var ee = 1i;
    while ((mm & 0x800000u) == 0u) {
      mm = mm << 1u;
      ee = ee - 1;
    }
    mm = mm & 0x7fffffu;
    let e64 = u32(ee - 127 + 1023);
    return vec2<u32>(mm << 29u, s | (e64 << 20u) | (mm >> 3u));
  }
  let e64 = e - 127u + 1023u;
  return vec2<u32>(m << 29u, s | (e64 << 20u) | (m >> 3u));
}

// f32 of f64 bits, rounded to nearest even (denormal results lose precision).
fn f64_to_f32(lo: u32, hi: u32) -> f32 {
  let s = hi & 0x80000000u;
  let e = (hi >> 20u) & 0x7ffu;
  let mh = hi & 0xfffffu;
  if (e == 0x7ffu) {
    if (mh != 0u || lo != 0u) { return bitcast<f32>(s | 0x7fc00000u); }
    return bitcast<f32>(s | 0x7f800000u);
  }
  var e32 = i32(e) - 1023 + 127;
  if (e32 >= 255) { return bitcast<f32>(s | 0x7f800000u); }
  if (e32 <= 0) {
    if (e == 0u) { return bitcast<f32>(s); }
    let v = ldexp(f32(mh | 0x100000u), i32(e) - 1023 - 20);
    return bitcast<f32>(s | bitcast<u32>(v));
  }
  var mant = (mh << 3u) | (lo >> 29u);
  let rest = lo & 0x1fffffffu;
  if (rest > 0x10000000u || (rest == 0x10000000u && (mant & 1u) == 1u)) {
    mant = mant + 1u;
    if (mant == 0x800000u) {
      mant = 0u;
      e32 = e32 + 1;
      if (e32 >= 255) { return bitcast<f32>(s | 0x7f800000u); }
    }
  }
  return bitcast<f32>(s | (u32(e32) << 23u) | mant);
}

// binary_indices maps element i of a broadcasting binary op's output to the elements of its
// operands a (x) and b (y), from the kernel's params: [n, rank, mode, dims[rank],
// strides of a[rank], strides of b[rank]]; mode bit 0 set: a has the output's shape (its
// index is i), bit 1: likewise for b. Every kernel binds params; only binary ones call this.
fn binary_indices(i: u32) -> vec2<u32> {
  let rank = params[1];
  let mode = params[2];
  var ia = i;
  var ib = i;
  if (mode != 3u) {
    var sa = 0u;
    var sb = 0u;
    var rem = i;
    for (var d = rank; d > 0u; d = d - 1u) {
      let dim = params[2u + d];
      let c = rem % dim;
      rem = rem / dim;
      sa = sa + c * params[2u + rank + d];
      sb = sb + c * params[2u + 2u * rank + d];
    }
    if ((mode & 1u) == 0u) { ia = sa; }
    if ((mode & 2u) == 0u) { ib = sb; }
  }
  return vec2<u32>(ia, ib);
}
