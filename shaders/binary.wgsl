// Elementwise op of two operands with GoMLX's broadcasting: each operand is a scalar or
// has the output's rank with dimensions equal to the output's or 1 (stride 0).
// params: [0] n, [1] rank, [2] mode (bit 0: a is dense like the output, bit 1: b is),
// then dims[rank], aStrides[rank], bStrides[rank].
@group(0) @binding(0) var<storage, read> a: array<{{TA}}>;
@group(0) @binding(1) var<storage, read> b: array<{{TA}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{TO}}>;
@group(0) @binding(3) var<storage, read> params: array<u32>;

fn op(x: {{TA}}, y: {{TA}}) -> {{TO}} {
  {{BODY}}
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  let idx = binary_indices(i);
  let ia = idx.x;
  let ib = idx.y;
  out[i] = op(a[ia], b[ib]);
}
