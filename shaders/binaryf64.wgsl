// Elementwise op of two float64 operands (pairs of 32-bit words, low first), computed in
// float32 precision: the operands are rounded to f32, op runs in f32 and its result is
// written back exactly as an f64 (or as a u32 for comparisons). Broadcasting and params
// as in binary.wgsl.
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<storage, read> params: array<u32>;

fn op(x: f32, y: f32) -> {{TO}} {
  {{BODY}}
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  let idx = binary_indices(i);
  let ia = idx.x;
  let ib = idx.y;
  let r = op(f64_to_f32(a[2u * ia], a[2u * ia + 1u]), f64_to_f32(b[2u * ib], b[2u * ib + 1u]));
  {{STORE}}
}
