// Elementwise op of one float64 operand (pairs of 32-bit words, low first), computed in
// float32 precision like binaryf64.wgsl. params: [0] n.
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> params: array<u32>;

fn op(x: f32) -> {{TO}} {
  {{BODY}}
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  let r = op(f64_to_f32(a[2u * i], a[2u * i + 1u]));
  {{STORE}}
}
