// Where on 64-bit values (pairs of 32-bit words): out = cond ? b : c, elementwise; an
// operand is either dense like the output or a scalar. params: [0] n (elements),
// [1] scalar flags (bit k: operand k is a scalar).
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read> c: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<storage, read> params: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  let s = params[1];
  let ib = select(i, 0u, (s & 2u) != 0u);
  let ic = select(i, 0u, (s & 4u) != 0u);
  if (a[select(i, 0u, (s & 1u) != 0u)] != 0u) {
    out[2u * i] = b[2u * ib];
    out[2u * i + 1u] = b[2u * ib + 1u];
  } else {
    out[2u * i] = c[2u * ic];
    out[2u * i + 1u] = c[2u * ic + 1u];
  }
}
