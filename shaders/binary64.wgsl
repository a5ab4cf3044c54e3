// Elementwise op of two int64 operands (pairs of 32-bit words, low first) with the
// broadcasting of binary.wgsl. params as in binary.wgsl.
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<storage, read> params: array<u32>;

fn add64(x: vec2<u32>, y: vec2<u32>) -> vec2<u32> {
  let lo = x.x + y.x;
  let carry = select(0u, 1u, lo < x.x);
  return vec2<u32>(lo, x.y + y.y + carry);
}

fn sub64(x: vec2<u32>, y: vec2<u32>) -> vec2<u32> {
  let lo = x.x - y.x;
  let borrow = select(0u, 1u, x.x < y.x);
  return vec2<u32>(lo, x.y - y.y - borrow);
}

fn op(x: vec2<u32>, y: vec2<u32>) -> vec2<u32> {
  {{BODY}}
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  let idx = binary_indices(i);
  let ia = idx.x;
  let ib = idx.y;
  let r = op(vec2<u32>(a[2u * ia], a[2u * ia + 1u]), vec2<u32>(b[2u * ib], b[2u * ib + 1u]));
  out[2u * i] = r.x;
  out[2u * i + 1u] = r.y;
}
