// Elementwise op of one operand, same shape in and out.
// params: [0] n.
@group(0) @binding(0) var<storage, read> a: array<{{TA}}>;
@group(0) @binding(1) var<storage, read_write> out: array<{{TO}}>;
@group(0) @binding(2) var<storage, read> params: array<u32>;

fn op(x: {{TA}}) -> {{TO}} {
  {{BODY}}
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  out[i] = op(a[i]);
}
