// Elementwise op of three operands (Where, Clamp); an operand is either dense like the
// output or a scalar. params: [0] n, [1] scalar flags (bit k: operand k is a scalar).
@group(0) @binding(0) var<storage, read> a: array<{{TA}}>;
@group(0) @binding(1) var<storage, read> b: array<{{TB}}>;
@group(0) @binding(2) var<storage, read> c: array<{{TB}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{TB}}>;
@group(0) @binding(4) var<storage, read> params: array<u32>;

fn op(x: {{TA}}, y: {{TB}}, z: {{TB}}) -> {{TB}} {
  {{BODY}}
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  let s = params[1];
  out[i] = op(a[select(i, 0u, (s & 1u) != 0u)], b[select(i, 0u, (s & 2u) != 0u)], c[select(i, 0u, (s & 4u) != 0u)]);
}
