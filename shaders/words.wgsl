// Elementwise conversions that read or write 64-bit values as pairs of 32-bit words
// (little-endian: low word first), since WGSL has no f64 or i64. params: [0] n.
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> params: array<u32>;

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
