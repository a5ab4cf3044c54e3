// Elementwise conversions that read or write 64-bit values as pairs of 32-bit words
// (little-endian: low word first), since WGSL has no f64 or i64. params: [0] n.
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> params: array<u32>;

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

// f64 bits of an i32, exact.
fn i32_to_f64(x: i32) -> vec2<u32> {
  if (x == 0) { return vec2<u32>(0u, 0u); }
  var s = 0u;
  var mag = u32(x);
  if (x < 0) {
    s = 0x80000000u;
    mag = u32(-(x + 1)) + 1u;
  }
  let p = firstLeadingBit(mag); // value = 1.f * 2^p
  let e64 = p + 1023u;
  let frac = mag ^ (1u << p); // p bits below the leading one
  // The 52-bit mantissa is frac << (52 - p): hi gets bits [32, 52), lo bits [0, 32).
  var hi = 0u;
  var lo = 0u;
  if (p <= 20u) {
    hi = frac << (20u - p);
  } else {
    hi = frac >> (p - 20u);
    lo = frac << (52u - p);
  }
  return vec2<u32>(lo, s | (e64 << 20u) | hi);
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

// f32 of an i64 (lo, hi): exact for |x| < 2^24, else rounded twice (on the magnitude).
fn i64_to_f32(lo: u32, hi: u32) -> f32 {
  let l = bitcast<i32>(lo);
  if (hi == select(0u, 0xffffffffu, l < 0)) { return f32(l); } // fits in an i32
  if ((hi & 0x80000000u) == 0u) { return f32(hi) * 4294967296.0 + f32(lo); }
  // Negative: magnitude = ~x + 1.
  let nlo = ~lo + 1u;
  let nhi = ~hi + select(0u, 1u, nlo == 0u);
  return -(f32(nhi) * 4294967296.0 + f32(nlo));
}

fn i32_to_i64(x: i32) -> vec2<u32> {
  return vec2<u32>(bitcast<u32>(x), select(0u, 0xffffffffu, x < 0));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  {{BODY}}
}
